package bigquery

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
	"google.golang.org/api/iterator"
)

// maxUnits is the largest magnitude of a DECIMAL(18,s) in units of its
// last digit.
const maxUnits = 999_999_999_999_999_999

// columns returns the columns of t that its target table has, after
// checking the table against the contract. A nullable column the table
// lacks reads as NULL. The target table is not created or changed: a
// missing table has no rows (ok is false). The metadata of a table that
// exists is kept for later reads.
func (w *Warehouse) columns(ctx context.Context, t schemas.Table) (cols []schemas.Column, ok bool, err error) {
	if err := checkNames(t); err != nil {
		return nil, false, err
	}
	w.mu.Lock()
	md := w.tables[t.Name]
	if md == nil {
		md = w.read[t.Name]
	}
	w.mu.Unlock()
	if md == nil {
		md, err = w.table(t.Name).Metadata(ctx)
		if isNotFound(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("bigquery: table %s.%s: %w", w.cfg.Dataset, t.Name, err)
		}
		w.mu.Lock()
		w.read[t.Name] = md
		w.mu.Unlock()
	}
	have := make(map[string]*bq.FieldSchema, len(md.Schema))
	for _, f := range md.Schema {
		have[strings.ToLower(f.Name)] = f
	}
	for _, c := range t.Columns {
		f := have[c.Name]
		if f == nil {
			if !c.Nullable {
				return nil, false, &IncompatibleError{Table: w.cfg.Dataset + "." + t.Name, Column: c.Name, Reason: "is in the contract but not in the table"}
			}
			continue
		}
		if want := field(c); typeName(f.Type) != typeName(want.Type) || f.Repeated {
			return nil, false, &IncompatibleError{Table: w.cfg.Dataset + "." + t.Name, Column: c.Name,
				Reason: fmt.Sprintf("is %s in the table, the contract has %s", describe(f), describe(want))}
		}
		cols = append(cols, c)
	}
	return cols, true, nil
}

// Partitions returns the dates of the non-empty partitions of t, in
// ascending order, of every merchant code.
func (w *Warehouse) Partitions(ctx context.Context, t schemas.Table) ([]civil.Date, error) {
	_, ok, err := w.columns(ctx, t)
	if err != nil || !ok {
		return nil, err
	}
	col := quoteIdent(t.Partition)
	q := w.client.Query(fmt.Sprintf("SELECT DISTINCT %s FROM %s ORDER BY %s", col, qualified(w.table(t.Name)), col))
	q.Location = w.cfg.Location
	it, err := q.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("bigquery: partitions of %s: %w", t.Name, err)
	}
	var dates []civil.Date
	for {
		var row []bq.Value
		err := it.Next(&row)
		if errors.Is(err, iterator.Done) {
			return dates, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bigquery: partitions of %s: %w", t.Name, err)
		}
		d, ok := row[0].(civil.Date)
		if len(row) != 1 || !ok {
			return nil, fmt.Errorf("bigquery: partitions of %s: got %v, want a DATE", t.Name, row)
		}
		dates = append(dates, d)
	}
}

// ReadPartition calls fn with every committed row of partition date of t,
// of every merchant code, as a pointer to a new row struct: NUMERIC exactly
// (a value that does not fit the column's DECIMAL(18,s) is an error),
// TIMESTAMP in UTC, DATE as a civil date.
func (w *Warehouse) ReadPartition(ctx context.Context, t schemas.Table, date civil.Date, fn func(row any) error) error {
	return w.query(ctx, t, load.Span{From: date, To: date}, fmt.Sprintf("%s partition %v", t.Name, date), fn)
}

// Read calls fn with every committed row of t in span, read with one
// query, as ReadPartition does.
func (w *Warehouse) Read(ctx context.Context, t schemas.Table, span load.Span, fn func(row any) error) error {
	return w.query(ctx, t, span, fmt.Sprintf("%s %+v", t.Name, span), fn)
}

