// Package local is the local destination: a Hive-partitioned directory of
// Parquet files, one file per partition and slice,
//
//	<root>/<table>/<partition column>=<YYYY-MM-DD>/<slice>.parquet
//
// A slice is the part of a partition one run owns: the job's account, named
// by its merchant code, so that runs of different accounts never replace
// each other's rows. Readers read every Parquet file of a partition.
//
// etl_runs is append-only: each run's records are a file of their own,
//
//	<root>/etl_runs/started_on=<YYYY-MM-DD>/<slice>.<run id>.parquet
//
// which no later run replaces, so runs committing at once never lose each
// other's records. (Warehouses written before kept one <slice>.parquet per
// etl_runs partition; it is read like any other file and never rewritten.)
//
// # The account lock
//
// A run holds its slice's lock, an flock(2) on
// <root>/.ledgerline/lock/<slice>.lock, from Begin until it commits or
// aborts; Begin waits for it while another run of the slice, in any
// process, holds it. So what a run reads of its account's committed state
// (the chargebacks and their rates) is what it commits over: two runs of
// one account, of different jobs or dates, give the result of one serial
// order. The kernel releases the lock of a process that dies. Lock files
// stay: removing one would race with its next taker.
//
// # The commit
//
// A run writes each partition to a temporary file beside its slice file,
// ".<run id>.<slice>.parquet.tmp", whose leading dot hides it from readers
// globbing *.parquet, and syncs it when the partition's writer closes.
// Begin writes the run's marker, <root>/.ledgerline/runs/<slice>.<run
// id>.json (Started adds the run's record to it). Commit then
//
//  1. writes the run's records to temporary files in etl_runs and syncs
//     them;
//  2. syncs every directory a temporary file is in, its table directory
//     and the root, so that every file it is about to rename survives a
//     crash;
//  3. writes the journal, the list of the commit's steps, to
//     <root>/.ledgerline/journal/.<slice>.<run id>.json.tmp, syncs it,
//     renames it to <slice>.<run id>.json and syncs the journal directory.
//     The rename is the commit point: before it the run changed nothing
//     anyone sees, from it on the run is committed;
//  4. takes the journal's steps, in order: each partition's file renamed
//     over its slice file; the slice file of every cleared or empty
//     partition removed; the records renamed into etl_runs; the marker
//     removed. Each step can be taken again: a rename whose source is gone
//     was taken, a removal of nothing is done;
//  5. syncs the directories the steps changed, removes the journal and
//     syncs the journal directory.
//
// A process that dies anywhere in this leaves a warehouse that the next
// run of the slice repairs when it begins, under the slice's lock, before
// anything else: it takes the steps of every journal of the slice again
// and removes the journal (roll forward); for every marker of the slice
// left (a run that died before its commit point), it appends the run's
// record with status abandoned (load.StatusAbandoned: the record the run
// gave Started, or what the marker holds, with finished_at the time it was
// found) and removes the marker, in a commit of its own; and it removes
// every temporary file of the slice in the warehouse (a walk of the whole
// tree). Debris of another slice waits for that slice's next run.
//
// Readers (OpenReader, and Warehouse's read methods) change nothing: they
// resolve every published journal in memory, reading a pending rename's
// source in place of its target and leaving out a pending removal's path,
// so that they see a crashed commit whole from its commit point on, before
// any run finishes it. A live commit holds the warehouse's commit lock
// (<root>/.ledgerline/lock/warehouse.commit.lock) exclusively from the
// journal's write to its removal, and each read call (Partitions,
// ReadPartition, Read) holds it shared, so a call sees each commit whole
// before or after it; two calls may see a commit land between them.
// Readers ignore markers: a dead run's abandoned record appears when the
// next run of its slice begins.
package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// FileName returns the name of slice's Parquet file in a partition.
func FileName(slice string) string { return slice + ".parquet" }

// Warehouse is a local Parquet directory: runs begin there, and it reads
// what they committed. Reading creates nothing.
type Warehouse struct {
	root string
	fs   fileSystem
	now  func() time.Time
}

// New returns the warehouse at root. It touches nothing: the directory is
// created when a run begins.
func New(root string) *Warehouse { return &Warehouse{root: root, fs: osFS{}, now: time.Now} }

