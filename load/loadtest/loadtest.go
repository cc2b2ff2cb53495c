// Package loadtest is the conformance suite every load.Destination must
// pass, and the sample rows it writes.
package loadtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// Warehouse is a destination under test.
type Warehouse struct {
	// Begin starts a run with the given id, writing to the warehouse.
	Begin func(ctx context.Context, runID string) (load.Destination, error)
	// Reader reads what the runs committed.
	Reader load.Reader
}

// Run runs the conformance suite. open returns a new, empty warehouse; it is
// called once per subtest and should register its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) Warehouse) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"RoundTrip", testRoundTrip},
		{"NotVisibleBeforeCommit", testNotVisibleBeforeCommit},
		{"RerunReplaces", testRerunReplaces},
		{"Clear", testClear},
		{"EmptyPartition", testEmptyPartition},
		{"AbortKeepsCommitted", testAbortKeepsCommitted},
		{"AbortAfterCommit", testAbortAfterCommit},
		{"OtherPartitionsUntouched", testOtherPartitionsUntouched},
		{"RefusesForeignRows", testRefusesForeignRows},
		{"PartitionNamedTwice", testPartitionNamedTwice},
		{"CommitWithOpenWriter", testCommitWithOpenWriter},
		{"UseAfterEnd", testUseAfterEnd},
		{"ConcurrentPartitions", testConcurrentPartitions},
		{"ManyRows", testManyRows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &suite{Warehouse: open(t), ctx: t.Context()})
		})
	}
}

// suite is one subtest's warehouse and helpers.
type suite struct {
	Warehouse
	ctx  context.Context
	runs int
}

var (
	day1 = civil.Date{Year: 2024, Month: 2, Day: 28}
	day2 = civil.Date{Year: 2024, Month: 2, Day: 29}
	day3 = civil.Date{Year: 2024, Month: 3, Day: 1}
)

func (s *suite) begin(t *testing.T) load.Destination {
	t.Helper()
	s.runs++
	d, err := s.Begin(s.ctx, fmt.Sprintf("run-%d", s.runs))
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Abort(context.Background()); err != nil {
			t.Errorf("Abort in cleanup: %v", err)
		}
	})
	return d
}

// write writes rows as partition date of tab.
func (s *suite) write(t *testing.T, d load.Destination, tab schemas.Table, date civil.Date, rows []any) {
	t.Helper()
	w, err := d.Partition(s.ctx, tab, date)
	if err != nil {
		t.Fatalf("Partition(%s, %v): %v", tab.Name, date, err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(%s, %v) row %d: %v", tab.Name, date, i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%s, %v): %v", tab.Name, date, err)
	}
}

func (s *suite) commit(t *testing.T, d load.Destination) load.CommitStats {
	t.Helper()
	st, err := d.Commit(s.ctx)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return st
}

// run writes and commits partitions of tab in one run.
func (s *suite) run(t *testing.T, tab schemas.Table, parts map[civil.Date][]any) {
	t.Helper()
	d := s.begin(t)
	for date, rows := range parts {
		s.write(t, d, tab, date, rows)
	}
	s.commit(t, d)
}

func (s *suite) read(t *testing.T, tab schemas.Table, date civil.Date) []any {
	t.Helper()
	var rows []any
	err := s.Reader.ReadPartition(s.ctx, tab, date, func(row any) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadPartition(%s, %v): %v", tab.Name, date, err)
	}
	return rows
}

// expect checks that partition date of tab holds exactly want.
func (s *suite) expect(t *testing.T, tab schemas.Table, date civil.Date, want []any) {
	t.Helper()
	if d := Diff(tab, want, s.read(t, tab, date)); d != "" {
		t.Errorf("%s partition %v: %s", tab.Name, date, d)
	}
}

