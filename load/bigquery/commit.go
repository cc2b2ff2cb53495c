package bigquery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// sortedParts returns the run's partitions by table and date.
func (r *Run) sortedParts() []*part {
	parts := make([]*part, 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b *part) int {
		if c := strings.Compare(a.table.Name, b.table.Name); c != 0 {
			return c
		}
		return a.date.Compare(b.date)
	})
	return parts
}

// tableCommit is what the commit does to one target table.
type tableCommit struct {
	table   schemas.Table
	target  string // qualified name
	staging string // qualified name; empty when no rows were staged
	dates   []civil.Date
}

// commitScript returns the SQL of the commit transaction: for each table,
// delete the slice's rows of the run's partitions and insert the staged
// rows; then insert the run's records into etl_runs (runs, qualified), all
// in one transaction. A transaction that changes tables first checks that
// etl_runs still holds the seen succeeded runs of slice the run began with
// (see stateGuard).
func commitScript(slice string, tables []tableCommit, runs string, records []schemas.Run, seen int64) string {
	var b strings.Builder
	b.WriteString("BEGIN TRANSACTION;\n")
	if len(tables) > 0 {
		b.WriteString(stateGuard(slice, runs, seen))
	}
	for _, tc := range tables {
		dates := make([]string, len(tc.dates))
		for i, d := range tc.dates {
			dates[i] = "DATE '" + d.String() + "'"
		}
		fmt.Fprintf(&b, "DELETE FROM %s WHERE %s IN (%s) AND %s = %s;\n",
			tc.target, quoteIdent(tc.table.Partition), strings.Join(dates, ", "), quoteIdent(sliceColumn), quoteString(slice))
		if tc.staging == "" {
			continue
		}
		list := columnList(tc.table)
		fmt.Fprintf(&b, "INSERT INTO %s (%s)\nSELECT %s FROM %s;\n", tc.target, list, list, tc.staging)
	}
	if len(records) > 0 {
		t := schemas.Runs()
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES\n", runs, columnList(t))
		for i := range records {
			sep := ",\n"
			if i == len(records)-1 {
				sep = ";\n"
			}
			b.WriteString(rowLiteral(t, &records[i]) + sep)
		}
	}
	b.WriteString("COMMIT TRANSACTION;\n")
	return b.String()
}

// columnList returns the quoted columns of t, comma-separated.
func columnList(t schemas.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	return strings.Join(cols, ", ")
}

// AppendRun adds rec to etl_runs at Commit, by an INSERT in the commit
// transaction. The record must be of the run's slice.
func (r *Run) AppendRun(ctx context.Context, rec schemas.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec.MerchantCode != r.slice {
		return fmt.Errorf("bigquery: run record of merchant_code %q appended by the run of slice %q", rec.MerchantCode, r.slice)
	}
	if _, err := literals(schemas.Runs(), &rec); err != nil {
		return fmt.Errorf("bigquery: run record %s: %w", rec.RunID, err)
	}
	if _, err := r.w.ensure(ctx, schemas.Runs()); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return err
	}
	r.records = append(r.records, rec)
	return nil
}

// Commit waits for the run's loads, then replaces the run's partitions and
// appends its records in one transaction, and drops the staging tables.
// It fails, committing nothing, if a partition writer is still open, or
// failed, or its load failed. If ctx ends while the transaction job runs,
// the job may still commit; a rerun of the date gives the same tables
// either way.
func (r *Run) Commit(ctx context.Context) (load.CommitStats, error) {
	r.endMu.Lock()
	defer r.endMu.Unlock()
	parts, err := r.beginCommit(ctx)
	if err != nil {
		return load.CommitStats{}, err
	}
	if err := r.loadTables(ctx); err != nil {
		return load.CommitStats{}, fmt.Errorf("bigquery: commit of run %s: %w", r.runID, err)
	}
	tables, stats := r.tableCommits(parts)
	if err := ctx.Err(); err != nil {
		return load.CommitStats{}, fmt.Errorf("bigquery: commit of run %s: %w", r.runID, err)
	}
	r.mu.Lock()
	records := r.records
	r.mu.Unlock()
	if len(tables) > 0 || len(records) > 0 {
		sql := commitScript(r.slice, tables, qualified(r.w.table(schemas.Runs().Name)), records, r.seen)
		if err := r.commit(ctx, sql); err != nil {
			return load.CommitStats{}, err
		}
	}
	r.mu.Lock()
	r.state = committed
	r.mu.Unlock()
	// Best effort: a staging table left behind expires.
	_ = r.dropStaging(context.WithoutCancel(ctx))
	return stats, nil
}

