package transform

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// Bases of a chargeback's opened_on.
const (
	BasisObserved  = "observed"
	BasisOrderDate = "order_date"
)

// ResolutionUnknown is the chargeback_resolution of an order whose
// response did not carry ChargebackResolution: whether it is disputed is
// not known, so it is never taken for NONE and makes no chargebacks row.
const ResolutionUnknown = "UNKNOWN"

// MonthOf returns the first day of d's month.
func MonthOf(d civil.Date) civil.Date { return civil.Date{Year: d.Year, Month: d.Month, Day: 1} }

// addMonths returns the first day of the month n months after month m.
func addMonths(m civil.Date, n int) civil.Date {
	t := m.In(time.UTC).AddDate(0, n, 0)
	return civil.Date{Year: t.Year(), Month: t.Month(), Day: 1}
}

// monthLabel formats a month as YYYY-MM.
func monthLabel(m civil.Date) string { return fmt.Sprintf("%04d-%02d", m.Year, m.Month) }

// MonthRate is the chargeback rate of a month: disputes opened in it over
// its transactions.
type MonthRate struct {
	Month        civil.Date
	Opened       int64
	Transactions int64
}

// Exact returns the rate as an exact fraction; 0 without transactions.
func (m MonthRate) Exact() *big.Rat {
	if m.Transactions == 0 {
		return new(big.Rat)
	}
	return big.NewRat(m.Opened, m.Transactions)
}

// String describes the rate for people: "2025-02 rate 0.65% (13 disputes
// in 2000 transactions)", with ≈ when the percentage is rounded.
func (m MonthRate) String() string {
	p := new(big.Rat).Mul(m.Exact(), big.NewRat(100, 1))
	s := strings.TrimRight(strings.TrimRight(p.FloatString(7), "0"), ".") + "%"
	if !new(big.Rat).Mul(p, big.NewRat(10_000_000, 1)).IsInt() {
		s = "≈" + s
	}
	return fmt.Sprintf("%s rate %s (%d disputes in %d transactions)", monthLabel(m.Month), s, m.Opened, m.Transactions)
}

// Fee returns the fee for a dispute opened in the month after prev, whose
// chargeback rate was r (nil when no data covers prev), and the rule that
// chose it, in words. Tiers compare exactly: a rate equal to a tier's bound
// is not below it.
func Fee(f config.ChargebackFees, currency string, prev civil.Date, r *MonthRate) (money.Amount, string) {
	if f.Model == config.FeeModelFixed {
		return f.Fee, fmt.Sprintf("fixed: %s %s per dispute", f.Fee.String(), currency)
	}
	if len(f.Tiers) == 0 {
		return 0, "threshold: no tiers configured"
	}
	if r == nil {
		t := f.Tiers[0]
		return t.Fee, fmt.Sprintf("threshold: no chargeback rate for %s in the data; lowest tier: %s %s",
			monthLabel(prev), t.Fee.String(), currency)
	}
	if r.Transactions == 0 {
		// No rate can exist: the month before the merchant's first order.
		n := f.FirstTier()
		t := f.Tiers[n-1]
		return t.Fee, fmt.Sprintf("threshold: no transactions in %s, so no rate; first_month_tier %d: %s %s",
			monthLabel(prev), n, t.Fee.String(), currency)
	}
	exact := r.Exact()
	for i, t := range f.Tiers {
		if t.Below == nil {
			return t.Fee, fmt.Sprintf("threshold: %s is at or above %s: %s %s",
				r, f.Tiers[max(i-1, 0)].BelowText, t.Fee.String(), currency)
		}
		if exact.Cmp(t.Below) < 0 {
			return t.Fee, fmt.Sprintf("threshold: %s is below %s: %s %s", r, t.BelowText, t.Fee.String(), currency)
		}
	}
	// Unreachable for a validated configuration, whose last tier has no
	// bound; the highest fee is the safe answer.
	t := f.Tiers[len(f.Tiers)-1]
	return t.Fee, fmt.Sprintf("threshold: %s is above every tier: %s %s", r, t.Fee.String(), currency)
}

