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
//
// The state is read with one request per table, whatever the window: the
// chargebacks opened from the window's first day on (a dispute opens on
// or after its order's date, so every dispute of the window is among
// them, and earlier partitions are not rewritten), the account's rates
// (one row a month, read once per run, see rates), and, for the disputes
// the warehouse has not seen, whether an earlier run had loaded their
// orders: ref_no and order_date of the orders of their dates.
func (r *Run) chargebacks(ctx context.Context, cb *transform.Chargebacks, parts *partitions) error {
	cbt, ratesT := schemas.Chargebacks(), schemas.ChargebackRates()
	committed := map[civil.Date][]any{}
	existing := map[string]schemas.Chargeback{}
	if err := r.readSpan(ctx, cbt, cb.From, civil.Date{}, func(row any) {
		c := row.(*schemas.Chargeback)
		existing[c.RefNo] = *c
		committed[c.OpenedOn] = append(committed[c.OpenedOn], row)
	}); err != nil {
		return fmt.Errorf("read %s: %w", cbt.Name, err)
	}
	loaded, err := r.loadedOrders(ctx, cb.New(existing))
	if err != nil {
		return err
	}
	st := transform.State{
		Chargebacks: existing,
		Rate: func(month civil.Date) (schemas.ChargebackRate, bool, error) {
			stored, err := r.rates(ctx, cb.From)
			if err != nil {
				return schemas.ChargebackRate{}, false, err
			}
			c, ok := stored[month]
			return c, ok, nil
		},
		Seen: func(ref string, d civil.Date) (bool, error) { return loaded[ref] == d, nil },
	}
	rows, rates, err := cb.Resolve(st)
	if err != nil {
		return fmt.Errorf("account %s: chargebacks: %w", r.Account.Name, err)
	}
	parts.read[cbt.Name] += int64(len(rows))
	parts.read[ratesT.Name] += int64(len(rates))
	fresh := map[civil.Date][]any{}
	for i := range rows {
		fresh[rows[i].OpenedOn] = append(fresh[rows[i].OpenedOn], &rows[i])
	}
	// Rewrite only the partitions whose rows change, so that a nightly run
	// does not rewrite every day that ever had a dispute: as_of moves only
	// with a change.
	dates := slices.SortedFunc(maps.Keys(mergeKeys(committed, fresh)), civil.Date.Compare)
	for _, d := range dates {
		if sameRows(cbt, committed[d], fresh[d], "run_id", "as_of") {
			parts.keep(cbt)
			continue
		}
		if len(fresh[d]) == 0 {
			// Not the same rows, and none now: the partition had some.
			if err := parts.clearUnwritten(ctx, cbt, d, true); err != nil {
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
	stored, err := r.rates(ctx, cb.From)
	if err != nil {
		return err
	}
	for i := range rates {
		// A run of an earlier date sees a month that a later run saw
		// whole as month to date: the complete row stays.
		if old, ok := stored[rates[i].Month]; ok && old.Complete && !rates[i].Complete {
			parts.keep(ratesT)
			continue
		}
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
	stored, err := r.rates(ctx, prev)
	if err != nil {
		return from, err
	}
	if stored[prev].Complete {
		return from, nil
	}
	return prev, nil
}

// rates returns the account's committed rates from the month before from's
// on, read with one request on the first call of the run; later calls,
// whose from is never earlier (the fee window only widens before the
// orders are read), reuse them.
func (r *Run) rates(ctx context.Context, from civil.Date) (map[civil.Date]schemas.ChargebackRate, error) {
	if r.state.rates != nil {
		return r.state.rates, nil
	}
	t := schemas.ChargebackRates()
	first := transform.MonthOf(transform.MonthOf(from).AddDays(-1))
	stored := map[civil.Date]schemas.ChargebackRate{}
	err := r.readSpan(ctx, t, first, civil.Date{}, func(row any) {
		c := row.(*schemas.ChargebackRate)
		stored[c.Month] = *c
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Name, err)
	}
	r.state.rates = stored
	return stored, nil
}

// loadedOrders returns which of the orders want (RefNo to order date) the
// warehouse holds, with the date it holds each on: one read of the
// ref_no and order_date columns of the orders from the earliest of the
// dates to the latest.
func (r *Run) loadedOrders(ctx context.Context, want map[string]civil.Date) (map[string]civil.Date, error) {
	out := map[string]civil.Date{}
	if len(want) == 0 || r.Warehouse == nil {
		return out, nil
	}
	var from, to civil.Date
	for _, d := range want {
		if from.IsZero() || d.Before(from) {
			from = d
		}
		if d.After(to) {
			to = d
		}
	}
	t := schemas.Orders()
	span := load.Span{Merchant: r.Account.MerchantCode, From: from, To: to, Columns: []string{"merchant_code", "ref_no", "order_date"}}
	err := load.ReadSpan(ctx, r.Warehouse, t, span, func(row any) error {
		o := row.(*schemas.Order)
		if _, ok := want[o.RefNo]; ok {
			out[o.RefNo] = o.OrderDate
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s %s to %s: %w", t.Name, from, to, err)
	}
	return out, nil
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