// OpenReader returns the warehouse at root for reading, which must exist.
// It creates nothing.
func OpenReader(root string) (*Warehouse, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("local: warehouse: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local: warehouse %s is not a directory", root)
	}
	return New(root), nil
}

// Root returns the directory's path.
func (w *Warehouse) Root() string { return w.root }

// Close does nothing: a local warehouse holds no resources.
func (w *Warehouse) Close() error { return nil }

// Begin starts the run runID of slice; see Open. It waits while another
// run of the slice holds the account lock, until ctx is done.
func (w *Warehouse) Begin(ctx context.Context, slice, runID string) (load.Destination, error) {
	return w.begin(ctx, slice, runID)
}

var (
	_ load.Warehouse   = (*Warehouse)(nil)
	_ load.Destination = (*Dir)(nil)
)

// Dir is the destination of one run in a local Parquet directory. It
// embeds the warehouse it belongs to, and so reads what is committed there.
type Dir struct {
	*Warehouse
	slice string
	runID string
	ended atomic.Bool // set once Commit or Abort has begun

	// lock is the open lock file of the slice, held from Begin until the
	// run ends; begunAt is when it was taken.
	lock    *os.File
	begunAt time.Time
	// published is set when Commit starts to publish the journal.
	published bool

	mu      sync.Mutex
	state   state
	parts   map[partKey]*part
	records []schemas.Run // appended to etl_runs at Commit
	// recordTmps are the temporary files of the records that Abort
	// removes if a Commit failed before renaming them.
	recordTmps []string
}

type state int

const (
	open state = iota
	committed
	aborted
	failed // a Commit failed part-way; only Abort is left
)

type partKey struct {
	table string
	date  civil.Date
}

// part is one partition the run replaces: with a file, or with nothing.
type part struct {
	table schemas.Table
	date  civil.Date
	dir   string
	w     *partitionWriter // nil when cleared
}

var (
	runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)
	slicePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	namePattern  = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// Open returns the directory at root, creating it if needed, for the run
// runID, which replaces slice's file in the partitions it writes or clears.
// The slice (a merchant code) may hold letters, digits, '_' and '-'. The run
// id names the run's temporary files, so it must be unique among runs that
// may overlap; it may hold letters, digits, '.', '_' and '-', and may not
// start with '.'.
//
// Open takes the account lock of the slice, waiting while another run of
// it holds the lock, and recovers what runs of the slice that died left:
// see the package documentation. The run holds the lock until it commits
// or aborts.
func Open(root, slice, runID string) (*Dir, error) {
	return New(root).begin(context.Background(), slice, runID)
}

func (w *Warehouse) begin(ctx context.Context, slice, runID string) (*Dir, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !runIDPattern.MatchString(runID) {
		return nil, fmt.Errorf("local: invalid run id %q", runID)
	}
	if !slicePattern.MatchString(slice) {
		return nil, fmt.Errorf("local: invalid slice name %q", slice)
	}
	for _, sub := range []string{lockSub, runsSub, journalSub} {
		if err := os.MkdirAll(w.control(sub), 0o755); err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
	}
	// Readers wait on the commit lock only once its file exists.
	if f, err := os.OpenFile(filepath.Join(w.control(lockSub), commitLockName), os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	} else {
		f.Close()
	}
	// The control directories must survive a crash to be found after it.
	for _, dir := range []string{filepath.Join(w.root, controlDir), w.root} {
		if err := w.fs.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
	}
	lock, err := w.lockSlice(ctx, slice)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	d := &Dir{Warehouse: w, slice: slice, runID: runID, parts: make(map[partKey]*part), lock: lock, begunAt: w.now()}
	if err := d.recover(ctx); err != nil {
		d.unlock()
		return nil, fmt.Errorf("local: recovering the runs of slice %s that died: %w", slice, err)
	}
	if err := d.writeMarker(runMarker{RunID: runID, Slice: slice, BegunAt: d.begunAt}); err != nil {
		d.unlock()
		return nil, fmt.Errorf("local: run %s: %w", runID, err)
	}
	return d, nil
}

