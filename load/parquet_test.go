package load_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

var date = civil.Date{Year: 2024, Month: 2, Day: 29}

// writeFile writes rows of t as a Parquet file.
func writeFile(t *testing.T, tab schemas.Table, rows []any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := load.NewParquetWriter(&buf, tab)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write row %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Rows(); got != int64(len(rows)) {
		t.Errorf("Rows() = %d, want %d", got, len(rows))
	}
	return buf.Bytes()
}

func readFile(t *testing.T, tab schemas.Table, data []byte) []any {
	t.Helper()
	var rows []any
	err := load.ReadParquet(t.Context(), bytes.NewReader(data), tab, func(row any) error {
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestParquetRoundTrip(t *testing.T) {
	for _, tab := range schemas.All() {
		for _, n := range []int{0, 1, 50, 10_000} {
			t.Run(fmt.Sprintf("%s/%d", tab.Name, n), func(t *testing.T) {
				rows := loadtest.Rows(tab, date, n, 0)
				got := readFile(t, tab, writeFile(t, tab, rows))
				// File order is kept, so compare without sorting too.
				for i := range min(len(rows), len(got)) {
					if d := loadtest.Diff(tab, rows[i:i+1], got[i:i+1]); d != "" {
						t.Fatalf("row %d: %s", i, d)
					}
				}
				if d := loadtest.Diff(tab, rows, got); d != "" {
					t.Error(d)
				}
			})
		}
	}
}

func TestParquetExactValues(t *testing.T) {
	tab := schemas.Orders()
	max := money.MustParse("999999999999.999999")
	rows := loadtest.Rows(tab, date, 3, 0)
	o := rows[1].(*schemas.Order)
	o.NetPrice, o.GrossPrice, o.VAT = max, max.Neg(), money.MustParse("-0.000001")
	got := readFile(t, tab, writeFile(t, tab, rows))
	g := got[1].(*schemas.Order)
	if g.NetPrice.String() != "999999999999.999999" || g.GrossPrice.String() != "-999999999999.999999" || g.VAT.String() != "-0.000001" {
		t.Errorf("amounts = %v, %v, %v", g.NetPrice, g.GrossPrice, g.VAT)
	}
	if g0 := got[0].(*schemas.Order); g0.ExternalReference != nil || g0.FinishTS != nil || g0.OrderNo != nil {
		t.Errorf("row 0 nullable columns = %v, %v, %v; want NULL", g0.ExternalReference, g0.FinishTS, g0.OrderNo)
	}
	if loc := g.OrderTS.Location(); loc.String() != "UTC" {
		t.Errorf("timestamp read in %v, want UTC", loc)
	}
}

func TestParquetFileMetadata(t *testing.T) {
	for _, tab := range schemas.All() {
		t.Run(tab.Name, func(t *testing.T) {
			data := writeFile(t, tab, loadtest.Rows(tab, date, 10, 0))
			pf, err := file.NewParquetReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			md := pf.MetaData()
			sc := md.Schema
			if sc.NumColumns() != len(tab.Columns) {
				t.Fatalf("file has %d columns, want %d", sc.NumColumns(), len(tab.Columns))
			}
			for _, c := range tab.Columns {
				i := sc.ColumnIndexByName(c.Name)
				if i < 0 {
					t.Errorf("no column %s", c.Name)
					continue
				}
				col := sc.Column(i)
				if opt := col.MaxDefinitionLevel() == 1; opt != c.Nullable {
					t.Errorf("%s: optional = %v, want %v", c.Name, opt, c.Nullable)
				}
				phys, lt := col.PhysicalType(), col.LogicalType()
				var ok bool
				switch c.Type {
				case schemas.Decimal, schemas.Rate:
					d, isDec := lt.(schema.DecimalLogicalType)
					ok = phys == parquet.Types.Int64 && isDec && d.Precision() == 18 && d.Scale() == c.Type.Scale()
				case schemas.Timestamp:
					ts, isTS := lt.(schema.TimestampLogicalType)
					ok = phys == parquet.Types.Int64 && isTS && ts.IsAdjustedToUTC() && ts.TimeUnit() == schema.TimeUnitMicros
				case schemas.Date:
					_, isDate := lt.(schema.DateLogicalType)
					ok = phys == parquet.Types.Int32 && isDate
				case schemas.String:
					_, isString := lt.(schema.StringLogicalType)
					ok = phys == parquet.Types.ByteArray && isString
				case schemas.Int64:
					ok = phys == parquet.Types.Int64
				case schemas.Bool:
					ok = phys == parquet.Types.Boolean
				}
				if !ok {
					t.Errorf("%s (%v): physical %v, logical %v", c.Name, c.Type, phys, lt)
				}
				for rg := range md.NumRowGroups() {
					cc, err := md.RowGroup(rg).ColumnChunk(i)
					if err != nil {
						t.Fatal(err)
					}
					if cc.Compression() != compress.Codecs.Zstd {
						t.Errorf("%s: compression %v, want ZSTD", c.Name, cc.Compression())
					}
				}
			}
		})
	}
}

func TestParquetRowGroupsBounded(t *testing.T) {
	tab := schemas.Orders()
	const n = 140_000
	base := loadtest.Rows(tab, date, 10, 0)
	var buf bytes.Buffer
	w, err := load.NewParquetWriter(&buf, tab)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Write(base[i%len(base)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := pf.NumRowGroups(); got != 2 {
		t.Errorf("row groups = %d, want 2", got)
	}
	i := 0
	err = load.ReadParquet(t.Context(), bytes.NewReader(buf.Bytes()), tab, func(row any) error {
		if d := loadtest.Diff(tab, base[i%len(base):i%len(base)+1], []any{row}); d != "" {
			t.Fatalf("row %d: %s", i, d)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Errorf("read %d rows, want %d", i, n)
	}
}

func TestParquetWriterRefusesRows(t *testing.T) {
	tab := schemas.Orders()
	good := loadtest.Rows(tab, date, 1, 0)[0].(*schemas.Order)
	tooBig := *good
	tooBig.NetPrice = money.FromUnits(1_000_000_000_000_000_000)
	tooSmall := *good
	tooSmall.Discount = money.FromUnits(-1_000_000_000_000_000_000)
	badDate := *good
	badDate.OrderDate = civil.Date{}
	farDate := *good
	farDate.OrderDate = civil.Date{Year: 10000, Month: 1, Day: 1}
	tests := []struct {
		name string
		row  any
	}{
		{"nil", nil},
		{"nil pointer", (*schemas.Order)(nil)},
		{"struct value", *good},
		{"other table", loadtest.Rows(schemas.OrderItems(), date, 1, 0)[0]},
		{"amount above DECIMAL(18,6)", &tooBig},
		{"amount below DECIMAL(18,6)", &tooSmall},
		{"zero date", &badDate},
		{"date after 9999", &farDate},
	}
	var buf bytes.Buffer
	w, err := load.NewParquetWriter(&buf, tab)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if err := w.Write(tt.row); err == nil {
			t.Errorf("Write(%s) succeeded, want error", tt.name)
		}
	}
	if err := w.Write(good); err != nil {
		t.Fatalf("Write(good) after refused rows: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != 1 {
		t.Errorf("Rows() = %d, want 1", w.Rows())
	}
	if err := w.Write(good); err == nil {
		t.Error("Write after Close succeeded, want error")
	}
	if d := loadtest.Diff(tab, []any{good}, readFile(t, tab, buf.Bytes())); d != "" {
		t.Error(d)
	}
}

type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestParquetWriterLeavesWriterOpen(t *testing.T) {
	var c closeRecorder
	w, err := load.NewParquetWriter(&c, schemas.Orders())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if c.closed {
		t.Error("Close closed the underlying writer")
	}
	if !bytes.HasPrefix(c.Bytes(), []byte("PAR1")) || !bytes.HasSuffix(c.Bytes(), []byte("PAR1")) {
		t.Error("not a Parquet file")
	}
}

func TestReadParquetSchemaEvolution(t *testing.T) {
	orders := schemas.Orders()
	rows := loadtest.Rows(orders, date, 20, 0)
	without := func(name string) schemas.Table {
		t := orders
		t.Columns = slices.DeleteFunc(slices.Clone(t.Columns), func(c schemas.Column) bool { return c.Name == name })
		return t
	}

	// A file without a nullable column reads it as NULL.
	got := readFile(t, orders, writeFile(t, without("external_reference"), rows))
	want := make([]any, len(rows))
	for i, r := range rows {
		o := *r.(*schemas.Order)
		o.ExternalReference = nil
		want[i] = &o
	}
	if d := loadtest.Diff(orders, want, got); d != "" {
		t.Error(d)
	}

	// A file without a required column does not read.
	data := writeFile(t, without("status"), rows)
	if err := load.ReadParquet(t.Context(), bytes.NewReader(data), orders, func(any) error { return nil }); err == nil {
		t.Error("reading a file without required column status succeeded")
	}

	// Another table's file does not read.
	data = writeFile(t, orders, rows)
	if err := load.ReadParquet(t.Context(), bytes.NewReader(data), schemas.OrderItems(), func(any) error { return nil }); err == nil {
		t.Error("reading orders as order_items succeeded")
	}

	// Not a Parquet file.
	if err := load.ReadParquet(t.Context(), strings.NewReader("not parquet"), orders, func(any) error { return nil }); err == nil {
		t.Error("reading garbage succeeded")
	}
}

func TestReadParquetStopsOnError(t *testing.T) {
	tab := schemas.Orders()
	data := writeFile(t, tab, loadtest.Rows(tab, date, 100, 0))
	stop := errors.New("stop")
	n := 0
	err := load.ReadParquet(t.Context(), bytes.NewReader(data), tab, func(any) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("ReadParquet = %v after %d rows, want stop after 3", err, n)
	}
}

func TestPartitionCheck(t *testing.T) {
	tab := schemas.Orders()
	check, err := load.PartitionCheck(tab, date)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		row  any
		ok   bool
	}{
		{"same date", loadtest.Rows(tab, date, 1, 0)[0], true},
		{"next date", loadtest.Rows(tab, date.AddDays(1), 1, 0)[0], false},
		{"other table", loadtest.Rows(schemas.OrderItems(), date, 1, 0)[0], false},
		{"nil pointer", (*schemas.Order)(nil), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if err := check(tt.row); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	if _, err := load.PartitionCheck(tab, civil.Date{}); err == nil {
		t.Error("PartitionCheck with an invalid date succeeded")
	}
}

func TestParquetOneWorker(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	tab := schemas.SubscriptionHistory()
	rows := loadtest.Rows(tab, date, 9000, 0)
	if d := loadtest.Diff(tab, rows, readFile(t, tab, writeFile(t, tab, rows))); d != "" {
		t.Error(d)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestParquetWriterReportsWriteErrors(t *testing.T) {
	tab := schemas.Orders()
	rows := loadtest.Rows(tab, date, 100, 0)
	const n = 300_000
	write := func(w *load.ParquetWriter) error {
		for i := range n {
			if err := w.Write(rows[i%len(rows)]); err != nil {
				return err
			}
		}
		return nil
	}
	var whole bytes.Buffer
	w, err := load.NewParquetWriter(&whole, tab)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Fail at the start, in the first row group, in the last.
	for _, limit := range []int{0, 100, whole.Len() / 3, whole.Len() - 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			w, err := load.NewParquetWriter(&failingWriter{n: limit}, tab)
			if err != nil {
				t.Fatal(err)
			}
			werr := write(w)
			cerr := w.Close()
			if !errors.Is(cerr, errDiskFull) {
				t.Errorf("Close = %v, want %v", cerr, errDiskFull)
			}
			if werr != nil && !errors.Is(werr, errDiskFull) {
				t.Errorf("Write = %v, want %v", werr, errDiskFull)
			}
			if err := w.Write(rows[0]); err == nil {
				t.Error("Write after a failure succeeded")
			}
		})
	}
}
