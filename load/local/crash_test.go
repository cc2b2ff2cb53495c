package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/schemas"
)

var (
	errCrashed = errors.New("crashed")
	errIO      = errors.New("input/output error")
)

// crashFS is the file system of a process that dies after a given number
// of steps: the steps before are taken, the rest fail and change nothing.
// Its log names every step taken.
type crashFS struct {
	mu    sync.Mutex
	after int // steps to take before dying; negative: never dies
	log   []string
	dead  bool
	// pause, when set, is called instead of dying: the process stops there
	// (and is killed from outside).
	pause func()
	// failOnce makes the step after the first after fail with an I/O
	// error, and the steps after it work: no crash, a failing disk.
	failOnce bool
}

func (c *crashFS) arm(after int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after, c.log, c.dead = after, nil, false
}

func (c *crashFS) step(desc string, do func() error) error {
	c.mu.Lock()
	if c.failOnce && c.after >= 0 && len(c.log) == c.after {
		c.log = append(c.log, "failed: "+desc)
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", desc, errIO)
	}
	if !c.failOnce && (c.dead || (c.after >= 0 && len(c.log) >= c.after)) {
		c.dead = true
		pause := c.pause
		c.mu.Unlock()
		if pause != nil {
			pause()
		}
		return fmt.Errorf("%s: %w", desc, errCrashed)
	}
	c.log = append(c.log, desc)
	c.mu.Unlock()
	return do()
}

// short names path by its last two elements.
func short(path string) string {
	return filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path)))
}

func (c *crashFS) Rename(oldpath, newpath string) error {
	return c.step("rename "+short(oldpath)+" → "+filepath.Base(newpath), func() error { return os.Rename(oldpath, newpath) })
}

func (c *crashFS) Remove(name string) error {
	return c.step("remove "+short(name), func() error { return os.Remove(name) })
}

func (c *crashFS) Sync(f *os.File) error {
	return c.step("fsync "+short(f.Name()), f.Sync)
}

func (c *crashFS) SyncDir(dir string) error {
	return c.step("fsync dir "+short(dir), func() error { return osFS{}.SyncDir(dir) })
}

var (
	crashDay1 = civil.Date{Year: 2026, Month: 10, Day: 30}
	crashDay2 = civil.Date{Year: 2026, Month: 10, Day: 31}
)

// runRecord returns the etl_runs record of run id of slice M1.
func runRecord(id string, day civil.Date) *schemas.Run {
	at := time.Date(day.Year, day.Month, day.Day, 2, 0, 0, 0, time.UTC)
	return &schemas.Run{RunID: id, Job: "nightly", Account: "main", MerchantCode: "M1", BusinessDate: day.AddDays(-1),
		Status: load.StatusSucceeded, StartedAt: at, StartedOn: day, FinishedAt: at.Add(time.Minute), DurationMS: 60_000}
}

// crashWant is the content of the warehouse before and after the crashed
// run: table name → rows, etl_runs included.
type crashWant map[string][]any

