package bigquery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// Run is the destination of one run: a load.Destination whose partitions
// replace the rows of the run's slice. It is safe for concurrent use.
type Run struct {
	w     *Warehouse
	slice string
	runID string
	tag   string
	// seen is how many succeeded runs of the slice etl_runs held when the
	// run began; the commit checks it still does.
	seen int64

	sem   chan struct{} // bounds the loads in flight
	ended atomic.Bool   // set once Commit or Abort has begun

	endMu    sync.Mutex // held by Commit and Abort
	mu       sync.Mutex
	state    state
	parts    map[partKey]*part
	stagings map[string]*staging   // by table name
	files    map[string]*tableFile // by table name
	records  []schemas.Run         // inserted into etl_runs by the commit
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

// Begin starts the run runID of slice; see BeginRun.
func (w *Warehouse) Begin(ctx context.Context, slice, runID string) (load.Destination, error) {
	r, err := w.BeginRun(ctx, slice, runID)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// BeginRun starts the run runID, which replaces the rows of slice (a merchant
// code) in the partitions it writes or clears. The slice may hold letters,
// digits, '_' and '-'; the run id may also hold '.', but not first. The
// run id must be unique among the runs of the slice, since it names the
// run's jobs and staging tables: a run that reused the id of an earlier
// one would attach to that run's jobs. BeginRun checks every
// table of the contract against the dataset (see EnsureTables).
//
// BeginRun counts the succeeded runs of slice in etl_runs, and a commit
// that changes tables fails with ErrStateConflict, committing nothing, if
// the count changed meanwhile: another run of the slice committed after
// this one began, and so maybe after it read the slice's committed state.
// Concurrent runs of a slice thus commit only as a serial order of them
// would, provided each reads that state after BeginRun and each run that
// changes data appends its succeeded record (AppendRun) to its commit.
func (w *Warehouse) BeginRun(ctx context.Context, slice, runID string) (*Run, error) {
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
	seen, err := w.succeededRuns(ctx, slice)
	if err != nil {
		return nil, err
	}
	return &Run{
		w:        w,
		slice:    slice,
		runID:    runID,
		seen:     seen,
		tag:      runTag(w.cfg.Project, w.cfg.Dataset, slice, runID),
		sem:      make(chan struct{}, w.cfg.ParallelLoads),
		parts:    make(map[partKey]*part),
		stagings: make(map[string]*staging),
		files:    make(map[string]*tableFile),
	}, nil
}

// LoadJobID returns the id of the load job of table in the run: the same
// for every attempt, so that a retried submit finds the job of the first.
func (r *Run) LoadJobID(table string) string {
	return fmt.Sprintf("ledgerline_%s_load_%s", r.tag, table)
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
	if t.Name == schemas.Runs().Name {
		return nil, fmt.Errorf("bigquery: %s is append-only: runs add their records with AppendRun", t.Name)
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
	tf, err := r.file(p.table)
	if err != nil {
		return nil, err
	}
	sc, _ := p.table.Column(sliceColumn)
	return &partitionWriter{run: r, part: p, file: tf, check: check, slice: sc.Field}, nil
}

// file returns the run's Parquet file of t, creating it on first use.
func (r *Run) file(t schemas.Table) (*tableFile, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tf := r.files[t.Name]; tf != nil {
		return tf, nil
	}
	f, err := os.CreateTemp(r.w.cfg.TempDir, "ledgerline-"+t.Name+"-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("bigquery: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	pqw, err := load.NewParquetWriter(bw, t)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	tf := &tableFile{table: t, f: f, bw: bw, pw: pqw}
	r.files[t.Name] = tf
	return tf, nil
}

// tableFile is the run's Parquet file of one table: the rows of every
// partition of the table the run writes, in the order written. Commit
// loads it with one load job, and BigQuery routes each row to its
// partition by the partition column, so that a run costs one load job per
// table, however many days its window has (BigQuery's quota is per
// project and day).
type tableFile struct {
	table schemas.Table
	mu    sync.Mutex
	f     *os.File
	bw    *bufio.Writer
	pw    *load.ParquetWriter
	err   error // a write failed: the file is unusable
	done  bool  // finished: closed, and loaded or removed
}

func (tf *tableFile) write(row any) error {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.err != nil {
		return tf.err
	}
	if tf.done {
		return fmt.Errorf("bigquery: %s file already finished", tf.table.Name)
	}
	if err := tf.pw.Write(row); err != nil {
		tf.err = fmt.Errorf("bigquery: writing %s: %w", tf.table.Name, err)
		return tf.err
	}
	return nil
}

// finish closes the file and returns its rows; the file is removed if it
// has none or closing fails.
func (tf *tableFile) finish() (int64, error) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.done {
		return tf.pw.Rows(), tf.err
	}
	tf.done = true
	err := tf.err
	if err == nil {
		err = tf.pw.Close()
	}
	if err == nil {
		err = tf.bw.Flush()
	}
	if cerr := tf.f.Close(); err == nil {
		err = cerr
	}
	if err != nil || tf.pw.Rows() == 0 {
		os.Remove(tf.f.Name())
	}
	if err != nil {
		tf.err = fmt.Errorf("bigquery: %s file: %w", tf.table.Name, err)
	}
	return tf.pw.Rows(), tf.err
}

// discard closes and removes the file, whatever state it is in.
func (tf *tableFile) discard() {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if !tf.done {
		tf.done = true
		tf.f.Close()
	}
	os.Remove(tf.f.Name())
}

// partitionWriter writes the rows of one partition to the run's file of
// its table.
type partitionWriter struct {
	run   *Run
	part  *part
	file  *tableFile
	check func(any) error
	slice int // field index of merchant_code

	// Write and Close are called by the goroutine that writes the
	// partition; mu guards what Commit reads of them.
	mu     sync.Mutex
	closed bool
	rows   int64
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
	if err := w.file.write(row); err != nil {
		return err
	}
	w.mu.Lock()
	w.rows++
	w.mu.Unlock()
	return nil
}

// Close ends the partition; its rows are loaded with the rest of its
// table's at Commit.
func (w *partitionWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.run.ended.Load() {
		return fmt.Errorf("bigquery: run %s already ended", w.run.runID)
	}
	return nil
}

// status returns whether the writer is closed and how many rows it wrote.
func (w *partitionWriter) status() (closed bool, rows int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed, w.rows
}

// loadTables finishes the run's table files and loads each that has rows
// into its staging table, up to ParallelLoads at once; it returns the first
// error.
func (r *Run) loadTables(ctx context.Context) error {
	r.mu.Lock()
	files := make([]*tableFile, 0, len(r.files))
	for _, tf := range r.files {
		files = append(files, tf)
	}
	r.mu.Unlock()
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, tf := range files {
		rows, err := tf.finish()
		if err != nil || rows == 0 {
			errs[i] = err
			continue
		}
		wg.Go(func() {
			defer os.Remove(tf.f.Name())
			errs[i] = r.loadFile(ctx, tf.table, tf.f.Name())
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loadFile runs the load job of table t from the Parquet file at path.
func (r *Run) loadFile(ctx context.Context, t schemas.Table, path string) error {
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	st, err := r.staging(ctx, t)
	if err != nil {
		return err
	}
	id := r.LoadJobID(t.Name)
	what := fmt.Sprintf("load of %s (job %s)", t.Name, id)
	submit := func() (*bq.Job, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src := bq.NewReaderSource(f)
		src.SourceFormat = bq.Parquet
		src.Schema = Schema(t)
		l := st.table.LoaderFrom(src)
		l.JobID = id
		l.Location = r.w.cfg.Location
		l.CreateDisposition = bq.CreateNever
		l.WriteDisposition = bq.WriteAppend
		l.DecimalTargetTypes = []bq.DecimalTargetType{bq.NumericTargetType}
		l.Labels = map[string]string{"ledgerline_table": t.Name}
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
