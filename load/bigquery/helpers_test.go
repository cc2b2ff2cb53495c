//go:build bqemulator

package bigquery_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/schemas"
	"google.golang.org/api/iterator"
)

// sliceRows returns loadtest.Rows of t whose merchant_code is slice, with
// money and rates capped to maxDigits significant digits when positive.
func sliceRows(t schemas.Table, date civil.Date, n, variant int, slice string, maxDigits int) []any {
	rows := loadtest.Rows(t, date, n, variant)
	limit := int64(1)
	for range maxDigits {
		limit *= 10
	}
	limit--
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
			case c.Name == "merchant_code":
				f.SetString(slice)
			case maxDigits > 0 && (c.Type == schemas.Decimal || c.Type == schemas.Rate):
				f.SetInt(max(-limit, min(limit, f.Int())))
			}
		}
	}
	return rows
}

// writeRun begins run runID of slice, writes the partitions of t, and
// returns the run uncommitted.
func writeRun(t *testing.T, w *bigquery.Warehouse, slice, runID string, tab schemas.Table, parts map[civil.Date][]any) *bigquery.Run {
	t.Helper()
	ctx := t.Context()
	r, err := w.BeginRun(ctx, slice, runID)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Abort(context.Background()); err != nil {
			t.Errorf("Abort in cleanup: %v", err)
		}
	})
	for date, rows := range parts {
		pw, err := r.Partition(ctx, tab, date)
		if err != nil {
			t.Fatalf("Partition(%s, %v): %v", tab.Name, date, err)
		}
		for _, row := range rows {
			if err := pw.Write(row); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	return r
}

// commitRun writes and commits the partitions of t in run runID of slice.
func commitRun(t *testing.T, w *bigquery.Warehouse, slice, runID string, tab schemas.Table, parts map[civil.Date][]any) load.CommitStats {
	t.Helper()
	st, err := writeRun(t, w, slice, runID, tab, parts).Commit(t.Context())
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return st
}

// read returns the committed rows of partition date of t.
func read(t *testing.T, r load.Reader, tab schemas.Table, date civil.Date) []any {
	t.Helper()
	var rows []any
	err := r.ReadPartition(t.Context(), tab, date, func(row any) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadPartition(%s, %v): %v", tab.Name, date, err)
	}
	return rows
}

// expect checks that partition date of t holds exactly want.
func expect(t *testing.T, r load.Reader, tab schemas.Table, date civil.Date, want []any) {
	t.Helper()
	if d := loadtest.Diff(tab, want, read(t, r, tab, date)); d != "" {
		t.Errorf("%s partition %v: %s", tab.Name, date, d)
	}
}

// tableIDs returns the names of the tables of dataset.
func tableIDs(t *testing.T, w *bigquery.Warehouse, dataset string) []string {
	t.Helper()
	var names []string
	it := w.Client().Dataset(dataset).Tables(t.Context())
	for {
		tbl, err := it.Next()
		if err != nil {
			if errors.Is(err, iterator.Done) {
				return names
			}
			t.Fatalf("listing tables of %s: %v", dataset, err)
		}
		names = append(names, tbl.TableID)
	}
}
