package reports

import (
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// The month in the account currency (issue 14, scope 5).
//
// 2Checkout gives each order its own FxRate, from the order's currency
// into its PayoutCurrency. An order is converted with it when its payout
// currency is the account currency: each amount × FxRate, rounded half to
// even to six decimals, order by order; the account-currency totals are
// sums of those. An order in the account currency without an FxRate counts
// at its amount (there is nothing to convert). Any other order, without an
// FxRate or paid out in another currency, is not converted: no rate is
// guessed; it is counted, its amounts are left out of the account-currency
// figures, and the report is PROVISIONAL.

// notConverted is the Orders sheet's FX rate cell of an order that is not
// converted.
const notConverted = "not converted"

// fmtFxRate shows an FX rate with six decimals, and up to nine when it has
// them (DECIMAL(18,9)).
const fmtFxRate = "0.000000###"

// oneRate is an FX rate of 1.
const oneRate = money.Rate(1_000_000_000)

// fxRateOf returns the rate that converts o's amounts into the account
// currency, and false when o cannot be converted.
func fxRateOf(o *schemas.Order, account string) (money.Rate, bool) {
	payout := o.PayoutCurrency
	switch {
	case payout != nil && *payout != account:
		return 0, false
	case o.FxRate != nil && payout != nil:
		return *o.FxRate, true
	case o.Currency == account:
		return oneRate, true
	}
	return 0, false
}

// AccountTotals are a month's figures in the account currency: the sums of
// its orders' converted amounts (see fxRateOf), with the counts and fees
// of every currency.
type AccountTotals struct {
	// Currency is the account currency.
	Currency string
	// Orders counts the sales and Refunds the REFUND orders, of every
	// currency, converted or not.
	Orders, Refunds int64
	// Gross and Discounts are the converted sums over the sales;
	// GrossSales and Refunded as CurrencyTotals', converted.
	Gross, Discounts     money.Amount
	GrossSales, Refunded Revenue
	// Disputes counts the disputes opened in the month and Fees sums their
	// chargeback fees, which are charged in the account currency.
	Disputes int64
	Fees     money.Amount
	// Unconverted counts the orders of the figures that were not
	// converted: their amounts are in no figure above.
	Unconverted int64
}

// AfterRefunds returns the revenue after refunds: GrossSales + Refunded.
func (a AccountTotals) AfterRefunds() Revenue { return a.GrossSales.Plus(a.Refunded) }

// NetPayout is what the month leaves the account: net after refunds, less
// the 2Checkout and affiliate commissions after refunds and the chargeback
// fees.
func (a AccountTotals) NetPayout() money.Amount {
	r := a.AfterRefunds()
	return r.Net.Add(r.Commission.Neg()).Add(r.Affiliate.Neg()).Add(a.Fees.Neg())
}

// PreviousMonth is the month before the report's, in the account currency,
// read from the warehouse as the report's month is.
type PreviousMonth struct {
	Month civil.Date // first day
	// HasData says that the warehouse holds orders (test orders included)
	// or disputes of the month; without, its figures are unknown, not zero.
	HasData bool
	Totals  AccountTotals
	// CoveredBy is the run that read the whole month after it ended, ""
	// when none did and the month's figures may be incomplete.
	CoveredBy string
}

// tally adds up a month's non-test orders: by currency, and in the account
// currency.
type tally struct {
	statuses []string // the account's transaction statuses
	account  string
	byCur    map[string]*CurrencyTotals
	acct     AccountTotals
}

func newTally(statuses []string, account string) *tally {
	return &tally{statuses: statuses, account: account, byCur: map[string]*CurrencyTotals{}, acct: AccountTotals{Currency: account}}
}

// currency returns the totals of currency c, made on first use.
func (t *tally) currency(c string) *CurrencyTotals {
	ct := t.byCur[c]
	if ct == nil {
		ct = &CurrencyTotals{Currency: c}
		t.byCur[c] = ct
	}
	return ct
}

// converted is an order's amounts in the account currency, indexed by the
// Orders columns of the amounts in its own currency (ordGross to
// ordCommission).
type converted [ordCommission + 1]money.Amount

// add adds non-test order o, and returns its amounts converted into the
// account currency, and false when it cannot be converted (fxRateOf): the
// Orders sheet's cells, so that each amount is converted once.
func (t *tally) add(o *schemas.Order) (c converted, rate money.Rate, converts bool, err error) {
	ct := t.currency(o.Currency)
	sale, revenue := slices.Contains(t.statuses, o.Status), slices.Contains(revenueStatuses(), o.Status)
	rate, converts = fxRateOf(o, t.account)
	if converts {
		src := converted{ordGross: o.GrossPrice, ordDiscount: o.Discount, ordPaid: o.GrossDiscountedPrice,
			ordVAT: o.VAT, ordNet: o.NetDiscountedPrice, ordAffiliate: o.AffiliateCommission, ordCommission: o.TwoCheckoutCommission}
		for col := ordGross; col <= ordCommission; col++ {
			if c[col], err = src[col].Times(rate); err != nil {
				return c, rate, converts, fmt.Errorf("order %s: %w", o.RefNo, err)
			}
		}
	}
	conv := Revenue{c[ordPaid], c[ordVAT], c[ordNet], c[ordAffiliate], c[ordCommission]}
	if (sale || revenue) && !converts {
		ct.Unconverted++
		ct.UnconvertedPaid = ct.UnconvertedPaid.Add(o.GrossDiscountedPrice)
		t.acct.Unconverted++
	}
	if sale {
		ct.Orders++
		ct.Gross = ct.Gross.Add(o.GrossPrice)
		ct.Discounts = ct.Discounts.Add(o.Discount)
		t.acct.Orders++
		t.acct.Gross = t.acct.Gross.Add(c[ordGross])
		t.acct.Discounts = t.acct.Discounts.Add(c[ordDiscount])
	}
	if revenue {
		ct.GrossSales = ct.GrossSales.Plus(orderRevenue(o))
		t.acct.GrossSales = t.acct.GrossSales.Plus(conv)
	}
	if o.Status == statusRefund {
		ct.Refunds++
		ct.Refunded = ct.Refunded.Plus(orderRevenue(o).Negated())
		t.acct.Refunds++
		t.acct.Refunded = t.acct.Refunded.Plus(conv.Negated())
	}
	return c, rate, converts, nil
}

// addDispute adds a dispute opened in the month.
func (t *tally) addDispute(c *schemas.Chargeback) {
	ct := t.currency(c.Currency)
	ct.Disputes++
	ct.Disputed = ct.Disputed.Add(c.OrderAmount)
	ct.Fees = ct.Fees.Add(c.FeeAmount)
	t.acct.Disputes++
	t.acct.Fees = t.acct.Fees.Add(c.FeeAmount)
}

// readPrevious reads the month before month from the warehouse: its orders
// and disputes, tallied as the report's month is, and whether a run
// covered it. Only totals are kept, so each table is read in one span (one
// query on BigQuery), of the columns the totals need.
func readPrevious(ctx context.Context, wh load.Reader, a config.Account, month civil.Date) (PreviousMonth, error) {
	prev := PreviousMonth{Month: addMonths(month, -1)}
	span := load.Span{Merchant: a.MerchantCode, From: prev.Month, To: LastOfMonth(prev.Month)}
	wrap := func(err error) error { return fmt.Errorf("previous month %s: %w", MonthLabel(prev.Month), err) }
	tl := newTally(a.TransactionStatuses, a.Currency)
	ot := schemas.Orders()
	span.Columns = []string{"merchant_code", "ref_no", "order_date", "status", "currency", "is_test", "gross_price", "discount",
		"gross_discounted_price", "vat", "net_discounted_price", "affiliate_commission", "twocheckout_commission", "fx_rate", "payout_currency"}
	err := load.ReadSpan(ctx, wh, ot, span, func(row any) error {
		prev.HasData = true
		if o := row.(*schemas.Order); !o.IsTest {
			_, _, _, err := tl.add(o)
			return err
		}
		return nil
	})
	if err != nil {
		return prev, wrap(fmt.Errorf("read %s: %w", ot.Name, err))
	}
	cbt := schemas.Chargebacks()
	span.Columns = []string{"merchant_code", "opened_on", "currency", "order_amount", "fee_amount"}
	err = load.ReadSpan(ctx, wh, cbt, span, func(row any) error {
		prev.HasData = true
		tl.addDispute(row.(*schemas.Chargeback))
		return nil
	})
	if err != nil {
		return prev, wrap(fmt.Errorf("read %s: %w", cbt.Name, err))
	}
	var cov monthData
	if err := cov.readCoverage(ctx, wh, a.MerchantCode, span.From, span.To); err != nil {
		return prev, wrap(err)
	}
	if cov.covering != nil {
		prev.CoveredBy = cov.covering.RunID
	}
	prev.Totals = tl.acct
	return prev, nil
}

// addPayout adds order o's part of the net payout to reconciliation's
// warehouse figures fig, its own way:
// after refunds a refunded order counts for nothing, so the payout is the
// COMPLETE orders' converted net less their commissions (the fees are
// taken off with the disputes). An order of the figures that cannot be
// converted is counted.
func addPayout(fig *figures, o *schemas.Order, a config.Account) error {
	rate, ok := fxRateOf(o, a.Currency)
	if !ok {
		if slices.Contains(a.TransactionStatuses, o.Status) || slices.Contains(revenueStatuses(), o.Status) {
			fig.unconverted++
		}
		return nil
	}
	if o.Status != statusComplete {
		return nil
	}
	for _, x := range []struct {
		v    money.Amount
		sign bool
	}{{o.NetDiscountedPrice, true}, {o.TwoCheckoutCommission, false}, {o.AffiliateCommission, false}} {
		c, err := x.v.Times(rate)
		if err != nil {
			return fmt.Errorf("order %s: %w", o.RefNo, err)
		}
		if !x.sign {
			c = c.Neg()
		}
		fig.payout = fig.payout.Add(c)
	}
	return nil
}