// Chargebacks turns the disputed orders of one run into chargebacks rows and
// the monthly chargeback rates. Feed it every order of the run's window with
// AddOrder, then call Resolve with the state the destination holds.
type Chargebacks struct {
	MerchantCode        string
	RunID               string
	Fees                config.ChargebackFees
	Currency            string // the account's default currency: the fees'
	TransactionStatuses []string
	// Date is the run's business date: the opened_on of newly seen disputes.
	Date civil.Date
	// From is the first day of the window; it must be the first of a month,
	// so that the rate of every month from From's to Date's is complete.
	From civil.Date

	disputes     map[string]schemas.Chargeback
	transactions map[civil.Date]int64
}

// AddOrder counts o as a transaction of its month if it is one, and records
// it as a dispute if it has a chargeback.
func (c *Chargebacks) AddOrder(o *schemas.Order) {
	if c.transactions == nil {
		c.transactions = map[civil.Date]int64{}
		c.disputes = map[string]schemas.Chargeback{}
	}
	if !o.IsTest && slices.Contains(c.TransactionStatuses, o.Status) {
		c.transactions[MonthOf(o.OrderDate)]++
	}
	if o.ChargebackResolution == "NONE" || o.ChargebackResolution == "" || o.ChargebackResolution == ResolutionUnknown {
		return
	}
	// The dispute outlives the page its order came on, and the JSON
	// decoder's strings may share that page's whole body: keep copies, or
	// each dispute holds its page (hundreds of KB) until the commit.
	ref := strings.Clone(o.RefNo)
	c.disputes[ref] = schemas.Chargeback{
		MerchantCode: strings.Clone(o.MerchantCode),
		RefNo:        ref,
		OrderTS:      o.OrderTS,
		OrderDate:    o.OrderDate,
		Resolution:   strings.Clone(o.ChargebackResolution),
		ReasonCode:   cloneString(o.ChargebackReasonCode),
		Currency:     strings.Clone(o.Currency),
		OrderAmount:  o.GrossPrice,
		FeeCurrency:  c.Currency,
		RunID:        c.RunID,
	}
}

// New returns the window's disputes that known does not hold, by
// reference, with their order dates: those whose opened_on Resolve
// decides with State.Seen.
func (c *Chargebacks) New(known map[string]schemas.Chargeback) map[string]civil.Date {
	out := map[string]civil.Date{}
	for ref, d := range c.disputes {
		if _, ok := known[ref]; !ok {
			out[ref] = d.OrderDate
		}
	}
	return out
}

// cloneString returns a pointer to a copy of *s; nil for nil.
func cloneString(s *string) *string {
	if s == nil {
		return nil
	}
	c := strings.Clone(*s)
	return &c
}

// State is what the destination already holds for the account.
type State struct {
	// Chargebacks are the committed chargebacks rows, by ref_no.
	Chargebacks map[string]schemas.Chargeback
	// Rate returns the committed rate row of a month before From, if any.
	Rate func(month civil.Date) (schemas.ChargebackRate, bool, error)
	// Seen reports whether an order was loaded by an earlier run.
	Seen func(refNo string, orderDate civil.Date) (bool, error)
}

// Resolve returns every chargebacks row of the account (the window's
// disputes with opened_on and fee decided, and the committed ones it
// leaves as they are: see openedOn) and the rate rows of the months from
// From's to Date's.
//
// A dispute keeps the opened_on it was given when first seen. A new one is
// opened on the run's date if an earlier run had loaded its order (it was
// observed appearing), or on its order date if not (first run, backfill).
func (c *Chargebacks) Resolve(st State) (chargebacks []schemas.Chargeback, rates []schemas.ChargebackRate, err error) {
	if c.From.Day != 1 {
		return nil, nil, fmt.Errorf("chargebacks: window start %s is not the first of a month", c.From)
	}
	first, last := c.From, MonthOf(c.Date)
	all, decided, err := c.openedOn(st)
	if err != nil {
		return nil, nil, err
	}
	rates, computed, err := c.rates(all, first, last)
	if err != nil {
		return nil, nil, err
	}
	for _, ref := range slices.Sorted(maps.Keys(all)) {
		d := all[ref]
		if decided[ref] {
			prev := addMonths(MonthOf(d.OpenedOn), -1)
			r := computed[prev]
			if r == nil {
				// Compare the stored counts, not the stored rounded rate:
				// the tier must be chosen exactly.
				stored, found, err := st.Rate(prev)
				if err != nil {
					return nil, nil, err
				}
				if found {
					r = &MonthRate{Month: prev, Opened: stored.ChargebacksOpened, Transactions: stored.Transactions}
				}
			}
			d.FeeAmount, d.FeeRule = Fee(c.Fees, c.Currency, prev, r)
			d.RateMonth = monthLabel(prev)
			d.Rate = nil
			if r != nil {
				rr, _, err := money.RateFromRat(r.Exact())
				if err != nil {
					return nil, nil, err
				}
				d.Rate = &rr
			}
		}
		chargebacks = append(chargebacks, d)
	}
	return chargebacks, rates, nil
}

