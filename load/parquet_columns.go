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
	"github.com/ledgerline/ledgerline/schemas"
)

// The columns of a ParquetWriter: how each contract type is appended to its
// Arrow builder and encoded, and the calendar arithmetic of DATE values.

// fewDistinct reports whether the non-null values of a hold at most one
// distinct value in eight, so that a dictionary encodes them compactly and
// cheaply.
func fewDistinct(a arrow.Array) bool {
	limit := (a.Len() - a.NullN()) / 8
	if limit == 0 {
		return false
	}
	switch a := a.(type) {
	case *array.String:
		return countDistinct(a, limit, a.Value)
	case *array.Int64:
		return countDistinct(a, limit, a.Value)
	case *array.Decimal128:
		return countDistinct(a, limit, a.Value)
	case *array.Timestamp:
		return countDistinct(a, limit, a.Value)
	case *array.Date32:
		return countDistinct(a, limit, a.Value)
	}
	return false
}

// countDistinct reports whether the non-null values of a, read by value,
// hold at most limit distinct values.
func countDistinct[K comparable](a arrow.Array, limit int, value func(int) K) bool {
	seen := make(map[K]struct{}, limit+1)
	for i := range a.Len() {
		if a.IsNull(i) {
			continue
		}
		seen[value(i)] = struct{}{}
		if len(seen) > limit {
			return false
		}
	}
	return true
}

// maxWorkers bounds the goroutines that encode the columns of a batch.
const maxWorkers = 4

// encodingCost ranks column types by the work of encoding them, so that
// the parallel encoders start with the slowest columns.
func encodingCost(t schemas.Type) int {
	switch t {
	case schemas.String:
		return 3
	case schemas.Decimal, schemas.Rate, schemas.Timestamp:
		return 2
	case schemas.Int64, schemas.Date:
		return 1
	}
	return 0
}

// writeOnly hides any Close method of the destination from the Parquet
// writer, which would otherwise close it.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// writerProperties returns the Parquet properties of t's files, with a
// dictionary for the columns named in dict.
func writerProperties(t schemas.Table, mem memory.Allocator, dict []string) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(zstdLevel),
		parquet.WithStoreDecimalAsInteger(true),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithDataPageSize(pageBytes),
		// A dictionary pays off for repetitive columns (codes, statuses,
		// currencies, partition dates) and costs time on nearly unique
		// ones (references, amounts, timestamps), which zstd compresses
		// well enough on its own.
		parquet.WithDictionaryDefault(false),
	}
	for _, name := range dict {
		opts = append(opts, parquet.WithDictionaryFor(name, true))
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
	case schemas.Decimal, schemas.Rate:
		db, isType := b.(*array.Decimal128Builder)
		ok = isType && ft.Kind() == reflect.Int64 // money.Amount, money.Rate
		col.appendValue = func(f reflect.Value) { db.Append(decimal128.FromI64(f.Int())) }
		scale := c.Type.Scale()
		col.check = func(f reflect.Value) error {
			if u := f.Int(); u > maxDecimalUnits || u < -maxDecimalUnits {
				return fmt.Errorf("%d units of 10^-%d out of range for DECIMAL(18,%d)", u, scale, scale)
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