// expectPartitions checks the non-empty partitions of tab.
func (s *suite) expectPartitions(t *testing.T, tab schemas.Table, want ...civil.Date) {
	t.Helper()
	got, err := s.Reader.Partitions(s.ctx, tab)
	if err != nil {
		t.Fatalf("Partitions(%s): %v", tab.Name, err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Partitions(%s) = %v, want %v", tab.Name, got, want)
	}
}

func testRoundTrip(t *testing.T, s *suite) {
	d := s.begin(t)
	written := make(map[string][]any)
	total := int64(0)
	for _, tab := range schemas.All() {
		rows := Rows(tab, day1, 40, 0)
		s.write(t, d, tab, day1, rows)
		written[tab.Name] = rows
		total += int64(len(rows))
	}
	st := s.commit(t, d)
	if want := (load.CommitStats{Partitions: len(schemas.All()), Rows: total}); st != want {
		t.Errorf("Commit stats = %+v, want %+v", st, want)
	}
	for _, tab := range schemas.All() {
		s.expectPartitions(t, tab, day1)
		s.expect(t, tab, day1, written[tab.Name])
	}
}

func testNotVisibleBeforeCommit(t *testing.T, s *suite) {
	tab := schemas.Orders()
	old := Rows(tab, day1, 5, 0)
	s.run(t, tab, map[civil.Date][]any{day1: old})

	d := s.begin(t)
	s.write(t, d, tab, day1, Rows(tab, day1, 7, 1))
	s.write(t, d, tab, day2, Rows(tab, day2, 3, 1))
	if err := d.Clear(s.ctx, schemas.OrderItems(), day1); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	s.expectPartitions(t, tab, day1)
	s.expect(t, tab, day1, old)
	s.expect(t, tab, day2, nil)
	s.commit(t, d)
	s.expectPartitions(t, tab, day1, day2)
	s.expect(t, tab, day1, Rows(tab, day1, 7, 1))
}

func testRerunReplaces(t *testing.T, s *suite) {
	for _, tab := range schemas.All() {
		t.Run(tab.Name, func(t *testing.T) {
			s.run(t, tab, map[civil.Date][]any{day1: Rows(tab, day1, 30, 0)})
			fewer := Rows(tab, day1, 10, 1)
			s.run(t, tab, map[civil.Date][]any{day1: fewer})
			s.expect(t, tab, day1, fewer)
			// The same rows again: the same partition, not twice the rows.
			s.run(t, tab, map[civil.Date][]any{day1: Rows(tab, day1, 10, 1)})
			s.expect(t, tab, day1, fewer)
			s.expectPartitions(t, tab, day1)
		})
	}
}

func testClear(t *testing.T, s *suite) {
	tab := schemas.OrderItems()
	rows2 := Rows(tab, day2, 8, 0)
	s.run(t, tab, map[civil.Date][]any{day1: Rows(tab, day1, 8, 0), day2: rows2})

	d := s.begin(t)
	for _, date := range []civil.Date{day1, day3} { // day3 has never existed
		if err := d.Clear(s.ctx, tab, date); err != nil {
			t.Fatalf("Clear(%v): %v", date, err)
		}
	}
	st := s.commit(t, d)
	if want := (load.CommitStats{Cleared: 2}); st != want {
		t.Errorf("Commit stats = %+v, want %+v", st, want)
	}
	s.expectPartitions(t, tab, day2)
	s.expect(t, tab, day1, nil)
	s.expect(t, tab, day3, nil)
	s.expect(t, tab, day2, rows2)
}

func testEmptyPartition(t *testing.T, s *suite) {
	tab := schemas.Subscriptions()
	s.run(t, tab, map[civil.Date][]any{day1: Rows(tab, day1, 8, 0)})
	d := s.begin(t)
	s.write(t, d, tab, day1, nil)
	st := s.commit(t, d)
	if want := (load.CommitStats{Cleared: 1}); st != want {
		t.Errorf("Commit stats = %+v, want %+v", st, want)
	}
	s.expectPartitions(t, tab)
	s.expect(t, tab, day1, nil)
}

func testAbortKeepsCommitted(t *testing.T, s *suite) {
	tab := schemas.Orders()
	rows := Rows(tab, day1, 12, 0)
	s.run(t, tab, map[civil.Date][]any{day1: rows})

	d := s.begin(t)
	s.write(t, d, tab, day1, Rows(tab, day1, 3, 1))
	s.write(t, d, tab, day2, Rows(tab, day2, 3, 1))
	open, err := d.Partition(s.ctx, tab, day3) // left open
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Write(Rows(tab, day3, 1, 0)[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.Clear(s.ctx, schemas.OrderItems(), day1); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := d.Abort(s.ctx); err != nil {
			t.Fatalf("Abort #%d: %v", i+1, err)
		}
	}
	s.expectPartitions(t, tab, day1)
	s.expect(t, tab, day1, rows)

	// The run's work is gone: a new run that writes nothing leaves the
	// same data.
	s.commit(t, s.begin(t))
	s.expectPartitions(t, tab, day1)
	s.expect(t, tab, day1, rows)
}

func testAbortAfterCommit(t *testing.T, s *suite) {
	tab := schemas.Orders()
	rows := Rows(tab, day1, 6, 0)
	d := s.begin(t)
	s.write(t, d, tab, day1, rows)
	s.commit(t, d)
	if err := d.Abort(s.ctx); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	s.expect(t, tab, day1, rows)
}

func testOtherPartitionsUntouched(t *testing.T, s *suite) {
	orders, items := schemas.Orders(), schemas.OrderItems()
	o1, o2, o3 := Rows(orders, day1, 9, 0), Rows(orders, day2, 9, 0), Rows(orders, day3, 9, 0)
	i2 := Rows(items, day2, 9, 0)
	d := s.begin(t)
	s.write(t, d, orders, day1, o1)
	s.write(t, d, orders, day2, o2)
	s.write(t, d, orders, day3, o3)
	s.write(t, d, items, day2, i2)
	s.commit(t, d)

	n2 := Rows(orders, day2, 4, 2)
	s.run(t, orders, map[civil.Date][]any{day2: n2})
	s.expectPartitions(t, orders, day1, day2, day3)
	s.expect(t, orders, day1, o1)
	s.expect(t, orders, day2, n2)
	s.expect(t, orders, day3, o3)
	s.expect(t, items, day2, i2)
}

func testRefusesForeignRows(t *testing.T, s *suite) {
	orders := schemas.Orders()
	d := s.begin(t)
	w, err := d.Partition(s.ctx, orders, day1)
	if err != nil {
		t.Fatal(err)
	}
	item := Rows(schemas.OrderItems(), day1, 1, 0)[0]
	order := Rows(orders, day1, 1, 0)[0].(*schemas.Order)
	tests := []struct {
		name string
		row  any
	}{
		{"other partition", Rows(orders, day2, 1, 0)[0]},
		{"other table", item},
		{"struct, not pointer", *order},
		{"nil pointer", (*schemas.Order)(nil)},
		{"nil", nil},
	}
	for _, tt := range tests {
		if err := w.Write(tt.row); err == nil {
			t.Errorf("Write(%s) succeeded, want error", tt.name)
		}
	}
	if err := w.Write(order); err != nil {
		t.Errorf("Write(good row) after refused rows: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s.commit(t, d)
	s.expect(t, orders, day1, []any{order})
}

func testPartitionNamedTwice(t *testing.T, s *suite) {
	orders := schemas.Orders()
	d := s.begin(t)
	s.write(t, d, orders, day1, Rows(orders, day1, 2, 0))
	if _, err := d.Partition(s.ctx, orders, day1); err == nil {
		t.Error("second Partition of the same partition succeeded, want error")
	}
	if err := d.Clear(s.ctx, orders, day1); err == nil {
		t.Error("Clear of a written partition succeeded, want error")
	}
	if err := d.Clear(s.ctx, orders, day2); err != nil {
		t.Fatal(err)
	}
	if err := d.Clear(s.ctx, orders, day2); err == nil {
		t.Error("second Clear of the same partition succeeded, want error")
	}
	if _, err := d.Partition(s.ctx, orders, day2); err == nil {
		t.Error("Partition of a cleared partition succeeded, want error")
	}
	// The same date in another table is another partition.
	s.write(t, d, schemas.OrderItems(), day1, Rows(schemas.OrderItems(), day1, 2, 0))
	s.commit(t, d)
	s.expect(t, orders, day1, Rows(orders, day1, 2, 0))
}

func testCommitWithOpenWriter(t *testing.T, s *suite) {
	orders := schemas.Orders()
	rows := Rows(orders, day1, 3, 0)
	s.run(t, orders, map[civil.Date][]any{day1: rows})

	d := s.begin(t)
	s.write(t, d, orders, day2, Rows(orders, day2, 3, 1))
	w, err := d.Partition(s.ctx, orders, day1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(Rows(orders, day1, 1, 1)[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(s.ctx); err == nil {
		t.Fatal("Commit with an open PartitionWriter succeeded, want error")
	}
	if err := d.Abort(s.ctx); err != nil {
		t.Fatalf("Abort after failed Commit: %v", err)
	}
	s.expectPartitions(t, orders, day1)
	s.expect(t, orders, day1, rows)
}

func testUseAfterEnd(t *testing.T, s *suite) {
	orders := schemas.Orders()
	for _, end := range []string{"Commit", "Abort"} {
		t.Run(end, func(t *testing.T) {
			d := s.begin(t)
			w, err := d.Partition(s.ctx, orders, day3)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if end == "Commit" {
				s.commit(t, d)
			} else if err := d.Abort(s.ctx); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(Rows(orders, day3, 1, 0)[0]); err == nil {
				t.Errorf("Write after %s succeeded, want error", end)
			}
			if _, err := d.Partition(s.ctx, orders, day1); err == nil {
				t.Errorf("Partition after %s succeeded, want error", end)
			}
			if err := d.Clear(s.ctx, orders, day1); err == nil {
				t.Errorf("Clear after %s succeeded, want error", end)
			}
			if _, err := d.Commit(s.ctx); err == nil {
				t.Errorf("Commit after %s succeeded, want error", end)
			}
		})
	}
}

func testConcurrentPartitions(t *testing.T, s *suite) {
	d := s.begin(t)
	dates := []civil.Date{day1, day2, day3, day3.AddDays(1)}
	var wg sync.WaitGroup
	errs := make(chan error, len(schemas.All())*len(dates))
	for _, tab := range schemas.All() {
		for _, date := range dates {
			wg.Go(func() {
				w, err := d.Partition(s.ctx, tab, date)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range Rows(tab, date, 20, date.Day) {
					if err := w.Write(r); err != nil {
						errs <- err
						return
					}
				}
				errs <- w.Close()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.commit(t, d)
	for _, tab := range schemas.All() {
		s.expectPartitions(t, tab, dates...)
		for _, date := range dates {
			s.expect(t, tab, date, Rows(tab, date, 20, date.Day))
		}
	}
}

func testManyRows(t *testing.T, s *suite) {
	tab := schemas.Orders()
	rows := Rows(tab, day1, 10_000, 0)
	s.run(t, tab, map[civil.Date][]any{day1: rows})
	s.expect(t, tab, day1, rows)
}
