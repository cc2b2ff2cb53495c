package load

import (
	"fmt"
	"io"
	"reflect"
	"time"

	"cloud.google.com/go/civil"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/ledgerline/ledgerline/schemas"
)

const (
	// batchRows is the number of rows buffered in Arrow builders before
	// they become a record batch for the Parquet writer.
	batchRows = 4096
	// rowGroupRows bounds a row group, and so the memory a writer holds:
	// a buffered row group stays in memory, compressed, until it is full.
	// It is a multiple of batchRows, so batches never straddle row groups.
	rowGroupRows = 32 * batchRows
	// zstdLevel is the zstd compression level of every column.
	zstdLevel = 1
	// maxDecimalUnits is the largest magnitude of DECIMAL(18,6), in
	// millionths.
	maxDecimalUnits = 999_999_999_999_999_999
)

// ParquetWriter writes the rows of one table as a Parquet file: DECIMAL(18,6)
// stored as INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS), DATE, zstd
// compression, row groups of a bounded number of rows. Its memory use does
// not grow with the number of rows.
type ParquetWriter struct {
	table   schemas.Table
	rowType reflect.Type // pointer to the row struct
	fw      *pqarrow.FileWriter
	rb      *array.RecordBuilder
	cols    []column
	checks  []column // the columns whose values need validation
	pending int      // rows in the builders
	rows    int64
	err     error // sticky: set when the file is broken
	closed  bool
}

// column writes one column of the row struct into an Arrow builder.
type column struct {
	name     string
	field    int
	nullable bool
	b        array.Builder
	// appendValue appends a value; for a nullable column f is the
	// pointer's target.
	appendValue func(f reflect.Value)
	// check, if not nil, validates a value before anything is appended.
	check func(f reflect.Value) error
}

// NewParquetWriter returns a writer of rows of t to w. Close finishes the
// file; it does not close w.
func NewParquetWriter(w io.Writer, t schemas.Table) (*ParquetWriter, error) {
	sc := t.ArrowSchema()
	mem := memory.DefaultAllocator
	rb := array.NewRecordBuilder(mem, sc)
	pw := &ParquetWriter{table: t, rowType: reflect.PointerTo(t.Row), rb: rb}
	for i, c := range t.Columns {
		col, err := newColumn(t, c, rb.Field(i))
		if err != nil {
			rb.Release()
			return nil, err
		}
		pw.cols = append(pw.cols, col)
		if col.check != nil {
			pw.checks = append(pw.checks, col)
		}
	}
	rb.Reserve(batchRows)
	fw, err := pqarrow.NewFileWriter(sc, writeOnly{w}, writerProperties(t), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		rb.Release()
		return nil, fmt.Errorf("load: parquet writer for %s: %w", t.Name, err)
	}
	pw.fw = fw
	return pw, nil
}

