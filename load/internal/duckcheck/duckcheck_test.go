package duckcheck_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

var date = civil.Date{Year: 2024, Month: 2, Day: 29}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writePartition commits rows as partition date of tab in a new local
// directory and returns the directory and the partition file's path. The
// rows of etl_runs, which is append-only, are appended as run records of
// merchant M1 (their merchant_code is set to it).
func writePartition(t *testing.T, tab schemas.Table, rows []any) (root, path string) {
	t.Helper()
	ctx := t.Context()
	root = t.TempDir()
	d, err := local.Open(root, "M1", "duckcheck")
	if err != nil {
		t.Fatal(err)
	}
	if tab.Name == schemas.Runs().Name {
		for _, r := range rows {
			rec := r.(*schemas.Run)
			rec.MerchantCode = "M1"
			if err := d.AppendRun(ctx, *rec); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return root, filepath.Join(d.PartitionDir(tab, date), local.RecordFileName("M1", "duckcheck"))
	}
	w, err := d.Partition(ctx, tab, date)
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
	if _, err := d.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return root, d.SlicePath(tab, date)
}

// quote returns s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// wantTypes are the SQL and physical Parquet types of the column types.
var wantTypes = map[schemas.Type]struct{ sql, physical string }{
	schemas.String:    {"VARCHAR", "BYTE_ARRAY"},
	schemas.Int64:     {"BIGINT", "INT64"},
	schemas.Bool:      {"BOOLEAN", "BOOLEAN"},
	schemas.Decimal:   {"DECIMAL(18,6)", "INT64"},
	schemas.Rate:      {"DECIMAL(18,9)", "INT64"},
	schemas.Timestamp: {"TIMESTAMP WITH TIME ZONE", "INT64"},
	schemas.Date:      {"DATE", "INT32"},
}

// TestSchema checks the Parquet types DuckDB sees: physical, logical, and
// the SQL types it reads them as.
func TestSchema(t *testing.T) {
	ctx := t.Context()
	db := openDuckDB(t)
	for _, tab := range schemas.All() {
		t.Run(tab.Name, func(t *testing.T) {
			_, path := writePartition(t, tab, loadtest.Rows(tab, date, 50, 0))

			sqlTypes := make(map[string]string)
			rows, err := db.QueryContext(ctx, "DESCRIBE SELECT * FROM read_parquet("+quote(path)+")")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name, typ string
				var null, key, def, extra sql.NullString
				if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
					t.Fatal(err)
				}
				sqlTypes[name] = typ
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}

			type pqType struct{ physical, converted, logical, repetition string }
			pq := make(map[string]pqType)
			rows, err = db.QueryContext(ctx, `SELECT name, coalesce(type, ''), coalesce(converted_type, ''),
				coalesce(CAST(logical_type AS VARCHAR), ''), coalesce(repetition_type, '')
				FROM parquet_schema(`+quote(path)+`)`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				var p pqType
				if err := rows.Scan(&name, &p.physical, &p.converted, &p.logical, &p.repetition); err != nil {
					t.Fatal(err)
				}
				pq[name] = p
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}

			for _, c := range tab.Columns {
				want := wantTypes[c.Type]
				wantSQL, wantPhysical := want.sql, want.physical
				if got := sqlTypes[c.Name]; got != wantSQL {
					t.Errorf("%s: DuckDB type %q, want %q", c.Name, got, wantSQL)
				}
				p := pq[c.Name]
				if p.physical != wantPhysical {
					t.Errorf("%s: physical type %q, want %q", c.Name, p.physical, wantPhysical)
				}
				wantRep := "REQUIRED"
				if c.Nullable {
					wantRep = "OPTIONAL"
				}
				if p.repetition != wantRep {
					t.Errorf("%s: repetition %q, want %q", c.Name, p.repetition, wantRep)
				}
				var ok bool
				switch c.Type {
				case schemas.Decimal:
					ok = p.converted == "DECIMAL" && strings.Contains(p.logical, "scale=6") && strings.Contains(p.logical, "precision=18")
				case schemas.Rate:
					ok = p.converted == "DECIMAL" && strings.Contains(p.logical, "scale=9") && strings.Contains(p.logical, "precision=18")
				case schemas.Timestamp:
					ok = strings.Contains(p.logical, "isAdjustedToUTC=1") && strings.Contains(p.logical, "MICROS=MicroSeconds()")
				case schemas.Date:
					ok = p.converted == "DATE"
				case schemas.String:
					ok = p.converted == "UTF8"
				default:
					ok = true
				}
				if !ok {
					t.Errorf("%s: converted type %q, logical type %q", c.Name, p.converted, p.logical)
				}
			}

			rows, err = db.QueryContext(ctx, "SELECT DISTINCT compression FROM parquet_metadata("+quote(path)+")")
			if err != nil {
				t.Fatal(err)
			}
			var codecs []string
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					t.Fatal(err)
				}
				codecs = append(codecs, c)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(codecs) != 1 || codecs[0] != "ZSTD" {
				t.Errorf("compression %v, want ZSTD", codecs)
			}
		})
	}
}

