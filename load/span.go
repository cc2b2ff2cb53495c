package load

import (
	"context"
	"fmt"
	"reflect"

	"github.com/ledgerline/ledgerline/schemas"
)

// ReadSpan calls fn with every committed row of t in span: in one request
// when r is a SpanReader, otherwise partition by partition.
func ReadSpan(ctx context.Context, r Reader, t schemas.Table, span Span, fn func(row any) error) error {
	if sr, ok := r.(SpanReader); ok {
		return sr.Read(ctx, t, span, fn)
	}
	dates, err := r.Partitions(ctx, t)
	if err != nil {
		return err
	}
	keep, err := MerchantFilter(t, span.Merchant)
	if err != nil {
		return err
	}
	for _, d := range dates {
		if !span.Contains(d) {
			continue
		}
		err := r.ReadPartition(ctx, t, d, func(row any) error {
			if !keep(row) {
				return nil
			}
			return fn(row)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// MerchantFilter returns a function that reports whether row, a pointer to
// t's row struct, is of merchant; every row is when merchant is empty.
func MerchantFilter(t schemas.Table, merchant string) (func(row any) bool, error) {
	if merchant == "" {
		return func(any) bool { return true }, nil
	}
	c, ok := t.Column(merchantColumn)
	if !ok || c.Type != schemas.String || c.Nullable {
		return nil, fmt.Errorf("load: table %s has no required STRING column %s", t.Name, merchantColumn)
	}
	return func(row any) bool {
		return reflect.ValueOf(row).Elem().Field(c.Field).String() == merchant
	}, nil
}

// merchantColumn is the column every table of the contract has that names
// the merchant a row belongs to.
const merchantColumn = "merchant_code"