// spanQuery returns the WHERE clause and parameters that select span of t.
func spanQuery(t schemas.Table, span load.Span) (string, []bq.QueryParameter) {
	var conds []string
	var params []bq.QueryParameter
	part := quoteIdent(t.Partition)
	if span.From == span.To && !span.From.IsZero() {
		conds = append(conds, part+" = @partition")
		params = append(params, bq.QueryParameter{Name: "partition", Value: span.From})
	} else {
		if !span.From.IsZero() {
			conds = append(conds, part+" >= @from")
			params = append(params, bq.QueryParameter{Name: "from", Value: span.From})
		}
		if !span.To.IsZero() {
			conds = append(conds, part+" <= @to")
			params = append(params, bq.QueryParameter{Name: "to", Value: span.To})
		}
	}
	if span.Merchant != "" {
		conds = append(conds, quoteIdent(sliceColumn)+" = @merchant")
		params = append(params, bq.QueryParameter{Name: "merchant", Value: span.Merchant})
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), params
}

// query reads the rows of t in span with one query and calls fn with
// each; its errors, but not fn's, say it was reading what.
func (w *Warehouse) query(ctx context.Context, t schemas.Table, span load.Span, what string, fn func(row any) error) error {
	cols, ok, err := w.columns(ctx, t)
	if err != nil || !ok {
		return err
	}
	if len(span.Columns) > 0 {
		cols = slices.DeleteFunc(slices.Clone(cols), func(c schemas.Column) bool { return !slices.Contains(span.Columns, c.Name) })
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	where, params := spanQuery(t, span)
	q := w.client.Query(fmt.Sprintf("SELECT %s FROM %s%s", strings.Join(names, ", "), qualified(w.table(t.Name)), where))
	q.Parameters = params
	q.Location = w.cfg.Location
	it, err := q.Read(ctx)
	if err != nil {
		return fmt.Errorf("bigquery: reading %s: %w", what, err)
	}
	for {
		var vals []bq.Value
		err := it.Next(&vals)
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bigquery: reading %s: %w", what, err)
		}
		if len(vals) != len(cols) {
			return fmt.Errorf("bigquery: reading %s: got %d columns, want %d", what, len(vals), len(cols))
		}
		p := reflect.New(t.Row)
		for i, c := range cols {
			if err := setField(p.Elem().Field(c.Field), c, vals[i]); err != nil {
				return fmt.Errorf("bigquery: reading %s: column %s: %w", what, c.Name, err)
			}
		}
		if err := fn(p.Interface()); err != nil {
			return err
		}
	}
}

// setField sets f, the field of column c, from the value v the client read.
func setField(f reflect.Value, c schemas.Column, v bq.Value) error {
	if v == nil {
		if !c.Nullable {
			return errors.New("NULL in a REQUIRED column")
		}
		return nil
	}
	if c.Nullable {
		p := reflect.New(f.Type().Elem())
		f.Set(p)
		f = p.Elem()
	}
	ok := false
	switch c.Type {
	case schemas.String:
		var s string
		if s, ok = v.(string); ok {
			f.SetString(s)
		}
	case schemas.Int64:
		var n int64
		if n, ok = v.(int64); ok {
			f.SetInt(n)
		}
	case schemas.Bool:
		var b bool
		if b, ok = v.(bool); ok {
			f.SetBool(b)
		}
	case schemas.Decimal, schemas.Rate:
		var r *big.Rat
		if r, ok = v.(*big.Rat); ok {
			n, err := units(r, c.Type.Scale())
			if err != nil {
				return err
			}
			f.SetInt(n)
		}
	case schemas.Timestamp:
		var ts time.Time
		if ts, ok = v.(time.Time); ok {
			f.Set(reflect.ValueOf(ts.UTC()))
		}
	case schemas.Date:
		var d civil.Date
		if d, ok = v.(civil.Date); ok {
			f.Set(reflect.ValueOf(d))
		}
	}
	if !ok {
		return fmt.Errorf("got %T, want a %v", v, c.Type)
	}
	return nil
}

// units returns r in units of 10^-scale, refusing a value with more
// decimals or beyond DECIMAL(18,scale).
func units(r *big.Rat, scale int32) (int64, error) {
	n := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(n))
	if !x.IsInt() {
		return 0, fmt.Errorf("%s has more than %d decimals", r.RatString(), scale)
	}
	u := x.Num()
	if !u.IsInt64() || u.Int64() > maxUnits || u.Int64() < -maxUnits {
		return 0, fmt.Errorf("%s is out of range for DECIMAL(18,%d)", r.FloatString(int(scale)), scale)
	}
	return u.Int64(), nil
}