// TestValues reads every cell of the sample rows of each table back with
// DuckDB and compares it with the value written.
func TestValues(t *testing.T) {
	ctx := t.Context()
	db := openDuckDB(t)
	for _, tab := range schemas.All() {
		t.Run(tab.Name, func(t *testing.T) {
			want := loadtest.Rows(tab, date, 200, 3)
			_, path := writePartition(t, tab, want)
			loadtest.SortByKey(tab, want)

			exprs := make([]string, len(tab.Columns))
			for i, c := range tab.Columns {
				switch c.Type {
				case schemas.Timestamp:
					exprs[i] = "CAST(epoch_us(" + c.Name + ") AS VARCHAR)"
				default:
					exprs[i] = "CAST(" + c.Name + " AS VARCHAR)"
				}
			}
			got := query(t, db, ctx, fmt.Sprintf("SELECT %s FROM read_parquet(%s)", strings.Join(exprs, ", "), quote(path)), len(tab.Columns))
			if len(got) != len(want) {
				t.Fatalf("DuckDB read %d rows, want %d", len(got), len(want))
			}
			// Match rows by key: DuckDB reads in file order, which is the
			// write order, but do not depend on it.
			byKey := make(map[string][]sql.NullString)
			for _, r := range got {
				byKey[keyText(tab, r)] = r
			}
			for i, row := range want {
				v := reflect.ValueOf(row).Elem()
				cells := make([]sql.NullString, len(tab.Columns))
				for j, c := range tab.Columns {
					cells[j] = text(v.Field(c.Field), c.Type)
				}
				g, ok := byKey[keyText(tab, cells)]
				if !ok {
					t.Fatalf("row %d: key %s not read back", i, keyText(tab, cells))
				}
				for j, c := range tab.Columns {
					if g[j] != cells[j] {
						t.Errorf("row %d column %s: DuckDB read %s, wrote %s", i, c.Name, show(g[j]), show(cells[j]))
					}
				}
			}
		})
	}
}

func query(t *testing.T, db *sql.DB, ctx context.Context, q string, ncol int) [][]sql.NullString {
	t.Helper()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]sql.NullString
	for rows.Next() {
		r := make([]sql.NullString, ncol)
		ptrs := make([]any, ncol)
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func keyText(tab schemas.Table, cells []sql.NullString) string {
	var b strings.Builder
	for _, k := range tab.Key {
		for i, c := range tab.Columns {
			if c.Name == k {
				b.WriteString(cells[i].String + "\x00")
			}
		}
	}
	return b.String()
}

// text formats a field as DuckDB casts the column to VARCHAR (timestamps as
// microseconds since the epoch).
func text(f reflect.Value, typ schemas.Type) sql.NullString {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return sql.NullString{}
		}
		f = f.Elem()
	}
	var s string
	switch typ {
	case schemas.String:
		s = f.String()
	case schemas.Int64:
		s = strconv.FormatInt(f.Int(), 10)
	case schemas.Bool:
		s = strconv.FormatBool(f.Bool())
	case schemas.Decimal:
		s = money.FromUnits(f.Int()).String()
	case schemas.Rate:
		s = money.RateFromUnits(f.Int()).String()
	case schemas.Timestamp:
		s = strconv.FormatInt(f.Interface().(time.Time).UnixMicro(), 10)
	case schemas.Date:
		s = f.Interface().(civil.Date).String()
	}
	return sql.NullString{String: s, Valid: true}
}

