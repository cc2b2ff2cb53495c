package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/ledgerline/ledgerline/schemas"
)

// ReadParquet calls fn with every row of the Parquet file in r, in file
// order, as a pointer to a new row struct of t that fn may keep. It streams
// the file one record batch at a time. Columns of t are found by name and
// must have the type t gives them; a nullable column missing from the file
// reads as NULL, so files written before a nullable column was added still
// read. An error from fn stops the read and is returned. ReadParquet does
// not close r.
func ReadParquet(ctx context.Context, r parquet.ReaderAtSeeker, t schemas.Table, fn func(row any) error) error {
	return ReadParquetColumns(ctx, r, t, nil, fn)
}

// ReadParquetColumns is ReadParquet reading only the columns named in
// only (every column when only is empty), leaving the others zero: a
// Parquet reader skips the column chunks it does not read.
func ReadParquetColumns(ctx context.Context, r parquet.ReaderAtSeeker, t schemas.Table, only []string, fn func(row any) error) error {
	pf, err := file.NewParquetReader(readerAtSeeker{r})
	if err != nil {
		return fmt.Errorf("load: reading %s parquet: %w", t.Name, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("load: reading %s parquet: %w", t.Name, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("load: reading %s parquet schema: %w", t.Name, err)
	}
	var leaves []int
	var cols []schemas.Column
	for _, c := range t.Columns {
		if len(only) > 0 && !slices.Contains(only, c.Name) {
			continue
		}
		idx := sc.FieldIndices(c.Name)
		switch {
		case len(idx) > 1:
			return fmt.Errorf("load: %s parquet has %d columns named %s", t.Name, len(idx), c.Name)
		case len(idx) == 0 && c.Nullable:
			continue
		case len(idx) == 0:
			return fmt.Errorf("load: %s parquet has no column %s", t.Name, c.Name)
		}
		if got, want := sc.Field(idx[0]).Type, c.Type.ArrowType(); !arrow.TypeEqual(got, want) {
			return fmt.Errorf("load: %s parquet column %s is %v, want %v", t.Name, c.Name, got, want)
		}
		leaf := pf.MetaData().Schema.ColumnIndexByName(c.Name)
		if leaf < 0 {
			return fmt.Errorf("load: %s parquet column %s is not a leaf column", t.Name, c.Name)
		}
		leaves = append(leaves, leaf)
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return fmt.Errorf("load: %s parquet has none of the table's columns", t.Name)
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return fmt.Errorf("load: reading %s parquet: %w", t.Name, err)
	}
	defer rr.Release()
	setters := make([]setter, len(cols))
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := rr.RecordBatch()
		for i, c := range cols {
			idx := rec.Schema().FieldIndices(c.Name)
			if len(idx) != 1 {
				return fmt.Errorf("load: %s parquet record has no column %s", t.Name, c.Name)
			}
			if setters[i], err = bind(c, rec.Column(idx[0])); err != nil {
				return fmt.Errorf("load: %s parquet column %s: %w", t.Name, c.Name, err)
			}
		}
		for i := range int(rec.NumRows()) {
			p := reflect.New(t.Row)
			v := p.Elem()
			for j, set := range setters {
				if err := set(v, i); err != nil {
					return fmt.Errorf("load: %s parquet column %s: %w", t.Name, cols[j].Name, err)
				}
			}
			if err := fn(p.Interface()); err != nil {
				return err
			}
		}
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		return fmt.Errorf("load: reading %s parquet: %w", t.Name, err)
	}
	return nil
}

// readerAtSeeker hides any Close method of the source from the Parquet
// reader, which would otherwise close it.
type readerAtSeeker struct{ r parquet.ReaderAtSeeker }

func (r readerAtSeeker) ReadAt(p []byte, off int64) (int, error) { return r.r.ReadAt(p, off) }

func (r readerAtSeeker) Seek(off int64, whence int) (int64, error) { return r.r.Seek(off, whence) }

// setter sets one column of row struct v from row i of a record batch.
type setter func(v reflect.Value, i int) error

// bind returns the setter of column c from arr.
func bind(c schemas.Column, arr arrow.Array) (setter, error) {
	var set func(f reflect.Value, i int) error
	ok := false
	switch c.Type {
	case schemas.String:
		var a *array.String
		if a, ok = arr.(*array.String); ok {
			set = func(f reflect.Value, i int) error {
				f.SetString(strings.Clone(a.Value(i)))
				return nil
			}
		}
	case schemas.Int64:
		var a *array.Int64
		if a, ok = arr.(*array.Int64); ok {
			set = func(f reflect.Value, i int) error {
				f.SetInt(a.Value(i))
				return nil
			}
		}
	case schemas.Bool:
		var a *array.Boolean
		if a, ok = arr.(*array.Boolean); ok {
			set = func(f reflect.Value, i int) error {
				f.SetBool(a.Value(i))
				return nil
			}
		}
	case schemas.Decimal, schemas.Rate:
		var a *array.Decimal128
		scale := c.Type.Scale()
		if a, ok = arr.(*array.Decimal128); ok && a.DataType().(*arrow.Decimal128Type).Scale == scale {
			set = func(f reflect.Value, i int) error {
				n := a.Value(i)
				lo := int64(n.LowBits())
				if n.HighBits() != lo>>63 || lo > maxDecimalUnits || lo < -maxDecimalUnits {
					return fmt.Errorf("value %s out of range for DECIMAL(18,%d)", n.ToString(scale), scale)
				}
				f.SetInt(lo)
				return nil
			}
		}
	case schemas.Timestamp:
		var a *array.Timestamp
		if a, ok = arr.(*array.Timestamp); ok {
			set = func(f reflect.Value, i int) error {
				*f.Addr().Interface().(*time.Time) = time.UnixMicro(int64(a.Value(i))).UTC()
				return nil
			}
		}
	case schemas.Date:
		var a *array.Date32
		if a, ok = arr.(*array.Date32); ok {
			set = func(f reflect.Value, i int) error {
				*f.Addr().Interface().(*civil.Date) = dateFromDays(int64(a.Value(i)))
				return nil
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("array is %v, want %v", arr.DataType(), c.Type.ArrowType())
	}
	hasNulls := arr.NullN() > 0
	return func(v reflect.Value, i int) error {
		f := v.Field(c.Field)
		if hasNulls && arr.IsNull(i) {
			if !c.Nullable {
				return errors.New("NULL in required column")
			}
			return nil
		}
		if c.Nullable {
			p := reflect.New(f.Type().Elem())
			f.Set(p)
			f = p.Elem()
		}
		return set(f, i)
	}, nil
}