// unlock releases the account lock; closing the file releases the flock.
func (d *Dir) unlock() {
	if d.lock != nil {
		d.lock.Close()
		d.lock = nil
	}
}

// PartitionDir returns the directory of partition date of t.
func (w *Warehouse) PartitionDir(t schemas.Table, date civil.Date) string {
	return filepath.Join(w.root, t.Name, t.Partition+"="+date.String())
}

func (d *Dir) tempName() string { return "." + d.runID + "." + FileName(d.slice) + ".tmp" }

// SlicePath returns the path of the run's slice file in partition date of t.
func (d *Dir) SlicePath(t schemas.Table, date civil.Date) string {
	return filepath.Join(d.PartitionDir(t, date), FileName(d.slice))
}

// checkNames reports an error unless the names of t are safe in paths.
func checkNames(t schemas.Table) error {
	if !namePattern.MatchString(t.Name) || !namePattern.MatchString(t.Partition) {
		return fmt.Errorf("local: table %q partition column %q: not a safe path name", t.Name, t.Partition)
	}
	return nil
}

// add registers the partition date of t, which the run must not have named.
func (d *Dir) add(t schemas.Table, date civil.Date) (*part, error) {
	if err := checkNames(t); err != nil {
		return nil, err
	}
	if !date.IsValid() {
		return nil, fmt.Errorf("local: %s: invalid partition date %v", t.Name, date)
	}
	if t.Name == schemas.Runs().Name {
		return nil, fmt.Errorf("local: %s is append-only: runs add their records with AppendRun", t.Name)
	}
	if err := d.usable(); err != nil {
		return nil, err
	}
	k := partKey{t.Name, date}
	if _, ok := d.parts[k]; ok {
		return nil, fmt.Errorf("local: %s partition %v named twice in run %s", t.Name, date, d.runID)
	}
	p := &part{table: t, date: date, dir: d.PartitionDir(t, date)}
	d.parts[k] = p
	return p, nil
}

// usable reports an error unless the run can still take partitions.
func (d *Dir) usable() error {
	if d.state != open {
		return fmt.Errorf("local: run %s already ended", d.runID)
	}
	return nil
}

// Partition returns a writer whose rows replace partition date of t at
// Commit.
func (d *Dir) Partition(ctx context.Context, t schemas.Table, date civil.Date) (load.PartitionWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	check, err := load.PartitionCheck(t, date)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.add(t, date)
	if err != nil {
		return nil, err
	}
	w, err := d.create(p, check)
	if err != nil {
		delete(d.parts, partKey{t.Name, date})
		return nil, err
	}
	p.w = w
	return w, nil
}

func (d *Dir) create(p *part, check func(any) error) (*partitionWriter, error) {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	tmp := filepath.Join(p.dir, d.tempName())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	bw := &lazyBuffer{f: f}
	pw, err := load.NewParquetWriter(bw, p.table)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, err
	}
	return &partitionWriter{dir: d, path: tmp, f: f, bw: bw, pw: pw, check: check}, nil
}

// Clear replaces partition date of t with nothing at Commit.
func (d *Dir) Clear(ctx context.Context, t schemas.Table, date civil.Date) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.add(t, date)
	return err
}

// Partitions returns the dates of the committed partitions of t.
func (w *Warehouse) Partitions(ctx context.Context, t schemas.Table) ([]civil.Date, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkNames(t); err != nil {
		return nil, err
	}
	unlock, err := w.readLock()
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	defer unlock()
	v, err := w.pending()
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	return w.partitions(t, v)
}

// partitions returns the dates of the partitions of t that hold files in
// view v.
func (w *Warehouse) partitions(t schemas.Table, v *view) ([]civil.Date, error) {
	tableDir := filepath.Join(w.root, t.Name)
	entries, err := os.ReadDir(tableDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	var dates []civil.Date
	prefix := t.Partition + "="
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		date, err := civil.ParseDate(s)
		if err != nil {
			continue
		}
		files, err := sliceFiles(filepath.Join(tableDir, e.Name()), v)
		if err != nil {
			return nil, err
		}
		if len(files) > 0 {
			dates = append(dates, date)
		}
	}
	slices.SortFunc(dates, civil.Date.Compare)
	return dates, nil
}

