// Package loadtest is the conformance suite every load.Warehouse and its
// load.Destination must pass, and the sample rows it writes.
package loadtest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// Warehouse is a destination under test.
type Warehouse struct {
	// Begin starts a run of slice (a merchant code) with the given id,
	// writing to the warehouse.
	Begin func(ctx context.Context, slice, runID string) (load.Destination, error)
	// Reader reads what the runs committed.
	Reader load.SpanReader
}

// Options adapt the suite to a destination.
type Options struct {
	// Slice, when set, is the merchant_code of every row the suite writes,
	// for a destination whose runs replace the rows of one merchant code
	// (their slice) and refuse rows of another. The suite's runs are of
	// slice Slice, or "M1" when it is empty.
	Slice string
	// MaxDecimalDigits, when positive, caps the significant digits of the
	// money and rate values the suite writes: a value with more becomes the
	// largest of the same sign and scale with MaxDecimalDigits digits. It
	// is for a destination tested against an emulator with a documented
	// precision gap, whose tests must then show the full range another way.
	MaxDecimalDigits int
}

// Run runs the conformance suite. open returns a new, empty warehouse; it is
// called once per subtest and should register its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) Warehouse) {
	RunWith(t, Options{}, open)
}

// RunWith runs the conformance suite with options.
func RunWith(t *testing.T, opts Options, open func(t *testing.T) Warehouse) {
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
		{"ReadSpan", testReadSpan},
		{"AppendRun", testAppendRun},
		{"AppendRunNotVisibleBeforeCommit", testAppendRunNotVisibleBeforeCommit},
		{"RunRecordsAppendOnly", testRunRecordsAppendOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &suite{Warehouse: open(t), ctx: t.Context(), opts: opts})
		})
	}
}

// Partitioned returns the tables whose partitions runs replace: every
// table but etl_runs, which is append-only.
func Partitioned() []schemas.Table {
	var out []schemas.Table
	for _, t := range schemas.All() {
		if t.Name != schemas.Runs().Name {
			out = append(out, t)
		}
	}
	return out
}

// suite is one subtest's warehouse and helpers.
type suite struct {
	Warehouse
	ctx  context.Context
	opts Options
	runs int
}

// rows returns Rows(t, date, n, variant) adapted to the suite's options.
func (s *suite) rows(t schemas.Table, date civil.Date, n, variant int) []any {
	rows := Rows(t, date, n, variant)
	if s.opts.Slice == "" && s.opts.MaxDecimalDigits <= 0 {
		return rows
	}
	limit := int64(math.MaxInt64)
	if d := s.opts.MaxDecimalDigits; d > 0 && d < 19 {
		limit = 1
		for range d {
			limit *= 10
		}
		limit--
	}
	for _, r := range rows {
		v := reflect.ValueOf(r).Elem()
		for _, c := range t.Columns {
			f := v.Field(c.Field)
			if c.Nullable {
				if f.IsNil() {
					continue
				}
				f = f.Elem()
			}
			switch {
			case c.Name == "merchant_code" && s.opts.Slice != "":
				f.SetString(s.opts.Slice)
			case c.Type == schemas.Decimal || c.Type == schemas.Rate:
				if n := f.Int(); n > limit {
					f.SetInt(limit)
				} else if n < -limit {
					f.SetInt(-limit)
				}
			}
		}
	}
	return rows
}

var (
	day1 = civil.Date{Year: 2024, Month: 2, Day: 28}
	day2 = civil.Date{Year: 2024, Month: 2, Day: 29}
	day3 = civil.Date{Year: 2024, Month: 3, Day: 1}
)

// slice returns the slice of the suite's runs.
func (s *suite) slice() string {
	if s.opts.Slice != "" {
		return s.opts.Slice
	}
	return "M1"
}

func (s *suite) begin(t *testing.T) load.Destination {
	t.Helper()
	return s.beginSlice(t, s.slice())
}

func (s *suite) beginSlice(t *testing.T, slice string) load.Destination {
	t.Helper()
	s.runs++
	d, err := s.Begin(s.ctx, slice, fmt.Sprintf("run-%d", s.runs))
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
	for _, tab := range Partitioned() {
		rows := s.rows(tab, day1, 40, 0)
		s.write(t, d, tab, day1, rows)
		written[tab.Name] = rows
		total += int64(len(rows))
	}
	st := s.commit(t, d)
	if want := (load.CommitStats{Partitions: len(Partitioned()), Rows: total}); st != want {
		t.Errorf("Commit stats = %+v, want %+v", st, want)
	}
	for _, tab := range Partitioned() {
		s.expectPartitions(t, tab, day1)
		s.expect(t, tab, day1, written[tab.Name])
	}
}