// writeOnly hides any Close method of the destination from the Parquet
// writer, which would otherwise close it.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// writerProperties returns the Parquet properties of t's files.
func writerProperties(t schemas.Table) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(zstdLevel),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		// Dictionaries pay off for the repetitive columns (codes,
		// statuses, currencies, partition dates) and cost time on the
		// nearly unique ones (amounts, timestamps), which zstd compresses
		// well enough on its own.
		parquet.WithDictionaryDefault(false),
	}
	for _, c := range t.Columns {
		switch c.Type {
		case schemas.String, schemas.Date:
			opts = append(opts, parquet.WithDictionaryFor(c.Name, true))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

var (
	timeType = reflect.TypeFor[time.Time]()
	dateType = reflect.TypeFor[civil.Date]()
)

// newColumn returns the column that appends column c of t into b, checking
// that the row struct field has the type the column's type implies.
func newColumn(t schemas.Table, c schemas.Column, b array.Builder) (column, error) {
	if c.Field < 0 || c.Field >= t.Row.NumField() {
		return column{}, fmt.Errorf("load: table %s column %s: no field %d in %v", t.Name, c.Name, c.Field, t.Row)
	}
	ft := t.Row.Field(c.Field).Type
	if c.Nullable {
		if ft.Kind() != reflect.Pointer {
			return column{}, fmt.Errorf("load: table %s column %s: nullable column in non-pointer field of type %v", t.Name, c.Name, ft)
		}
		ft = ft.Elem()
	}
	col := column{name: c.Name, field: c.Field, nullable: c.Nullable, b: b}
	ok := false
	switch c.Type {
	case schemas.String:
		sb, isType := b.(*array.StringBuilder)
		ok = isType && ft.Kind() == reflect.String
		col.appendValue = func(f reflect.Value) { sb.Append(f.String()) }
	case schemas.Int64:
		ib, isType := b.(*array.Int64Builder)
		ok = isType && ft.Kind() == reflect.Int64
		col.appendValue = func(f reflect.Value) { ib.Append(f.Int()) }
	case schemas.Bool:
		bb, isType := b.(*array.BooleanBuilder)
		ok = isType && ft.Kind() == reflect.Bool
		col.appendValue = func(f reflect.Value) { bb.Append(f.Bool()) }
	case schemas.Decimal:
		db, isType := b.(*array.Decimal128Builder)
		ok = isType && ft.Kind() == reflect.Int64 // money.Amount
		col.appendValue = func(f reflect.Value) { db.Append(decimal128.FromI64(f.Int())) }
		col.check = func(f reflect.Value) error {
			if u := f.Int(); u > maxDecimalUnits || u < -maxDecimalUnits {
				return fmt.Errorf("%d millionths out of range for DECIMAL(18,6)", u)
			}
			return nil
		}
	case schemas.Timestamp:
		tb, isType := b.(*array.TimestampBuilder)
		ok = isType && ft == timeType
		col.appendValue = func(f reflect.Value) {
			tb.Append(arrow.Timestamp(f.Addr().Interface().(*time.Time).UnixMicro()))
		}
	case schemas.Date:
		db, isType := b.(*array.Date32Builder)
		ok = isType && ft == dateType
		// Rows of a partition share their dates; remember the last one.
		last, lastDays := civil.Date{}, arrow.Date32(0)
		col.appendValue = func(f reflect.Value) {
			d := *f.Addr().Interface().(*civil.Date)
			if d != last {
				last, lastDays = d, arrow.Date32(daysSinceEpoch(d))
			}
			db.Append(lastDays)
		}
		col.check = func(f reflect.Value) error {
			if d := *f.Addr().Interface().(*civil.Date); !validDate(d) {
				return fmt.Errorf("invalid date %v (want a day from 0001-01-01 to 9999-12-31)", d)
			}
			return nil
		}
	}
	if !ok {
		return column{}, fmt.Errorf("load: table %s column %s: %v field of type %v", t.Name, c.Name, c.Type, ft)
	}
	return col, nil
}

// Write appends row, a pointer to the table's row struct. A row with a
// value the file cannot hold is refused, with nothing written.
func (w *ParquetWriter) Write(row any) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("load: %s: write to closed parquet writer", w.table.Name)
	}
	if reflect.TypeOf(row) != w.rowType {
		return fmt.Errorf("load: %s: row is %T, want %v", w.table.Name, row, w.rowType)
	}
	p := reflect.ValueOf(row)
	if p.IsNil() {
		return fmt.Errorf("load: %s: nil row", w.table.Name)
	}
	v := p.Elem()
	for i := range w.checks {
		c := &w.checks[i]
		f := v.Field(c.field)
		if c.nullable {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		if err := c.check(f); err != nil {
			return fmt.Errorf("load: %s column %s: %w", w.table.Name, c.name, err)
		}
	}
	for i := range w.cols {
		c := &w.cols[i]
		f := v.Field(c.field)
		if c.nullable {
			if f.IsNil() {
				c.b.AppendNull()
				continue
			}
			f = f.Elem()
		}
		c.appendValue(f)
	}
	w.rows++
	w.pending++
	if w.pending == batchRows {
		return w.flush()
	}
	return nil
}

// Rows returns the number of rows written.
func (w *ParquetWriter) Rows() int64 { return w.rows }

// flush hands the buffered rows to the Parquet writer as one record batch.
func (w *ParquetWriter) flush() error {
	if w.pending == 0 {
		return nil
	}
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.pending = 0
	if err := w.fw.WriteBuffered(rec); err != nil {
		w.err = fmt.Errorf("load: %s: writing parquet: %w", w.table.Name, err)
		return w.err
	}
	w.rb.Reserve(batchRows)
	return nil
}

// Close writes the remaining rows and the file footer. It does not close
// the underlying writer. Closing again has no effect.
func (w *ParquetWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	defer w.rb.Release()
	err := w.err
	if err == nil {
		err = w.flush()
	}
	if cerr := w.fw.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: %s: closing parquet: %w", w.table.Name, cerr)
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// daysSinceEpoch returns the number of days from 1970-01-01 to d, in the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil).
func daysSinceEpoch(d civil.Date) int64 {
	y, m, day := int64(d.Year), int64(d.Month), int64(d.Day)
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateFromDays is the inverse of daysSinceEpoch (civil_from_days).
func dateFromDays(z int64) civil.Date {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return civil.Date{Year: int(y), Month: time.Month(m), Day: int(d)}
}

// validDate reports whether d is a real day from 0001-01-01 to 9999-12-31,
// the range of a BigQuery DATE.
func validDate(d civil.Date) bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[d.Month-1]
	if d.Month == time.February && d.Year%4 == 0 && (d.Year%100 != 0 || d.Year%400 == 0) {
		days = 29
	}
	return d.Day <= days
}
