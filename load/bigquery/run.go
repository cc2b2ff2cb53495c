package bigquery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
	"google.golang.org/api/googleapi"
)

// Run is the destination of one run: a load.Destination whose partitions
// replace the rows of the run's slice. It is safe for concurrent use.
type Run struct {
	w     *Warehouse
	slice string
	runID string
	tag   string

	// ctx is the context of the run's background loads; cancel ends them.
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{} // bounds the loads in flight
	loads  sync.WaitGroup
	ended  atomic.Bool // set once Commit or Abort has begun

	endMu    sync.Mutex // held by Commit and Abort
	mu       sync.Mutex
	state    state
	parts    map[partKey]*part
	stagings map[string]*staging // by table name
}

type state int

const (
	open state = iota
	committed
	aborted
	failed // Commit failed; only Abort is left
)

type partKey struct {
	table string
	date  civil.Date
}

// part is one partition the run replaces: with rows, or with nothing.
type part struct {
	table schemas.Table
	date  civil.Date
	w     *partitionWriter // nil when cleared
}

// staging is the staging table of one target table in a run.
type staging struct {
	table *bq.Table
	once  sync.Once
	err   error
	// created is set once the table may exist, so Abort drops it.
	created atomic.Bool
}

// Begin starts the run runID, which replaces the rows of slice (a merchant
// code) in the partitions it writes or clears. The slice may hold letters,
// digits, '_' and '-'; the run id may also hold '.', but not first. The
// run id must be unique among the runs of the slice, since it names the
// run's jobs and staging tables: a run that reused the id of an earlier
// one would attach to that run's jobs. Begin checks every
// table of the contract against the dataset (see EnsureTables).
func (w *Warehouse) Begin(ctx context.Context, slice, runID string) (*Run, error) {
	if !runIDPattern.MatchString(runID) {
		return nil, fmt.Errorf("bigquery: invalid run id %q (want letters, digits, '.', '_' and '-', not starting with '.')", runID)
	}
	if !slicePattern.MatchString(slice) {
		return nil, fmt.Errorf("bigquery: invalid slice %q (want letters, digits, _ and -)", slice)
	}
	if err := w.EnsureTables(ctx, schemas.All()...); err != nil {
		return nil, err
	}
	if err := w.ensureDataset(ctx, w.cfg.stagingDataset()); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &Run{
		w:        w,
		slice:    slice,
		runID:    runID,
		tag:      runTag(w.cfg.Project, w.cfg.Dataset, slice, runID),
		ctx:      rctx,
		cancel:   cancel,
		sem:      make(chan struct{}, w.cfg.ParallelLoads),
		parts:    make(map[partKey]*part),
		stagings: make(map[string]*staging),
	}, nil
}

// LoadJobID returns the id of the load job of partition date of table in
// the run: the same for every attempt, so that a retried submit finds the
// job of the first.
func (r *Run) LoadJobID(table string, date civil.Date) string {
	return fmt.Sprintf("ledgerline_%s_load_%s_%s", r.tag, table, date.In(time.UTC).Format("20060102"))
}

// CommitJobID returns the id of the run's commit transaction job. A
// transaction that BigQuery aborts for a concurrent update runs again with
// the suffix _2, then _3.
func (r *Run) CommitJobID() string { return r.commitJobID(1) }

func (r *Run) commitJobID(attempt int) string {
	id := "ledgerline_" + r.tag + "_commit"
	if attempt > 1 {
		id += fmt.Sprintf("_%d", attempt)
	}
	return id
}

// StagingTable returns the name of the run's staging table of table.
func (r *Run) StagingTable(table string) string {
	return "ledgerline_staging_" + strings.ReplaceAll(r.tag, "-", "_") + "_" + table
}

// usable reports an error unless the run can still take partitions.
func (r *Run) usable() error {
	if r.state != open {
		return fmt.Errorf("bigquery: run %s already ended", r.runID)
	}
	return nil
}

// add registers partition date of t, which the run must not have named.
func (r *Run) add(ctx context.Context, t schemas.Table, date civil.Date) (*part, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := load.PartitionCheck(t, date); err != nil {
		return nil, err
	}
	if c, ok := t.Column(sliceColumn); !ok || c.Type != schemas.String || c.Nullable {
		return nil, fmt.Errorf("bigquery: table %s has no required STRING column %s to slice by", t.Name, sliceColumn)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.usable(); err != nil {
		return nil, err
	}
	k := partKey{t.Name, date}
	if _, ok := r.parts[k]; ok {
		return nil, fmt.Errorf("bigquery: %s partition %v named twice in run %s", t.Name, date, r.runID)
	}
	p := &part{table: t, date: date}
	r.parts[k] = p
	return p, nil
}

// remove forgets a partition whose writer could not be made.
func (r *Run) remove(p *part) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.parts, partKey{p.table.Name, p.date})
}