func show(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return strconv.Quote(s.String)
}

// TestExactOrders checks a few hand-made orders: an exact SUM of amounts
// at the limits of DECIMAL(18,6), a NULL, a negative amount, and
// timestamps on both sides of midnight UTC.
func TestExactOrders(t *testing.T) {
	ctx := t.Context()
	db := openDuckDB(t)
	orders := schemas.Orders()
	base := loadtest.Rows(orders, date, 4, 0)
	amounts := []string{"999999999999.999999", "999999999999.999999", "-0.000001", "12.345678"}
	sum := new(big.Rat)
	var rows []any
	for i, r := range base {
		o := r.(*schemas.Order)
		o.NetPrice = money.MustParse(amounts[i])
		sum.Add(sum, o.NetPrice.Rat())
		o.OrderTS = time.Date(2024, 2, 28, 23, 59, 59, 999999000, time.UTC).Add(time.Duration(i) * time.Microsecond)
		rows = append(rows, o)
	}
	root, path := writePartition(t, orders, rows)
	file := quote(path)

	var got string
	if err := db.QueryRowContext(ctx, "SELECT CAST(SUM(net_price) AS VARCHAR) FROM read_parquet("+file+")").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := sum.FloatString(6); got != want {
		t.Errorf("SUM(net_price) = %s, want %s", got, want)
	}

	var neg string
	var ext sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT CAST(net_price AS VARCHAR), external_reference FROM read_parquet("+file+") WHERE ref_no = 'REF_NO-000002'").Scan(&neg, &ext); err != nil {
		t.Fatal(err)
	}
	if neg != "-0.000001" {
		t.Errorf("negative amount read as %s", neg)
	}
	var nulls int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+file+") WHERE external_reference IS NULL").Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if want := countNil(rows, func(o *schemas.Order) bool { return o.ExternalReference == nil }); nulls != want || want == 0 {
		t.Errorf("%d NULL external_reference, want %d (> 0)", nulls, want)
	}

	// Midnight UTC: the first order is on the 28th, the others on the 29th.
	q := "SET TimeZone = 'UTC'; SELECT ref_no, order_ts, CAST(CAST(order_ts AS DATE) AS VARCHAR) FROM read_parquet(" + file + ") ORDER BY ref_no"
	res, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	for i := 0; res.Next(); i++ {
		var ref, day string
		var ts time.Time
		if err := res.Scan(&ref, &ts, &day); err != nil {
			t.Fatal(err)
		}
		o := rows[i].(*schemas.Order)
		if ref != o.RefNo || !ts.Equal(o.OrderTS) {
			t.Errorf("row %d: %s %v, want %s %v", i, ref, ts, o.RefNo, o.OrderTS)
		}
		if want := map[bool]string{true: "2024-02-28", false: "2024-02-29"}[i == 0]; day != want {
			t.Errorf("row %d: UTC date %s, want %s", i, day, want)
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}

	// Globbing the table directory finds the committed file only, not a
	// temporary file of a run still writing.
	d, err := local.Open(root, "M1", "unfinished")
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Partition(ctx, orders, date.AddDays(1))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort(context.Background())
	if err := w.Write(loadtest.Rows(orders, date.AddDays(1), 1, 0)[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	glob := quote(filepath.Join(root, "orders", "*", "*.parquet"))
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+glob+", hive_partitioning = true)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(rows) {
		t.Errorf("glob over the table read %d rows, want %d", n, len(rows))
	}
}

func countNil(rows []any, isNil func(*schemas.Order) bool) int {
	n := 0
	for _, r := range rows {
		if isNil(r.(*schemas.Order)) {
			n++
		}
	}
	return n
}
