package loadtest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// rowsOf returns s.rows(t, date, n, variant) of merchant.
func (s *suite) rowsOf(t schemas.Table, date civil.Date, n, variant int, merchant string) []any {
	rows := s.rows(t, date, n, variant)
	c, _ := t.Column("merchant_code")
	for _, r := range rows {
		setString(r, c.Field, merchant)
	}
	return rows
}

// readSpan returns the rows of tab in span.
func (s *suite) readSpan(t *testing.T, tab schemas.Table, span load.Span) []any {
	t.Helper()
	var rows []any
	err := s.Reader.Read(s.ctx, tab, span, func(row any) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatalf("Read(%s, %+v): %v", tab.Name, span, err)
	}
	return rows
}

func testReadSpan(t *testing.T, s *suite) {
	orders := schemas.Orders()
	a, b := s.slice(), s.slice()+"-B"
	a1, a2, a3 := s.rowsOf(orders, day1, 3, 0, a), s.rowsOf(orders, day2, 4, 1, a), s.rowsOf(orders, day3, 5, 2, a)
	b2 := s.rowsOf(orders, day2, 2, 3, b)
	d := s.beginSlice(t, a)
	s.write(t, d, orders, day1, a1)
	s.write(t, d, orders, day2, a2)
	s.write(t, d, orders, day3, a3)
	s.commit(t, d)
	d = s.beginSlice(t, b)
	s.write(t, d, orders, day2, b2)
	s.commit(t, d)

	cat := func(parts ...[]any) []any { return slices.Concat(parts...) }
	tests := []struct {
		span load.Span
		want []any
	}{
		{load.Span{Merchant: a, From: day2, To: day3}, cat(a2, a3)},
		{load.Span{Merchant: a, To: day1}, a1},
		{load.Span{Merchant: b}, b2},
		{load.Span{From: day2}, cat(a2, a3, b2)},
		{load.Span{From: day2, To: day2}, cat(a2, b2)},
		{load.Span{}, cat(a1, a2, a3, b2)},
		{load.Span{Merchant: a + "-NONE"}, nil},
		{load.Span{Merchant: a, From: day3.AddDays(1)}, nil},
	}
	for _, tt := range tests {
		if d := Diff(orders, tt.want, s.readSpan(t, orders, tt.span)); d != "" {
			t.Errorf("Read(orders, %+v): %s", tt.span, d)
		}
	}
	if rows := s.readSpan(t, schemas.Chargebacks(), load.Span{Merchant: a}); len(rows) != 0 {
		t.Errorf("Read of a table never written: %d rows, want none", len(rows))
	}
}

// record returns a run record of the suite's slice, started on day.
func (s *suite) record(day civil.Date, variant int) *schemas.Run {
	r := Rows(schemas.Runs(), day, 2, variant)[1].(*schemas.Run)
	r.RunID = fmt.Sprintf("rec-%d-%s", variant, day)
	r.MerchantCode = s.slice()
	return r
}

// appendRun appends rec in run d.
func (s *suite) appendRun(t *testing.T, d load.Destination, rec *schemas.Run) {
	t.Helper()
	if err := d.AppendRun(s.ctx, *rec); err != nil {
		t.Fatalf("AppendRun(%s): %v", rec.RunID, err)
	}
}

// expectRuns checks every run record of the suite's slice.
func (s *suite) expectRuns(t *testing.T, want ...any) {
	t.Helper()
	runs := schemas.Runs()
	if d := Diff(runs, want, s.readSpan(t, runs, load.Span{Merchant: s.slice()})); d != "" {
		t.Errorf("etl_runs: %s", d)
	}
}

func testAppendRun(t *testing.T, s *suite) {
	orders := schemas.Orders()
	rows := s.rows(orders, day1, 4, 0)
	r1, r2, r3 := s.record(day1, 0), s.record(day1, 1), s.record(day2, 2)
	d := s.begin(t)
	s.write(t, d, orders, day1, rows)
	s.appendRun(t, d, r1)
	s.commit(t, d)
	s.expect(t, orders, day1, rows)
	s.expectRuns(t, r1)

	// Records of later runs, the same day or not, are added to those
	// there; a run may commit nothing but its record.
	d = s.begin(t)
	s.appendRun(t, d, r2)
	s.appendRun(t, d, r3)
	if st := s.commit(t, d); st != (load.CommitStats{}) {
		t.Errorf("Commit stats of a run of records only = %+v, want zero", st)
	}
	s.expectRuns(t, r1, r2, r3)
	s.expectPartitions(t, schemas.Runs(), day1, day2)
	got, err := load.Runs(s.ctx, s.Reader, load.RunQuery{Merchant: s.slice(), StartedFrom: day2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].RunID != r3.RunID {
		t.Errorf("Runs(started from %v) = %v, want only %s", day2, got, r3.RunID)
	}

	// A record of another merchant is refused.
	d = s.begin(t)
	other := s.record(day1, 3)
	other.MerchantCode = s.slice() + "-OTHER"
	if err := d.AppendRun(s.ctx, *other); err == nil {
		t.Error("AppendRun of another slice's record succeeded, want error")
	}
}

func testAppendRunNotVisibleBeforeCommit(t *testing.T, s *suite) {
	r1, r2 := s.record(day1, 0), s.record(day1, 1)
	d := s.begin(t)
	s.appendRun(t, d, r1)
	s.expectRuns(t)
	if err := d.Abort(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.expectRuns(t)
	if err := d.AppendRun(s.ctx, *r2); err == nil {
		t.Error("AppendRun after Abort succeeded, want error")
	}

	// A failed commit (an open writer) commits no record either.
	d = s.begin(t)
	s.appendRun(t, d, r2)
	if _, err := d.Partition(s.ctx, schemas.Orders(), day1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(s.ctx); err == nil {
		t.Fatal("Commit with an open PartitionWriter succeeded, want error")
	}
	if err := d.Abort(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.expectRuns(t)
}

func testRunRecordsAppendOnly(t *testing.T, s *suite) {
	runs := schemas.Runs()
	r1 := s.record(day1, 0)
	d := s.begin(t)
	s.appendRun(t, d, r1)
	s.commit(t, d)

	d = s.begin(t)
	if _, err := d.Partition(s.ctx, runs, day1); err == nil {
		t.Error("Partition of etl_runs succeeded, want error: it is append-only")
	}
	if err := d.Clear(s.ctx, runs, day1); err == nil {
		t.Error("Clear of etl_runs succeeded, want error: it is append-only")
	}
	s.commit(t, d)
	s.expectRuns(t, r1)
}

// setString sets string field i of the struct row points to.
func setString(row any, i int, v string) { reflect.ValueOf(row).Elem().Field(i).SetString(v) }