// Partition returns a writer whose rows replace the run's slice of
// partition date of t at Commit. Every row's merchant_code must be the
// run's slice.
func (r *Run) Partition(ctx context.Context, t schemas.Table, date civil.Date) (load.PartitionWriter, error) {
	if _, err := r.w.ensure(ctx, t); err != nil {
		return nil, err
	}
	p, err := r.add(ctx, t, date)
	if err != nil {
		return nil, err
	}
	pw, err := r.newWriter(p)
	if err != nil {
		r.remove(p)
		return nil, err
	}
	r.mu.Lock()
	p.w = pw
	r.mu.Unlock()
	return pw, nil
}

// Clear replaces the run's slice of partition date of t with nothing at
// Commit.
func (r *Run) Clear(ctx context.Context, t schemas.Table, date civil.Date) error {
	if _, err := r.w.ensure(ctx, t); err != nil {
		return err
	}
	_, err := r.add(ctx, t, date)
	return err
}

func (r *Run) newWriter(p *part) (*partitionWriter, error) {
	check, err := load.PartitionCheck(p.table, p.date)
	if err != nil {
		return nil, err
	}
	sc, _ := p.table.Column(sliceColumn)
	f, err := os.CreateTemp(r.w.cfg.TempDir, "ledgerline-"+p.table.Name+"-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("bigquery: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	pqw, err := load.NewParquetWriter(bw, p.table)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &partitionWriter{run: r, part: p, f: f, bw: bw, pw: pqw, check: check, slice: sc.Field, done: make(chan struct{})}, nil
}

// partitionWriter writes one partition to a temporary Parquet file, which
// Close hands to a background load job.
type partitionWriter struct {
	run   *Run
	part  *part
	f     *os.File
	bw    *bufio.Writer
	pw    *load.ParquetWriter
	check func(any) error
	slice int // field index of merchant_code

	mu     sync.Mutex
	closed bool
	err    error // writing or loading failed
	rows   int64
	done   chan struct{} // closed when the load has ended (or was never needed)
}

// Write appends row, which must belong to the writer's partition and the
// run's slice.
func (w *partitionWriter) Write(row any) error {
	if w.run.ended.Load() {
		return fmt.Errorf("bigquery: run %s already ended", w.run.runID)
	}
	if err := w.check(row); err != nil {
		return err
	}
	if mc := reflect.ValueOf(row).Elem().Field(w.slice).String(); mc != w.run.slice {
		return fmt.Errorf("bigquery: table %s: row of merchant_code %q written by the run of slice %q", w.part.table.Name, mc, w.run.slice)
	}
	return w.pw.Write(row)
}

// Close finishes the partition's file and starts its load into the
// staging table; the load's outcome is reported by Commit.
func (w *partitionWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.closed = true
	err := w.pw.Close()
	if err == nil {
		err = w.bw.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && w.run.ended.Load() {
		err = fmt.Errorf("bigquery: run %s already ended", w.run.runID)
	}
	if err != nil {
		os.Remove(w.f.Name())
		close(w.done)
		w.err = fmt.Errorf("bigquery: %s partition %v: %w", w.part.table.Name, w.part.date, err)
		return w.err
	}
	w.rows = w.pw.Rows()
	if w.rows == 0 {
		os.Remove(w.f.Name())
		close(w.done)
		return nil
	}
	w.run.loads.Add(1)
	go w.load()
	return nil
}

// status returns whether the writer is closed and its error so far.
func (w *partitionWriter) status() (closed bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed, w.err
}

// load loads the file into the staging table, then removes it.
func (w *partitionWriter) load() {
	r := w.run
	defer r.loads.Done()
	defer close(w.done)
	defer os.Remove(w.f.Name())
	if err := r.loadFile(w.part, w.f.Name()); err != nil {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
	}
}

// loadFile runs the load job of partition p from the Parquet file at path.
func (r *Run) loadFile(p *part, path string) error {
	ctx := r.ctx
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	st, err := r.staging(ctx, p.table)
	if err != nil {
		return err
	}
	id := r.LoadJobID(p.table.Name, p.date)
	what := fmt.Sprintf("load of %s partition %v (job %s)", p.table.Name, p.date, id)
	submit := func() (*bq.Job, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src := bq.NewReaderSource(f)
		src.SourceFormat = bq.Parquet
		src.Schema = Schema(p.table)
		l := st.table.LoaderFrom(src)
		l.JobID = id
		l.Location = r.w.cfg.Location
		l.CreateDisposition = bq.CreateNever
		l.WriteDisposition = bq.WriteAppend
		l.DecimalTargetTypes = []bq.DecimalTargetType{bq.NumericTargetType}
		l.Labels = map[string]string{"ledgerline_table": p.table.Name}
		return l.Run(ctx)
	}
	return r.w.runJob(ctx, what, id, submit)
}

// staging returns the run's staging table of t, creating it on first use.
func (r *Run) staging(ctx context.Context, t schemas.Table) (*staging, error) {
	r.mu.Lock()
	st := r.stagings[t.Name]
	if st == nil {
		st = &staging{table: r.w.client.Dataset(r.w.cfg.stagingDataset()).Table(r.StagingTable(t.Name))}
		r.stagings[t.Name] = st
	}
	r.mu.Unlock()
	st.once.Do(func() {
		st.created.Store(true)
		md := &bq.TableMetadata{
			Description:    fmt.Sprintf("ledgerline staging of %s for run %s of %s; dropped at the end of the run.", t.Name, r.runID, r.slice),
			Schema:         Schema(t),
			ExpirationTime: r.w.now().Add(r.w.cfg.StagingExpiration),
			Labels:         map[string]string{"ledgerline_staging": "true"},
		}
		err := st.table.Create(ctx, md)
		if err != nil && !isStatus(err, http.StatusConflict) { // 409: a retried create
			st.err = fmt.Errorf("bigquery: creating staging table %s: %w", st.table.TableID, err)
		}
	})
	return st, st.err
}

// runJob submits a job with submit and waits for it. A submit that fails
// in a way that may have created the job anyway is retried with the same
// job id; when BigQuery answers that the job exists, runJob waits for that
// job instead.
func (w *Warehouse) runJob(ctx context.Context, what, id string, submit func() (*bq.Job, error)) error {
	const attempts = 4
	var job *bq.Job
	var err error
	for attempt := 1; ; attempt++ {
		job, err = submit()
		if err == nil {
			break
		}
		if isStatus(err, http.StatusConflict) {
			job, err = w.client.JobFromIDLocation(ctx, id, w.cfg.Location)
			if err != nil {
				return fmt.Errorf("bigquery: %s: attaching to the existing job: %w", what, err)
			}
			break
		}
		if attempt == attempts || !retryable(err) || ctx.Err() != nil {
			return fmt.Errorf("bigquery: %s: %w", what, err)
		}
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-ctx.Done():
			return fmt.Errorf("bigquery: %s: %w", what, ctx.Err())
		}
	}
	status, err := job.Wait(ctx)
	if err != nil {
		return fmt.Errorf("bigquery: %s: %w", what, err)
	}
	if err := status.Err(); err != nil {
		return &JobError{What: what, JobID: id, Err: err, Errors: status.Errors}
	}
	return nil
}

// retryable reports whether a failed submit may succeed when repeated.
func retryable(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500
	}
	var nerr net.Error
	return errors.As(err, &nerr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// JobError is a BigQuery job that ended with an error.
type JobError struct {
	What  string
	JobID string
	// Err is the job's error result, a *bigquery.Error with BigQuery's
	// reason.
	Err error
	// Errors are the errors the job reported, such as the rows a load
	// could not read.
	Errors []*bq.Error
}

// maxErrors is how many of a job's errors a JobError message shows.
const maxErrors = 5

func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bigquery: %s failed: %s", e.What, describeError(e.Err))
	n := 0
	for _, je := range e.Errors {
		if je == nil || (e.Err != nil && je.Error() == e.Err.Error()) {
			continue
		}
		if n == maxErrors {
			fmt.Fprintf(&b, "; and %d more", len(e.Errors)-n)
			break
		}
		if n == 0 {
			b.WriteString("; first errors: ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(describeError(je))
		n++
	}
	return b.String()
}

func (e *JobError) Unwrap() error { return e.Err }

func describeError(err error) string {
	var be *bq.Error
	if !errors.As(err, &be) {
		return err.Error()
	}
	s := be.Message
	if be.Reason != "" {
		s = be.Reason + ": " + s
	}
	if be.Location != "" {
		s += " (at " + be.Location + ")"
	}
	return s
}

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
// rows, all in one transaction.
func commitScript(slice string, tables []tableCommit) string {
	var b strings.Builder
	b.WriteString("BEGIN TRANSACTION;\n")
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
		cols := make([]string, len(tc.table.Columns))
		for i, c := range tc.table.Columns {
			cols[i] = quoteIdent(c.Name)
		}
		list := strings.Join(cols, ", ")
		fmt.Fprintf(&b, "INSERT INTO %s (%s)\nSELECT %s FROM %s;\n", tc.target, list, list, tc.staging)
	}
	b.WriteString("COMMIT TRANSACTION;\n")
	return b.String()
}

// Commit waits for the run's loads, then replaces the run's partitions in
// one transaction and drops the staging tables. It fails, committing
// nothing, if a partition writer is still open, or failed, or its load
// failed. If ctx ends while the transaction job runs, the job may still
// commit; a rerun of the date gives the same tables either way.
func (r *Run) Commit(ctx context.Context) (load.CommitStats, error) {
	r.endMu.Lock()
	defer r.endMu.Unlock()
	parts, err := r.beginCommit(ctx)
	if err != nil {
		return load.CommitStats{}, err
	}
	var stats load.CommitStats
	var tables []tableCommit
	for _, p := range parts {
		if p.w != nil {
			select {
			case <-p.w.done:
			case <-ctx.Done():
				return load.CommitStats{}, fmt.Errorf("bigquery: commit of run %s: waiting for loads: %w", r.runID, ctx.Err())
			}
			if _, err := p.w.status(); err != nil {
				return load.CommitStats{}, fmt.Errorf("bigquery: commit of run %s: %w", r.runID, err)
			}
		}
		if len(tables) == 0 || tables[len(tables)-1].table.Name != p.table.Name {
			tables = append(tables, tableCommit{table: p.table, target: qualified(r.w.table(p.table.Name))})
		}
		tc := &tables[len(tables)-1]
		tc.dates = append(tc.dates, p.date)
		if p.w != nil && p.w.rows > 0 {
			r.mu.Lock()
			tc.staging = qualified(r.stagings[p.table.Name].table)
			r.mu.Unlock()
			stats.Partitions++
			stats.Rows += p.w.rows
		} else {
			stats.Cleared++
		}
	}
	if err := ctx.Err(); err != nil {
		return load.CommitStats{}, fmt.Errorf("bigquery: commit of run %s: %w", r.runID, err)
	}
	if len(tables) > 0 {
		if err := r.commit(ctx, commitScript(r.slice, tables)); err != nil {
			return load.CommitStats{}, err
		}
	}
	r.mu.Lock()
	r.state = committed
	r.mu.Unlock()
	r.cancel()
	// Best effort: a staging table left behind expires.
	_ = r.dropStaging(context.WithoutCancel(ctx))
	return stats, nil
}

// commitAttempts bounds the runs of the commit transaction when BigQuery
// aborts it for a concurrent update of one of its tables (by the commit of
// another slice).
const commitAttempts = 3

// commit runs the commit transaction sql. A transaction that BigQuery
// aborted because another one updated the same table meanwhile changed
// nothing, and runs again as a new job.
func (r *Run) commit(ctx context.Context, sql string) error {
	for attempt := 1; ; attempt++ {
		id := r.commitJobID(attempt)
		q := r.w.client.Query(sql)
		q.JobID = id
		q.Location = r.w.cfg.Location
		q.Labels = map[string]string{"ledgerline_commit": "true"}
		what := fmt.Sprintf("commit of run %s (job %s)", r.runID, id)
		err := r.w.runJob(ctx, what, id, func() (*bq.Job, error) { return q.Run(ctx) })
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
		switch closed, err := p.w.status(); {
		case !closed:
			return nil, fmt.Errorf("bigquery: commit of run %s: %s partition %v not closed", r.runID, p.table.Name, p.date)
		case err != nil:
			return nil, fmt.Errorf("bigquery: commit of run %s: %w", r.runID, err)
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
	parts := r.sortedParts()
	r.mu.Unlock()
	if st == committed || st == aborted {
		return nil
	}
	r.cancel()
	r.loads.Wait()
	for _, p := range parts {
		if p.w == nil {
			continue
		}
		if closed, _ := p.w.status(); !closed {
			p.w.f.Close()
			os.Remove(p.w.f.Name())
		}
	}
	if err := r.dropStaging(ctx); err != nil {
		return fmt.Errorf("bigquery: abort of run %s: %w", r.runID, err)
	}
	r.mu.Lock()
	r.state = aborted
	r.mu.Unlock()
	return nil
}
