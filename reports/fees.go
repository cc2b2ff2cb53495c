package reports

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// feeBases groups the month's disputes by what set their fee. Without
// disputes it returns the basis the month's disputes would have: the rate
// of the month before and its tier.
func feeBases(a config.Account, month civil.Date, d *monthData) []FeeBasis {
	type key struct {
		rateMonth string
		rate      int64
		hasRate   bool
		fee       money.Amount
		rule      string
	}
	groups := map[key]*FeeBasis{}
	var order []key
	for _, c := range d.chargebacks {
		k := key{rateMonth: c.RateMonth, fee: c.FeeAmount, rule: c.FeeRule}
		if c.Rate != nil {
			k.rate, k.hasRate = c.Rate.Units(), true
		}
		g := groups[k]
		if g == nil {
			g = &FeeBasis{RateMonth: c.RateMonth, Rate: c.Rate, Fee: c.FeeAmount, Rule: c.FeeRule}
			if m, err := ParseMonth(c.RateMonth); err == nil {
				if r, ok := d.rateOf(m); ok {
					g.Opened, g.Transactions, g.HaveCounts = r.ChargebacksOpened, r.Transactions, true
				}
			}
			g.Tier = tierText(a.ChargebackFees, g)
			groups[k] = g
			order = append(order, k)
		}
		g.Disputes++
	}
	if len(order) == 0 {
		prev := addMonths(month, -1)
		g := FeeBasis{RateMonth: MonthLabel(prev)}
		if r, ok := d.rateOf(prev); ok {
			rate := r.Rate
			g.Rate, g.Opened, g.Transactions, g.HaveCounts = &rate, r.ChargebacksOpened, r.Transactions, true
			g.Fee = r.NextMonthFee
			g.Rule = "no dispute opened; the fee that " + MonthLabel(prev) + "'s rate sets"
		} else {
			g.Fee = lowestFee(a.ChargebackFees)
			g.Rule = "no dispute opened and no chargeback rate for " + MonthLabel(prev) + " in the warehouse"
		}
		g.Tier = tierText(a.ChargebackFees, &g)
		return []FeeBasis{g}
	}
	slices.SortStableFunc(order, func(x, y key) int { return cmp.Compare(x.rateMonth, y.rateMonth) })
	out := make([]FeeBasis, len(order))
	for i, k := range order {
		out[i] = *groups[k]
	}
	return out
}

// lowestFee is the fee without a known rate: the fixed fee, or the first
// tier's (as the transform chooses).
func lowestFee(f config.ChargebackFees) money.Amount {
	if f.Model == config.FeeModelFixed || len(f.Tiers) == 0 {
		return f.Fee
	}
	return f.Tiers[0].Fee
}

// tierText describes the tier of g's rate under the account's fee model,
// comparing the rate's counts exactly, as the fee was chosen.
func tierText(f config.ChargebackFees, g *FeeBasis) string {
	if f.Model == config.FeeModelFixed {
		return "fixed fee per dispute"
	}
	if len(f.Tiers) == 0 {
		return ""
	}
	var exact *big.Rat
	switch {
	case g.HaveCounts && g.Transactions > 0:
		exact = big.NewRat(g.Opened, g.Transactions)
	case g.HaveCounts:
		// No transactions, no rate: the transform takes the configured
		// first_month_tier, which need not be the tier of a zero rate.
		return fmt.Sprintf("no transactions: first_month_tier %d", f.FirstTier())
	default:
		return "no rate known: lowest tier"
	}
	for i, t := range f.Tiers {
		lower := ""
		if i > 0 {
			lower = f.Tiers[i-1].BelowText + " or more"
		}
		if t.Below == nil {
			if lower == "" {
				return "every rate"
			}
			return lower
		}
		if exact.Cmp(t.Below) < 0 {
			if lower == "" {
				return "below " + t.BelowText
			}
			return lower + ", below " + t.BelowText
		}
	}
	return "above every tier"
}

// activeAt reports whether s, the version of a subscription valid on the
// day before end, was active at end: started, not expired by then, and
// enabled; or, for the first version the job read (backdated to the
// start), disabled by an expiry between end and the read.
func activeAt(s *schemas.Subscription, end time.Time) bool {
	if !s.StartTS.Before(end) {
		return false
	}
	e := s.ExpirationTS
	if s.Lifetime || e == nil {
		return s.SubscriptionEnabled
	}
	if e.Before(end) {
		return false
	}
	first := s.ValidFrom == civil.DateOf(s.StartTS.In(end.Location()))
	return s.SubscriptionEnabled || (first && !e.After(s.ExtractedAt))
}

// subscriptionFigures counts the non-test subscriptions valid at the
// month's end (d.snapshot), by product.
func subscriptionFigures(d *monthData, month civil.Date, loc *time.Location) []ProductSubscriptions {
	if d.snapshot.IsZero() {
		return nil
	}
	first, next := month.In(loc), addMonths(month, 1).In(loc)
	afterSnapshot := d.snapshot.AddDays(1).In(loc)
	byCode := map[string]*ProductSubscriptions{}
	for i := range d.subscriptions {
		s := &d.subscriptions[i]
		if s.IsTest {
			continue
		}
		p := byCode[s.ProductCode]
		if p == nil {
			p = &ProductSubscriptions{ProductCode: s.ProductCode}
			byCode[s.ProductCode] = p
		}
		if s.ProductName != nil && p.ProductName == "" {
			p.ProductName = *s.ProductName
		}
		if activeAt(s, afterSnapshot) {
			p.Active++
			p.Units += s.ProductQuantity
			if s.RecurringEnabled {
				p.AutoRenewing++
			}
		}
		if !s.StartTS.Before(first) && s.StartTS.Before(next) {
			p.New++
		}
		if e := s.ExpirationTS; !s.Lifetime && !s.SubscriptionEnabled && e != nil && !e.Before(first) && e.Before(next) && e.Before(afterSnapshot) {
			p.Expired++
		}
	}
	out := make([]ProductSubscriptions, 0, len(byCode))
	for _, p := range byCode {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(x, y ProductSubscriptions) int { return cmp.Compare(x.ProductCode, y.ProductCode) })
	return out
}