// ReadPartition calls fn with every committed row of partition date of t,
// of every slice: file by file in name order, each in file order.
func (w *Warehouse) ReadPartition(ctx context.Context, t schemas.Table, date civil.Date, fn func(row any) error) error {
	if err := checkNames(t); err != nil {
		return err
	}
	unlock, err := w.readLock()
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	defer unlock()
	v, err := w.pending()
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return w.readPartition(ctx, t, date, v, nil, fn)
}

// readPartition reads the columns only (every column when empty) of
// partition date of t.
func (w *Warehouse) readPartition(ctx context.Context, t schemas.Table, date civil.Date, v *view, only []string, fn func(row any) error) error {
	files, err := sliceFiles(w.PartitionDir(t, date), v)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := readFile(ctx, name, t, only, fn); err != nil {
			return err
		}
	}
	return nil
}

func readFile(ctx context.Context, name string, t schemas.Table, only []string, fn func(row any) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	defer f.Close()
	if err := load.ReadParquetColumns(ctx, f, t, only, fn); err != nil {
		return fmt.Errorf("local: %s: %w", name, err)
	}
	return nil
}

// sliceFiles returns the files to read of the committed slice files of a
// partition directory in view v, in name order; none if the directory does
// not exist.
func sliceFiles(dir string, v *view) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".parquet") && !strings.HasPrefix(n, ".") {
			files = append(files, filepath.Join(dir, n))
		}
	}
	return v.files(dir, files), nil // ReadDir sorts by name
}

// lazyBuffer buffers the writes to f in a buffer it allocates with the
// first write. A partition of a few rows writes nothing before its
// writer closes, and a run may hold many such writers open at once (the
// chargebacks of every opened_on date): none of them needs the buffer
// until then.
type lazyBuffer struct {
	f  *os.File
	bw *bufio.Writer
}

func (b *lazyBuffer) Write(p []byte) (int, error) {
	if b.bw == nil {
		b.bw = bufio.NewWriterSize(b.f, 256<<10)
	}
	return b.bw.Write(p)
}

// Flush writes out what is buffered.
func (b *lazyBuffer) Flush() error {
	if b.bw == nil {
		return nil
	}
	return b.bw.Flush()
}

// partitionWriter writes one partition to its temporary file.
type partitionWriter struct {
	dir   *Dir
	path  string // the temporary file
	f     *os.File
	bw    *lazyBuffer
	pw    *load.ParquetWriter
	check func(any) error

	mu   sync.Mutex // guards st and err, read by Commit
	st   writerState
	err  error
	rows int64
}

type writerState int

const (
	writerOpen writerState = iota
	writerClosed
)

func (w *partitionWriter) status() (writerState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st, w.err
}

// Write appends row, which must belong to the writer's partition.
func (w *partitionWriter) Write(row any) error {
	if w.dir.ended.Load() {
		return fmt.Errorf("local: run %s already ended", w.dir.runID)
	}
	if err := w.check(row); err != nil {
		return err
	}
	// Close drops pw (a closed writer keeps no buffers). Write and Close
	// run on the run's one writing goroutine, so no lock is taken per row.
	if w.pw == nil {
		return fmt.Errorf("local: %s: write to a closed partition writer", w.path)
	}
	// A refused row leaves the file intact; a failed write breaks it, and
	// Close then reports the error.
	return w.pw.Write(row)
}

// Close finishes the partition's file and syncs it to disk.
func (w *partitionWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.st == writerClosed {
		return w.err
	}
	w.st = writerClosed
	err := w.pw.Close()
	if err == nil {
		err = w.bw.Flush()
	}
	// The run keeps its closed writers until the commit, one per partition
	// of the window: what they buffered must not stay with them.
	rows := w.pw.Rows()
	w.pw, w.bw = nil, nil
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && w.dir.ended.Load() {
		err = fmt.Errorf("local: run %s already ended", w.dir.runID)
	}
	if err != nil {
		w.err = fmt.Errorf("local: %s: %w", w.path, err)
		return w.err
	}
	w.rows = rows
	return nil
}