// openedOn returns the account's disputes by reference, and the references
// whose rows this run decides.
//
// A committed dispute is never removed and never moved back in time: one
// of an order outside the window, one the run's orders no longer show as
// disputed (the API dropped the field, or a run of an earlier date sees the
// order as it was before the dispute), and one last updated by a run of a
// later business date (as_of) all stay as they are. The window's other
// disputes keep the opened_on they were given and take the resolution the
// run read; new ones are opened as Seen says.
func (c *Chargebacks) openedOn(st State) (all map[string]schemas.Chargeback, decided map[string]bool, err error) {
	all, decided = map[string]schemas.Chargeback{}, map[string]bool{}
	for ref, old := range st.Chargebacks {
		_, shown := c.disputes[ref]
		outside := old.OrderDate.Before(c.From) || old.OrderDate.After(c.Date)
		if outside || !shown || old.AsOf != nil && old.AsOf.After(c.Date) {
			all[ref] = old
		}
	}
	for ref, d := range c.disputes {
		if _, kept := all[ref]; kept {
			continue
		}
		if old, ok := st.Chargebacks[ref]; ok {
			d.OpenedOn, d.OpenedOnBasis = old.OpenedOn, old.OpenedOnBasis
		} else {
			seen, err := st.Seen(ref, d.OrderDate)
			if err != nil {
				return nil, nil, err
			}
			if seen {
				d.OpenedOn, d.OpenedOnBasis = c.Date, BasisObserved
			} else {
				d.OpenedOn, d.OpenedOnBasis = d.OrderDate, BasisOrderDate
			}
		}
		asOf := c.Date
		d.AsOf = &asOf
		all[ref] = d
		decided[ref] = true
	}
	return all, decided, nil
}

// rates returns the rate rows of the months first to last, and their
// counts by month, from the disputes' opened_on and the window's
// transactions.
func (c *Chargebacks) rates(all map[string]schemas.Chargeback, first, last civil.Date) ([]schemas.ChargebackRate, map[civil.Date]*MonthRate, error) {
	var rates []schemas.ChargebackRate
	opened := map[civil.Date]int64{}
	for _, d := range all {
		opened[MonthOf(d.OpenedOn)]++
	}
	computed := map[civil.Date]*MonthRate{}
	for m := first; !m.After(last); m = addMonths(m, 1) {
		r := &MonthRate{Month: m, Opened: opened[m], Transactions: c.transactions[m]}
		computed[m] = r
		rounded, _, err := money.RateFromRat(r.Exact())
		if err != nil {
			return nil, nil, fmt.Errorf("chargeback rate of %s: %w", monthLabel(m), err)
		}
		fee, _ := Fee(c.Fees, c.Currency, m, r)
		rates = append(rates, schemas.ChargebackRate{
			MerchantCode:      c.MerchantCode,
			Month:             m,
			Transactions:      c.transactions[m],
			ChargebacksOpened: opened[m],
			Rate:              rounded,
			Complete:          !addMonths(m, 1).After(c.Date.AddDays(1)),
			NextMonthFee:      fee,
			FeeCurrency:       c.Currency,
			RunID:             c.RunID,
		})
	}
	return rates, computed, nil
}
