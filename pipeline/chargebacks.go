package pipeline

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

// chargebacks resolves the window's disputes against the state committed at
// the destination and writes the chargebacks partitions that change and the
// rates of the window's months.
func (r *Run) chargebacks(ctx context.Context, cb *transform.Chargebacks, parts *partitions) error {
	cbt, ratesT, ordersT := schemas.Chargebacks(), schemas.ChargebackRates(), schemas.Orders()
	committed := map[civil.Date][]any{}
	existing := map[string]schemas.Chargeback{}
	if err := r.readAll(ctx, cbt, func(row any) {
		c := row.(*schemas.Chargeback)
		existing[c.RefNo] = *c
		committed[c.OpenedOn] = append(committed[c.OpenedOn], row)
	}); err != nil {
		return err
	}
	seen := map[civil.Date]map[string]bool{}
	var stored map[civil.Date]schemas.ChargebackRate
	st := transform.State{
		Chargebacks: existing,
		// The account's rates are one row a month: read them all, once,
		// with one request.
		Rate: func(month civil.Date) (schemas.ChargebackRate, bool, error) {
			if stored == nil {
				stored = map[civil.Date]schemas.ChargebackRate{}
				err := r.readAll(ctx, ratesT, func(row any) {
					c := row.(*schemas.ChargebackRate)
					stored[c.Month] = *c
				})
				if err != nil {
					return schemas.ChargebackRate{}, false, err
				}
			}
			c, ok := stored[month]
			return c, ok, nil
		},
		Seen: func(ref string, d civil.Date) (bool, error) {
			if seen[d] == nil {
				refs := map[string]bool{}
				if err := r.read(ctx, ordersT, d, func(row any) { refs[row.(*schemas.Order).RefNo] = true }); err != nil {
					return false, err
				}
				seen[d] = refs
			}
			return seen[d][ref], nil
		},
	}
	rows, rates, err := cb.Resolve(st)
	if err != nil {
		return fmt.Errorf("account %s: chargebacks: %w", r.Account.Name, err)
	}
	fresh := map[civil.Date][]any{}
	for i := range rows {
		fresh[rows[i].OpenedOn] = append(fresh[rows[i].OpenedOn], &rows[i])
	}
	// Rewrite only the partitions whose rows change, so that a nightly run
	// does not rewrite every day that ever had a dispute.
	dates := slices.SortedFunc(maps.Keys(mergeKeys(committed, fresh)), civil.Date.Compare)
	for _, d := range dates {
		if sameRows(cbt, committed[d], fresh[d], "run_id") {
			parts.keep(cbt)
			continue
		}
		if len(fresh[d]) == 0 {
			if err := parts.clearUnwritten(ctx, cbt, d); err != nil {
				return err
			}
			continue
		}
		for _, row := range fresh[d] {
			if err := parts.write(ctx, cbt, d, row); err != nil {
				return err
			}
		}
	}
	for i := range rates {
		if err := parts.write(ctx, ratesT, rates[i].Month, &rates[i]); err != nil {
			return err
		}
	}
	return nil
}

// feeWindowStart returns from, the first of the window's first month M,
// or the first of M-1 when the fees of M's disputes depend on M-1's rate
// (the threshold model) and the warehouse holds no complete rate of M-1:
// the run then reads M-1's orders from the API too, so that M's fees never
// rest on a month nobody read (issue 14, finding 1).
func (r *Run) feeWindowStart(ctx context.Context, from civil.Date) (civil.Date, error) {
	if !r.Job.HasStream(config.StreamChargebacks) || r.Account.NoChargebackData() ||
		r.Account.ChargebackFees.Model != config.FeeModelThreshold || !r.Job.HasStream(extract.StreamOrders) {
		return from, nil
	}
	prev := transform.MonthOf(from.AddDays(-1))
	complete := false
	err := r.readSpan(ctx, schemas.ChargebackRates(), prev, prev, func(row any) {
		complete = complete || row.(*schemas.ChargebackRate).Complete
	})
	if err != nil {
		return from, fmt.Errorf("read chargeback_rates %s: %w", prev, err)
	}
	if complete {
		return from, nil
	}
	return prev, nil
}

// read calls fn with the account's committed rows of one partition.
func (r *Run) read(ctx context.Context, t schemas.Table, d civil.Date, fn func(row any)) error {
	if err := r.readSpan(ctx, t, d, d, fn); err != nil {
		return fmt.Errorf("read %s partition %s: %w", t.Name, d, err)
	}
	return nil
}

// readAll calls fn with the account's committed rows of every partition,
// read in one request where the warehouse can.
func (r *Run) readAll(ctx context.Context, t schemas.Table, fn func(row any)) error {
	if err := r.readSpan(ctx, t, civil.Date{}, civil.Date{}, fn); err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	return nil
}

// readSpan calls fn with the account's committed rows of t from from to
// to (zero for open ends).
func (r *Run) readSpan(ctx context.Context, t schemas.Table, from, to civil.Date, fn func(row any)) error {
	if r.Warehouse == nil {
		return nil
	}
	span := load.Span{Merchant: r.Account.MerchantCode, From: from, To: to}
	return load.ReadSpan(ctx, r.Warehouse, t, span, func(row any) error {
		fn(row)
		return nil
	})
}

func mergeKeys(a, b map[civil.Date][]any) map[civil.Date]bool {
	out := map[civil.Date]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// sameRows reports whether two sets of rows of t hold the same values,
// whatever their order, ignoring the named columns.
func sameRows(t schemas.Table, a, b []any, ignore ...string) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(rows []any) []string {
		out := make([]string, len(rows))
		for i, row := range rows {
			out[i] = rowKey(t, row, ignore)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// rowKey renders a row's values, NULLs and instants unambiguously.
func rowKey(t schemas.Table, row any, ignore []string) string {
	v := reflect.ValueOf(row).Elem()
	var sb strings.Builder
	for _, c := range t.Columns {
		if slices.Contains(ignore, c.Name) {
			continue
		}
		f := v.Field(c.Field)
		if c.Nullable {
			if f.IsNil() {
				sb.WriteString("\x00NULL\x01")
				continue
			}
			f = f.Elem()
		}
		if tm, ok := f.Interface().(time.Time); ok {
			fmt.Fprintf(&sb, "%d\x01", tm.UnixMicro())
			continue
		}
		fmt.Fprintf(&sb, "%v\x01", f.Interface())
	}
	return sb.String()
}
