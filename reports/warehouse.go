package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// ParseMonth parses a month written YYYY-MM and returns its first day.
func ParseMonth(s string) (civil.Date, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != len("2006-01") {
		return civil.Date{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return civil.Date{Year: t.Year(), Month: t.Month(), Day: 1}, nil
}

// MonthLabel formats the month of d as YYYY-MM.
func MonthLabel(d civil.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, d.Month) }

// monthName formats the month of d for people: March 2025.
func monthName(d civil.Date) string { return fmt.Sprintf("%s %d", d.Month, d.Year) }

// firstOfMonth returns the first day of d's month.
func firstOfMonth(d civil.Date) civil.Date { return civil.Date{Year: d.Year, Month: d.Month, Day: 1} }

// addMonths returns the first day of the month n months after d's.
func addMonths(d civil.Date, n int) civil.Date {
	t := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return civil.DateOf(t)
}

// LastOfMonth returns the last day of d's month.
func LastOfMonth(d civil.Date) civil.Date { return addMonths(d, 1).AddDays(-1) }

// partitionsIn returns t's non-empty partitions from first to last.
func partitionsIn(ctx context.Context, r load.Reader, t schemas.Table, first, last civil.Date) ([]civil.Date, error) {
	all, err := r.Partitions(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("list %s partitions: %w", t.Name, err)
	}
	return slices.DeleteFunc(all, func(d civil.Date) bool { return d.Before(first) || d.After(last) }), nil
}

// readAccount calls fn with the rows of merchant in partition d of t.
func readAccount[R any](ctx context.Context, r load.Reader, t schemas.Table, d civil.Date, merchant string, code func(*R) string, fn func(*R) error) error {
	err := r.ReadPartition(ctx, t, d, func(row any) error {
		v, ok := row.(*R)
		if !ok {
			return fmt.Errorf("row is %T", row)
		}
		if code(v) != merchant {
			return nil
		}
		return fn(v)
	})
	if err != nil {
		return fmt.Errorf("read %s partition %s: %w", t.Name, d, err)
	}
	return nil
}

func orderMerchant(o *schemas.Order) string           { return o.MerchantCode }
func chargebackMerchant(c *schemas.Chargeback) string { return c.MerchantCode }
func rateMerchant(c *schemas.ChargebackRate) string   { return c.MerchantCode }

// eachDayOfOrders calls fn with the merchant's orders of each day from first
// to last that has any, a day at a time, sorted by order time and
// reference. Only one day's orders are in memory at once.
func eachDayOfOrders(ctx context.Context, r load.Reader, merchant string, first, last civil.Date, fn func([]*schemas.Order) error) error {
	t := schemas.Orders()
	days, err := partitionsIn(ctx, r, t, first, last)
	if err != nil {
		return err
	}
	var day []*schemas.Order
	for _, d := range days {
		day = day[:0]
		err := readAccount(ctx, r, t, d, merchant, orderMerchant, func(o *schemas.Order) error {
			day = append(day, o)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(day, func(a, b *schemas.Order) int {
			if c := a.OrderTS.Compare(b.OrderTS); c != 0 {
				return c
			}
			return cmp.Compare(a.RefNo, b.RefNo)
		})
		if err := fn(day); err != nil {
			return err
		}
		clear(day)
	}
	return nil
}

// monthData is what a report reads from the warehouse besides the orders,
// which are streamed.
type monthData struct {
	// chargebacks are the disputes opened in the month, by opened_on and
	// reference.
	chargebacks []schemas.Chargeback
	// rates are the chargeback_rates rows of the twelve months ending with
	// the report's, in month order.
	rates []schemas.ChargebackRate
	// snapshot is the day the subscriptions are counted at, the month's
	// last, from the subscription history; zero
	// when there is none.
	snapshot      civil.Date
	subscriptions []schemas.Subscription
	// covering is the latest successful run that read the whole month
	// after it ended; nil when there is none and the month's figures may
	// be incomplete.
	covering *schemas.Run
	// previous is the month before, in the account currency.
	previous PreviousMonth
}

// rateOf returns the rates row of month m.
func (d *monthData) rateOf(m civil.Date) (schemas.ChargebackRate, bool) {
	for _, r := range d.rates {
		if r.Month == m {
			return r, true
		}
	}
	return schemas.ChargebackRate{}, false
}

// readMonth reads the month's disputes, the rates of the twelve months
// ending with it and the month's last subscriptions snapshot.
func readMonth(ctx context.Context, r load.Reader, merchant string, month civil.Date) (*monthData, error) {
	first, last := month, LastOfMonth(month)
	var d monthData

	cbt := schemas.Chargebacks()
	days, err := partitionsIn(ctx, r, cbt, first, last)
	if err != nil {
		return nil, err
	}
	for _, day := range days {
		err := readAccount(ctx, r, cbt, day, merchant, chargebackMerchant, func(c *schemas.Chargeback) error {
			d.chargebacks = append(d.chargebacks, *c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(d.chargebacks, func(a, b schemas.Chargeback) int {
		if c := a.OpenedOn.Compare(b.OpenedOn); c != 0 {
			return c
		}
		return cmp.Compare(a.RefNo, b.RefNo)
	})

	rt := schemas.ChargebackRates()
	months, err := partitionsIn(ctx, r, rt, addMonths(month, -11), first)
	if err != nil {
		return nil, err
	}
	for _, m := range months {
		err := readAccount(ctx, r, rt, m, merchant, rateMerchant, func(c *schemas.ChargebackRate) error {
			d.rates = append(d.rates, *c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(d.rates, func(a, b schemas.ChargebackRate) int { return a.Month.Compare(b.Month) })

	if err := d.readCoverage(ctx, r, merchant, first, last); err != nil {
		return nil, err
	}
	asOf, err := subscriptionsAsOf(ctx, r, merchant, first, last)
	if err != nil || asOf.IsZero() {
		return &d, err
	}
	// The versions valid on asOf: those closed after it (partitions
	// valid_to > asOf), current ones included, that began by then; in one
	// request, whatever the number of days since.
	st := schemas.SubscriptionHistory()
	err = load.ReadSpan(ctx, r, st, load.Span{Merchant: merchant, From: asOf.AddDays(1)}, func(row any) error {
		if s := row.(*schemas.Subscription); !s.ValidFrom.After(asOf) {
			d.subscriptions = append(d.subscriptions, *s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", st.Name, err)
	}
	d.snapshot = asOf
	return &d, nil
}

// subscriptionsAsOf is the day of the month the subscriptions are counted
// at: its last, when a read of the merchant's subscriptions is dated then
// or later; else the latest read of the month; zero without one. The
// history knows nothing after its latest read.
func subscriptionsAsOf(ctx context.Context, r load.Reader, merchant string, first, last civil.Date) (civil.Date, error) {
	t := schemas.SubscriptionReads()
	var latest civil.Date
	err := load.ReadSpan(ctx, r, t, load.Span{Merchant: merchant, From: first}, func(row any) error {
		if s := row.(*schemas.SubscriptionRead); s.BusinessDate.After(latest) {
			latest = s.BusinessDate
		}
		return nil
	})
	if err != nil {
		return civil.Date{}, fmt.Errorf("read %s: %w", t.Name, err)
	}
	if latest.After(last) {
		return last, nil
	}
	return latest, nil
}

// readCoverage finds in etl_runs the latest successful run of the merchant
// whose business date is the month's last day or later and whose orders
// window starts on or before the month's first: a run that read the whole
// month once it had ended.
func (d *monthData) readCoverage(ctx context.Context, r load.Reader, merchant string, first, last civil.Date) error {
	// A run for a date starts after that date (a day earlier in UTC at
	// most).
	runs, err := load.Runs(ctx, r, load.RunQuery{Merchant: merchant, Status: load.StatusSucceeded, From: last, StartedFrom: last.AddDays(-1)})
	if err != nil {
		return err
	}
	for i := range runs {
		run := &runs[i]
		if run.WindowFrom == nil || run.WindowFrom.After(first) || run.Orders == 0 {
			continue
		}
		if d.covering == nil || run.StartedAt.After(d.covering.StartedAt) {
			d.covering = run
		}
	}
	return nil
}