func testNotVisibleBeforeCommit(t *testing.T, s *suite) {
	tab := schemas.Orders()
	old := s.rows(tab, day1, 5, 0)
	s.run(t, tab, map[civil.Date][]any{day1: old})

	d := s.begin(t)
	s.write(t, d, tab, day1, s.rows(tab, day1, 7, 1))
	s.write(t, d, tab, day2, s.rows(tab, day2, 3, 1))
	if err := d.Clear(s.ctx, schemas.OrderItems(), day1); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	s.expectPartitions(t, tab, day1)
	s.expect(t, tab, day1, old)
	s.expect(t, tab, day2, nil)
	s.commit(t, d)
	s.expectPartitions(t, tab, day1, day2)
	s.expect(t, tab, day1, s.rows(tab, day1, 7, 1))
}

func testRerunReplaces(t *testing.T, s *suite) {
	for _, tab := range Partitioned() {
		t.Run(tab.Name, func(t *testing.T) {
			s.run(t, tab, map[civil.Date][]any{day1: s.rows(tab, day1, 30, 0)})
			fewer := s.rows(tab, day1, 10, 1)
			s.run(t, tab, map[civil.Date][]any{day1: fewer})
			s.expect(t, tab, day1, fewer)
			// The same rows again: the same partition, not twice the rows.
			s.run(t, tab, map[civil.Date][]any{day1: s.rows(tab, day1, 10, 1)})
			s.expect(t, tab, day1, fewer)
			s.expectPartitions(t, tab, day1)
		})
	}
}

func testClear(t *testing.T, s *suite) {
	tab := schemas.OrderItems()
	rows2 := s.rows(tab, day2, 8, 0)
	s.run(t, tab, map[civil.Date][]any{day1: s.rows(tab, day1, 8, 0), day2: rows2})

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
	tab := schemas.SubscriptionHistory()
	s.run(t, tab, map[civil.Date][]any{day1: s.rows(tab, day1, 8, 0)})
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
	rows := s.rows(tab, day1, 12, 0)
	s.run(t, tab, map[civil.Date][]any{day1: rows})

	d := s.begin(t)
	s.write(t, d, tab, day1, s.rows(tab, day1, 3, 1))
	s.write(t, d, tab, day2, s.rows(tab, day2, 3, 1))
	open, err := d.Partition(s.ctx, tab, day3) // left open
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Write(s.rows(tab, day3, 1, 0)[0]); err != nil {
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
	rows := s.rows(tab, day1, 6, 0)
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
	o1, o2, o3 := s.rows(orders, day1, 9, 0), s.rows(orders, day2, 9, 0), s.rows(orders, day3, 9, 0)
	i2 := s.rows(items, day2, 9, 0)
	d := s.begin(t)
	s.write(t, d, orders, day1, o1)
	s.write(t, d, orders, day2, o2)
	s.write(t, d, orders, day3, o3)
	s.write(t, d, items, day2, i2)
	s.commit(t, d)

	n2 := s.rows(orders, day2, 4, 2)
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
	item := s.rows(schemas.OrderItems(), day1, 1, 0)[0]
	order := s.rows(orders, day1, 1, 0)[0].(*schemas.Order)
	tests := []struct {
		name string
		row  any
	}{
		{"other partition", s.rows(orders, day2, 1, 0)[0]},
		{"other table", item},
		{"struct, not pointer", *order},
		{"nil pointer", (*schemas.Order)(nil)},
		{"nil", nil},
	}
	if s.opts.Slice != "" {
		other := s.rows(orders, day1, 1, 0)[0].(*schemas.Order)
		other.MerchantCode = s.opts.Slice + "-OTHER"
		tests = append(tests, struct {
			name string
			row  any
		}{"other slice", other})
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
	s.write(t, d, orders, day1, s.rows(orders, day1, 2, 0))
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
	s.write(t, d, schemas.OrderItems(), day1, s.rows(schemas.OrderItems(), day1, 2, 0))
	s.commit(t, d)
	s.expect(t, orders, day1, s.rows(orders, day1, 2, 0))
}

func testCommitWithOpenWriter(t *testing.T, s *suite) {
	orders := schemas.Orders()
	rows := s.rows(orders, day1, 3, 0)
	s.run(t, orders, map[civil.Date][]any{day1: rows})

	d := s.begin(t)
	s.write(t, d, orders, day2, s.rows(orders, day2, 3, 1))
	w, err := d.Partition(s.ctx, orders, day1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(s.rows(orders, day1, 1, 1)[0]); err != nil {
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
			if err := w.Write(s.rows(orders, day3, 1, 0)[0]); err == nil {
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
	errs := make(chan error, len(Partitioned())*len(dates))
	for _, tab := range Partitioned() {
		for _, date := range dates {
			wg.Go(func() {
				w, err := d.Partition(s.ctx, tab, date)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range s.rows(tab, date, 20, date.Day) {
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
	for _, tab := range Partitioned() {
		s.expectPartitions(t, tab, dates...)
		for _, date := range dates {
			s.expect(t, tab, date, s.rows(tab, date, 20, date.Day))
		}
	}
}

func testManyRows(t *testing.T, s *suite) {
	tab := schemas.Orders()
	rows := s.rows(tab, day1, 10_000, 0)
	s.run(t, tab, map[civil.Date][]any{day1: rows})
	s.expect(t, tab, day1, rows)
}
