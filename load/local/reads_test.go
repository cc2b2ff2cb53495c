package local_test

import (
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestReadsDuringCommits: a read that runs while runs commit sees each
// commit whole or not at all, across partitions, and never fails on a file
// that a commit renamed or removed under it.
func TestReadsDuringCommits(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	orders := schemas.Orders()
	day1, day2 := civil.Date{Year: 2026, Month: 10, Day: 30}, civil.Date{Year: 2026, Month: 10, Day: 31}
	rowsOf := func(n int) []any {
		return append(loadtest.Rows(orders, day1, n, n), loadtest.Rows(orders, day2, n, n)...)
	}
	commit := func(n int) {
		d, err := local.Open(root, "M1", "run"+string(rune('a'+n)))
		if err != nil {
			t.Error(err)
			return
		}
		for _, day := range []civil.Date{day1, day2} {
			w, err := d.Partition(ctx, orders, day)
			if err != nil {
				t.Error(err)
				return
			}
			for _, r := range loadtest.Rows(orders, day, n, n) {
				if err := w.Write(r); err != nil {
					t.Error(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		}
		if _, err := d.Commit(ctx); err != nil {
			t.Error(err)
		}
	}
	commit(1)
	r, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 25
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for n := 2; n <= runs; n++ {
			commit(n)
		}
	})
	reads := 0
	for stop := false; !stop; reads++ {
		select {
		case <-done:
			stop = true
		default:
		}
		var got []any
		if err := r.Read(ctx, orders, load.Span{}, func(row any) error { got = append(got, row); return nil }); err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		n := len(got) / 2
		if d := loadtest.Diff(orders, rowsOf(n), got); d != "" || n < 1 || n > runs {
			t.Fatalf("read %d saw %d rows, not one run's: %s", reads, len(got), d)
		}
	}
	wg.Wait()
	t.Logf("%d reads during %d commits", reads, runs-1)
	var last []any
	if err := r.Read(ctx, orders, load.Span{}, func(row any) error { last = append(last, row); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := loadtest.Diff(orders, rowsOf(runs), slices.Clip(last)); d != "" {
		t.Error(d)
	}
}