// tableCommits returns what the commit does to each table for parts, whose
// rows are loaded, and the commit's stats.
func (r *Run) tableCommits(parts []*part) ([]tableCommit, load.CommitStats) {
	var stats load.CommitStats
	var tables []tableCommit
	for _, p := range parts {
		var rows int64
		if p.w != nil {
			_, rows = p.w.status()
		}
		if len(tables) == 0 || tables[len(tables)-1].table.Name != p.table.Name {
			tables = append(tables, tableCommit{table: p.table, target: qualified(r.w.table(p.table.Name))})
		}
		tc := &tables[len(tables)-1]
		tc.dates = append(tc.dates, p.date)
		if rows > 0 {
			r.mu.Lock()
			tc.staging = qualified(r.stagings[p.table.Name].table)
			r.mu.Unlock()
			stats.Partitions++
			stats.Rows += rows
		} else {
			stats.Cleared++
		}
	}
	return tables, stats
}

// commitAttempts bounds the runs of the commit transaction when BigQuery
// aborts it for a concurrent update of one of its tables (by the commit of
// another slice).
const commitAttempts = 3

// commit runs the commit transaction sql. A transaction that BigQuery
// aborted because another one updated the same table meanwhile changed
// nothing, and runs again as a new job. One that failed on a state
// conflict changed nothing either, and fails with ErrStateConflict: only a
// new run, which reads the new state, can commit.
func (r *Run) commit(ctx context.Context, sql string) error {
	for attempt := 1; ; attempt++ {
		id := r.commitJobID(attempt)
		q := r.w.client.Query(sql)
		q.JobID = id
		q.Location = r.w.cfg.Location
		q.Labels = map[string]string{"ledgerline_commit": "true"}
		what := fmt.Sprintf("commit of run %s (job %s)", r.runID, id)
		err := r.w.runJob(ctx, what, id, func() (*bq.Job, error) { return q.Run(ctx) })
		if stateConflict(err) {
			return fmt.Errorf("bigquery: commit of run %s: %w: another run of merchant %s committed since this run read its state; rerun it (%w)", r.runID, ErrStateConflict, r.slice, err)
		}
		if err == nil || attempt == commitAttempts || !concurrentUpdate(err) {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-ctx.Done():
			return fmt.Errorf("%w (then %w)", err, ctx.Err())
		}
	}
}

// concurrentUpdate reports whether err says BigQuery aborted a transaction
// because another transaction updated one of its tables. BigQuery gives no
// reason of its own for it, only the message.
func concurrentUpdate(err error) bool {
	return strings.Contains(err.Error(), "aborted due to concurrent update")
}

// beginCommit checks that the run can commit and ends it: from then on it
// takes no partitions and only Abort is left if the commit fails.
func (r *Run) beginCommit(ctx context.Context) ([]*part, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parts := r.sortedParts()
	for _, p := range parts {
		if p.w == nil {
			continue
		}
		if closed, _ := p.w.status(); !closed {
			return nil, fmt.Errorf("bigquery: commit of run %s: %s partition %v not closed", r.runID, p.table.Name, p.date)
		}
	}
	r.ended.Store(true)
	r.state = failed // until the transaction has committed
	return parts, nil
}

// dropStaging deletes the run's staging tables, reporting what it could not
// delete.
func (r *Run) dropStaging(ctx context.Context) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.stagings))
	for name := range r.stagings {
		names = append(names, name)
	}
	stagings := maps.Clone(r.stagings)
	r.mu.Unlock()
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		st := stagings[name]
		if !st.created.Load() {
			continue
		}
		if err := st.table.Delete(ctx); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("dropping staging table %s: %w", st.table.TableID, err))
			continue
		}
		st.created.Store(false)
	}
	return errors.Join(errs...)
}

// Abort discards everything the run wrote: it stops its loads, removes its
// files and drops its staging tables. The target tables are not touched.
// It is idempotent and does nothing after a successful Commit.
func (r *Run) Abort(ctx context.Context) error {
	r.endMu.Lock()
	defer r.endMu.Unlock()
	r.mu.Lock()
	st := r.state
	r.ended.Store(true)
	r.mu.Unlock()
	if st == committed || st == aborted {
		return nil
	}
	r.mu.Lock()
	files := maps.Clone(r.files)
	r.mu.Unlock()
	for _, tf := range files {
		tf.discard()
	}
	if err := r.dropStaging(ctx); err != nil {
		return fmt.Errorf("bigquery: abort of run %s: %w", r.runID, err)
	}
	r.mu.Lock()
	r.state = aborted
	r.mu.Unlock()
	return nil
}