// crashBase commits the data the crashed run replaces, as run "base" of M1
// and run "other" of M2, and returns it.
func crashBase(t *testing.T, root string) crashWant {
	t.Helper()
	want := crashWant{}
	parts := []struct {
		slice string
		tab   schemas.Table
		date  civil.Date
		n     int
	}{
		{"M1", schemas.Orders(), crashDay1, 3},
		{"M1", schemas.OrderItems(), crashDay1, 2},
		{"M1", schemas.SubscriptionHistory(), crashDay1, 2},
		{"M1", schemas.Chargebacks(), crashDay2, 2},
		{"M2", schemas.Orders(), crashDay1, 4},
	}
	for _, slice := range []string{"M1", "M2"} {
		d, err := Open(root, slice, "base")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.slice != slice {
				continue
			}
			rows := loadtest.Rows(p.tab, p.date, p.n, len(slice))
			writePartition(t, d, p.tab, p.date, rows)
			want[p.tab.Name] = append(want[p.tab.Name], rows...)
		}
		if slice == "M1" {
			rec := runRecord("base", crashDay1)
			if err := d.AppendRun(t.Context(), *rec); err != nil {
				t.Fatal(err)
			}
			want[schemas.Runs().Name] = []any{rec}
		}
		if _, err := d.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

func writePartition(t *testing.T, d *Dir, tab schemas.Table, date civil.Date, rows []any) {
	t.Helper()
	w, err := d.Partition(t.Context(), tab, date)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// crashNext is the run that crashes: it replaces orders of day 1, clears
// order_items of day 1, adds subscriptions of day 2, empties chargebacks
// of day 2 and appends its record. It returns the run, ready to commit, and
// the warehouse's content once it has committed.
func crashNext(t *testing.T, w *Warehouse, old crashWant) (*Dir, crashWant) {
	t.Helper()
	ctx := t.Context()
	d, err := w.begin(ctx, "M1", "next")
	if err != nil {
		t.Fatal(err)
	}
	rec := runRecord("next", crashDay2)
	if err := d.Started(ctx, *rec); err != nil {
		t.Fatal(err)
	}
	orders := loadtest.Rows(schemas.Orders(), crashDay1, 5, 7)
	subs := loadtest.Rows(schemas.SubscriptionHistory(), crashDay2, 3, 7)
	writePartition(t, d, schemas.Orders(), crashDay1, orders)
	writePartition(t, d, schemas.SubscriptionHistory(), crashDay2, subs)
	writePartition(t, d, schemas.Chargebacks(), crashDay2, nil)
	if err := d.Clear(ctx, schemas.OrderItems(), crashDay1); err != nil {
		t.Fatal(err)
	}
	if err := d.AppendRun(ctx, *rec); err != nil {
		t.Fatal(err)
	}
	m2Orders := old[schemas.Orders().Name][3:] // M2's rows are untouched
	return d, crashWant{
		schemas.Orders().Name:              append(slices.Clone(orders), m2Orders...),
		schemas.OrderItems().Name:          nil,
		schemas.SubscriptionHistory().Name: append(slices.Clone(old[schemas.SubscriptionHistory().Name]), subs...),
		schemas.Chargebacks().Name:         nil,
		schemas.Runs().Name:                append(slices.Clone(old[schemas.Runs().Name]), rec),
	}
}

// expectContent checks every table of the warehouse at root, read by a
// new read-only reader, against want.
func expectContent(t *testing.T, root string, want crashWant) {
	t.Helper()
	r, err := OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range []schemas.Table{schemas.Orders(), schemas.OrderItems(), schemas.SubscriptionHistory(), schemas.Chargebacks(), schemas.Runs()} {
		var got []any
		if err := r.Read(t.Context(), tab, load.Span{}, func(row any) error { got = append(got, row); return nil }); err != nil {
			t.Fatalf("read %s: %v", tab.Name, err)
		}
		if d := loadtest.Diff(tab, want[tab.Name], got); d != "" {
			t.Errorf("%s: %s", tab.Name, d)
		}
	}
}

// abandoned returns want with run id recorded as abandoned.
func abandoned(t *testing.T, root string, want crashWant, id string) crashWant {
	t.Helper()
	r, err := OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := load.Runs(t.Context(), r, load.RunQuery{Merchant: "M1", Status: load.StatusAbandoned})
	runs = slices.DeleteFunc(runs, func(r schemas.Run) bool { return r.RunID != id })
	if err != nil || len(runs) != 1 {
		t.Fatalf("abandoned runs = %v, %v; want run %s", runs, err, id)
	}
	got := runs[0]
	rec := runRecord(id, crashDay2)
	rec.Status, rec.FinishedAt, rec.DurationMS, rec.Error = load.StatusAbandoned, got.FinishedAt, got.DurationMS, got.Error
	if got.Error == nil || !strings.Contains(*got.Error, "its process died") || got.FinishedAt.Before(rec.StartedAt) {
		t.Errorf("abandoned record: error %v, finished_at %v", got.Error, got.FinishedAt)
	}
	out := maps.Clone(want)
	out[schemas.Runs().Name] = append(slices.Clone(want[schemas.Runs().Name]), rec)
	return out
}

// allFiles returns every file under root.
func allFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expectNoDebris checks that the warehouse holds exactly the data files
// want, the account locks and nothing else: no temporary file, journal or
// marker.
func expectNoDebris(t *testing.T, root string, want []string) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, ".ledgerline/lock/") {
			got = append(got, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("files = %v\nwant %v", got, want)
	}
}

// crashFiles returns the data files after the crashed run, committed or
// not: its record is there either way (abandoned when not committed), and
// that of run after when it died too.
func crashFiles(committed, afterDied bool) []string {
	if committed {
		return []string{
			"etl_runs/started_on=2026-10-30/M1.base.parquet",
			"etl_runs/started_on=2026-10-31/M1.next.parquet",
			"orders/order_date=2026-10-30/M1.parquet",
			"orders/order_date=2026-10-30/M2.parquet",
			"subscription_history/valid_to=2026-10-30/M1.parquet",
			"subscription_history/valid_to=2026-10-31/M1.parquet",
		}
	}
	files := []string{
		"chargebacks/opened_on=2026-10-31/M1.parquet",
		"etl_runs/started_on=2026-10-30/M1.base.parquet",
		"etl_runs/started_on=2026-10-31/M1.next.parquet",
		"order_items/order_date=2026-10-30/M1.parquet",
		"orders/order_date=2026-10-30/M1.parquet",
		"orders/order_date=2026-10-30/M2.parquet",
		"subscription_history/valid_to=2026-10-30/M1.parquet",
	}
	if afterDied {
		files = append(files, "etl_runs/started_on=2026-10-31/M1.after.parquet")
		slices.Sort(files)
	}
	return files
}

// commitSteps returns the steps of the crashed run's Commit, taken without
// a crash, and the index of the commit point: the rename of its journal.
func commitSteps(t *testing.T) ([]string, int) {
	t.Helper()
	root := t.TempDir()
	old := crashBase(t, root)
	c := &crashFS{after: -1}
	w := New(root)
	w.fs = c
	d, _ := crashNext(t, w, old)
	c.arm(-1)
	if _, err := d.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	steps := slices.Clone(c.log)
	point := slices.Index(steps, "rename journal/.M1.next.json.tmp → M1.next.json")
	if point < 0 {
		t.Fatalf("no journal rename among the steps %q", steps)
	}
	return steps, point
}

// checkAfterCrash checks the warehouse at root after the crashed run died
// after its first taken steps, the commit point being step point: what a
// reader sees, then what the next open for writing leaves.
func checkAfterCrash(t *testing.T, root string, taken, point int, old, next crashWant) {
	t.Helper()
	committed := taken > point
	// A reader resolves a published journal in memory and changes nothing.
	before := allFiles(t, root)
	if committed {
		expectContent(t, root, next)
	} else {
		expectContent(t, root, old)
	}
	if after := allFiles(t, root); !slices.Equal(after, before) {
		t.Errorf("reading changed the files from %v\nto %v", before, after)
	}
	// The next open for writing rolls the commit forward, or records the
	// run as abandoned, and removes the debris.
	after, err := Open(root, "M1", "after")
	if err != nil {
		t.Fatal(err)
	}
	if err := after.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	if committed {
		expectContent(t, root, next)
	} else {
		expectContent(t, root, abandoned(t, root, old, "next"))
	}
	expectNoDebris(t, root, crashFiles(committed, false))
}

// TestCrashAtEveryCommitStep lets the run die after each step of its
// Commit in turn (every fsync, rename, removal, the journal's write and
// removal), and before the first: a reader then sees the old data and no
// record of the run before the commit point and the new data with its
// succeeded record from it on; the next open for writing finishes the
// commit or records the run as abandoned, and leaves no debris.
func TestCrashAtEveryCommitStep(t *testing.T) {
	steps, point := commitSteps(t)
	t.Logf("%d commit steps, commit point at step %d:\n%s", len(steps), point+1, strings.Join(steps, "\n"))
	if len(steps) < 20 {
		t.Errorf("only %d steps in the commit", len(steps))
	}
	for taken := 0; taken <= len(steps); taken++ {
		name := "before the first step"
		if taken > 0 {
			name = fmt.Sprintf("after step %d %s", taken, steps[taken-1])
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			old := crashBase(t, root)
			c := &crashFS{after: -1}
			w := New(root)
			w.fs = c
			d, next := crashNext(t, w, old)
			c.arm(taken)
			_, err := d.Commit(context.Background())
			if taken < len(steps) && taken <= point && !errors.Is(err, errCrashed) {
				t.Errorf("Commit = %v, want a crash", err)
			}
			d.unlock() // the process is dead: the kernel releases its lock
			checkAfterCrash(t, root, taken, point, old, next)
		})
	}
}

