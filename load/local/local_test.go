package local_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/schemas"
)

func TestConformance(t *testing.T) {
	loadtest.Run(t, func(t *testing.T) loadtest.Warehouse {
		root := t.TempDir()
		r, err := local.OpenReader(root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Every run has committed or aborted: no temporary file is left.
			if tmp := files(t, root, func(name string) bool { return strings.HasPrefix(name, ".") }); len(tmp) > 0 {
				t.Errorf("temporary files left behind: %v", tmp)
			}
		})
		return loadtest.Warehouse{
			Begin:  local.New(root).Begin,
			Reader: r,
		}
	})
}

// files returns the paths under root, relative to it, of the files whose
// names match.
func files(t *testing.T, root string, match func(name string) bool) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && match(e.Name()) {
			rel, _ := filepath.Rel(root, path)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	return paths
}

func all(string) bool { return true }

func TestLayout(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	d, err := local.Open(root, "M1", "20240229T010000Z-1")
	if err != nil {
		t.Fatal(err)
	}
	orders, subs := schemas.Orders(), schemas.SubscriptionHistory()
	date := civil.Date{Year: 2024, Month: 2, Day: 29}
	var open []load.PartitionWriter
	for _, tab := range []schemas.Table{orders, subs} {
		w, err := d.Partition(ctx, tab, date)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range loadtest.Rows(tab, date, 3, 0) {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		open = append(open, w)
	}
	// The run holds its account's lock, and its marker says it has begun.
	wantTemp := []string{
		".ledgerline/lock/M1.lock",
		".ledgerline/lock/warehouse.commit.lock",
		".ledgerline/runs/M1.20240229T010000Z-1.json",
		"orders/order_date=2024-02-29/.20240229T010000Z-1.M1.parquet.tmp",
		"subscription_history/valid_to=2024-02-29/.20240229T010000Z-1.M1.parquet.tmp",
	}
	if got := files(t, root, all); !slices.Equal(got, wantTemp) {
		t.Errorf("files while writing = %v, want %v", got, wantTemp)
	}
	for _, w := range open {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rec := schemas.Run{RunID: "20240229T010000Z-1", MerchantCode: "M1", BusinessDate: date, StartedOn: civil.Date{Year: 2024, Month: 3, Day: 1}}
	if err := d.AppendRun(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		".ledgerline/lock/M1.lock", // lock files stay: removing one would race with its next taker
		".ledgerline/lock/warehouse.commit.lock",
		"etl_runs/started_on=2024-03-01/M1.20240229T010000Z-1.parquet",
		"orders/order_date=2024-02-29/M1.parquet",
		"subscription_history/valid_to=2024-02-29/M1.parquet",
	}
	if got := files(t, root, all); !slices.Equal(got, want) {
		t.Errorf("files after Commit = %v, want %v", got, want)
	}
	if got, want := d.PartitionDir(orders, date), filepath.Join(root, "orders", "order_date=2024-02-29"); got != want {
		t.Errorf("PartitionDir = %q, want %q", got, want)
	}
}

func TestAbortRemovesTempFiles(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	d, err := local.Open(root, "M1", "run1")
	if err != nil {
		t.Fatal(err)
	}
	orders := schemas.Orders()
	date := civil.Date{Year: 2024, Month: 3, Day: 1}
	w, err := d.Partition(ctx, orders, date)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(loadtest.Rows(orders, date, 1, 0)[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if got := files(t, root, all); !slices.Equal(got, []string{".ledgerline/lock/M1.lock", ".ledgerline/lock/warehouse.commit.lock"}) {
		t.Errorf("files after Abort = %v, want only the lock files", got)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded, want error")
	}
}

func TestOpenRejectsBadRunID(t *testing.T) {
	for _, id := range []string{"", ".hidden", "a/b", `a\b`, "..", "run 1"} {
		if _, err := local.Open(t.TempDir(), "M1", id); err == nil {
			t.Errorf("Open(run id %q) succeeded, want error", id)
		}
	}
}

func TestPartitionsIgnoresStrayEntries(t *testing.T) {
	root := t.TempDir()
	orders := schemas.Orders()
	for _, p := range []string{
		"orders/order_date=2024-01-01/data.parquet.bak",            // no data.parquet
		"orders/order_date=2024-01-02/.other-run.data.parquet.tmp", // uncommitted
		"orders/order_date=not-a-date/data.parquet",                // bad name
		"orders/notes.txt", // a file
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := local.Open(root, "M1", "r")
	if err != nil {
		t.Fatal(err)
	}
	dates, err := d.Partitions(t.Context(), orders)
	if err != nil {
		t.Fatal(err)
	}
	if len(dates) != 0 {
		t.Errorf("Partitions = %v, want none", dates)
	}
	dates, err = d.Partitions(t.Context(), schemas.OrderItems()) // no table directory
	if err != nil || len(dates) != 0 {
		t.Errorf("Partitions(order_items) = %v, %v; want none, nil", dates, err)
	}
}

// TestSlicesAreIndependent: runs of two accounts share partitions but
// replace only their own slice; readers see both.
func TestSlicesAreIndependent(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	orders := schemas.Orders()
	date := civil.Date{Year: 2025, Month: 3, Day: 31}
	write := func(slice, runID string, rows []any, clear bool) {
		t.Helper()
		d, err := local.Open(root, slice, runID)
		if err != nil {
			t.Fatal(err)
		}
		if clear {
			err = d.Clear(ctx, orders, date)
		} else {
			var w load.PartitionWriter
			if w, err = d.Partition(ctx, orders, date); err == nil {
				for _, r := range rows {
					if err = w.Write(r); err != nil {
						break
					}
				}
				err = errors.Join(err, w.Close())
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	read := func() []any {
		t.Helper()
		r, err := local.OpenReader(root)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		if err := r.ReadPartition(ctx, orders, date, func(row any) error { got = append(got, row); return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, b := loadtest.Rows(orders, date, 3, 1), loadtest.Rows(orders, date, 2, 2)
	for _, r := range a {
		r.(*schemas.Order).MerchantCode = "A"
	}
	for _, r := range b {
		r.(*schemas.Order).MerchantCode = "B"
	}
	write("A", "run-a1", a, false)
	write("B", "run-b1", b, false)
	if d := loadtest.Diff(orders, append(slices.Clone(a), b...), read()); d != "" {
		t.Fatalf("both slices: %s", d)
	}
	write("A", "run-a2", a[:1], false) // A reruns with fewer rows: B untouched
	if d := loadtest.Diff(orders, append(slices.Clone(a[:1]), b...), read()); d != "" {
		t.Fatalf("after A's rerun: %s", d)
	}
	write("B", "run-b2", nil, true) // B clears: A untouched
	if d := loadtest.Diff(orders, a[:1], read()); d != "" {
		t.Fatalf("after B's clear: %s", d)
	}
	if _, err := local.Open(root, "../x", "r"); err == nil {
		t.Error("a slice name with a path separator was accepted")
	}
}

// TestReaderCreatesNothing: opening and reading a warehouse creates no
// file or directory, and a warehouse that is not there is an error.
func TestReaderCreatesNothing(t *testing.T) {
	ctx := t.Context()
	missing := filepath.Join(t.TempDir(), "nonexistent")
	if _, err := local.OpenReader(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReader(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReader created %s", missing)
	}
	root := t.TempDir()
	r, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range schemas.All() {
		if _, err := r.Partitions(ctx, tab); err != nil {
			t.Fatal(err)
		}
		if err := r.Read(ctx, tab, load.Span{Merchant: "M1"}, func(any) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := load.Runs(ctx, r, load.RunQuery{Merchant: "M1"}); err != nil {
		t.Fatal(err)
	}
	if got := files(t, root, all); len(got) != 0 {
		t.Errorf("files after reading = %v, want none", got)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("entries after reading = %v, want none", entries)
	}
}

// TestOldRunRecordsStillRead: a warehouse written before run records had
// files of their own holds one <slice>.parquet per etl_runs partition;
// its records are read beside those of later runs, and never rewritten.
func TestOldRunRecordsStillRead(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	runs := schemas.Runs()
	day := civil.Date{Year: 2025, Month: 4, Day: 2}
	old := loadtest.Rows(runs, day, 3, 0)
	for _, r := range old {
		r.(*schemas.Run).MerchantCode = "M1"
	}
	dir := filepath.Join(root, "etl_runs", "started_on=2025-04-02")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pw, err := load.NewParquetWriter(&buf, runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range old {
		if err := pw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "M1.parquet"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := local.Open(root, "M1", "new-run")
	if err != nil {
		t.Fatal(err)
	}
	rec := schemas.Run{RunID: "new-run", Job: "nightly", MerchantCode: "M1", Status: load.StatusSucceeded, BusinessDate: day.AddDays(-1), StartedOn: day}
	if err := d.AppendRun(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	if err := r.Read(ctx, runs, load.Span{Merchant: "M1"}, func(row any) error { got = append(got, row); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := loadtest.Diff(runs, append(slices.Clone(old), &rec), got); d != "" {
		t.Error(d)
	}
	want := []string{".ledgerline/lock/M1.lock", ".ledgerline/lock/warehouse.commit.lock", "etl_runs/started_on=2025-04-02/M1.new-run.parquet", "etl_runs/started_on=2025-04-02/M1.parquet"}
	if got := files(t, root, all); !slices.Equal(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
}