// TestFailureAtEveryCommitStep lets each step of the Commit fail in turn
// with an I/O error while the process lives on: up to the sync of the
// journal's directory, Commit fails and Abort leaves the old data; after
// it, the run is committed and Commit succeeds, the next open finishing
// what failed. Either way no debris is left after the next open.
func TestFailureAtEveryCommitStep(t *testing.T) {
	steps, point := commitSteps(t)
	for failed := range len(steps) {
		t.Run(fmt.Sprintf("step %d %s", failed+1, steps[failed]), func(t *testing.T) {
			root := t.TempDir()
			old := crashBase(t, root)
			c := &crashFS{after: -1}
			w := New(root)
			w.fs = c
			d, next := crashNext(t, w, old)
			c.mu.Lock()
			c.after, c.log, c.failOnce = failed, nil, true
			c.mu.Unlock()
			_, err := d.Commit(t.Context())
			committed := failed > point+1 // the journal's directory is synced
			if committed != (err == nil) || (err != nil && !errors.Is(err, errIO)) {
				t.Fatalf("Commit = %v, want committed %v", err, committed)
			}
			if err := d.Abort(t.Context()); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			want := old
			if committed {
				want = next
			}
			expectContent(t, root, want)
			after, err := Open(root, "M1", "after")
			if err != nil {
				t.Fatal(err)
			}
			if err := after.Abort(t.Context()); err != nil {
				t.Fatal(err)
			}
			expectContent(t, root, want)
			files := crashFiles(committed, false)
			if !committed { // an aborted run has no record
				files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "/M1.next.parquet") })
			}
			expectNoDebris(t, root, files)
		})
	}
}
