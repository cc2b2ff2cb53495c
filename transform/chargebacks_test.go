package transform

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

func date(s string) civil.Date {
	d, err := civil.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// The seed's example: below 0.65% the fee is 30, at 0.65% or more 50; with
// a middle tier to show tiers are tried in order.
var threeTiers = config.ChargebackFees{Model: config.FeeModelThreshold, Tiers: []config.Tier{
	{Below: big.NewRat(13, 2000), BelowText: "0.65%", Fee: money.FromInt(30)},
	{Below: big.NewRat(1, 100), BelowText: "1%", Fee: money.FromInt(40)},
	{Fee: money.FromInt(50)},
}}

var fixed25 = config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.MustParse("25.50")}

// month builds the orders of one month: n transactions dated from day,
// the first disputes of which have a chargeback.
type month struct {
	day          string
	transactions int
	disputes     int
	tests        int // extra test orders, never transactions
	canceled     int // extra non-transactions
	resolution   string
}

func orders(ms ...month) []schemas.Order {
	var out []schemas.Order
	for mi, m := range ms {
		d := date(m.day)
		add := func(i int, status string, test bool, cb string) {
			out = append(out, schemas.Order{
				MerchantCode: "M1", RefNo: fmt.Sprintf("%d-%05d-%s", mi, i, status), Status: status, IsTest: test,
				OrderDate: d, OrderTS: d.In(time.UTC), Currency: "EUR", GrossPrice: money.FromInt(100),
				ChargebackResolution: cb,
			})
		}
		res := m.resolution
		if res == "" {
			res = "OPEN"
		}
		for i := range m.transactions {
			cb := "NONE"
			if i < m.disputes {
				cb = res
			}
			status := "COMPLETE"
			if i%10 == 9 {
				status = "REFUND" // refunds are transactions too
			}
			add(i, status, false, cb)
		}
		for i := range m.tests {
			add(100_000+i, "COMPLETE", true, "NONE")
		}
		for i := range m.canceled {
			add(200_000+i, "CANCELED", false, "NONE")
		}
	}
	return out
}

func noState() State {
	return State{
		Chargebacks: map[string]schemas.Chargeback{},
		Rate:        func(civil.Date) (schemas.ChargebackRate, bool, error) { return schemas.ChargebackRate{}, false, nil },
		Seen:        func(string, civil.Date) (bool, error) { return false, nil },
	}
}

func resolve(t *testing.T, fees config.ChargebackFees, runDate, from string, st State, os []schemas.Order) ([]schemas.Chargeback, []schemas.ChargebackRate) {
	t.Helper()
	c := &Chargebacks{MerchantCode: "M1", RunID: "r1", Fees: fees, Currency: "USD",
		TransactionStatuses: []string{"COMPLETE", "REFUND"}, Date: date(runDate), From: date(from)}
	for i := range os {
		c.AddOrder(&os[i])
	}
	cbs, rates, err := c.Resolve(st)
	if err != nil {
		t.Fatal(err)
	}
	return cbs, rates
}

func feesByMonth(cbs []schemas.Chargeback) map[string]string {
	out := map[string]string{}
	for _, c := range cbs {
		out[c.OpenedOn.String()[:7]] = c.FeeAmount.String() + " " + c.FeeCurrency
	}
	return out
}

func withFirstMonthTier(f config.ChargebackFees, n int) config.ChargebackFees {
	f.FirstMonthTier = n
	return f
}

func TestFeeTiers(t *testing.T) {
	tests := []struct {
		name      string
		fees      config.ChargebackFees
		february  month // the month whose rate decides March's fee
		wantFee   string
		wantRule  string
		wantRate  string // February's stored rate
		wantMarch string // March's rate
	}{
		{"fixed fee ignores the rate", fixed25, month{day: "2025-02-10", transactions: 2000, disputes: 40},
			"25.500000 USD", "fixed: 25.500000 USD per dispute", "0.020000000", "0.001000000"},
		{"below the first bound", threeTiers, month{day: "2025-02-10", transactions: 2000, disputes: 12},
			"30.000000 USD", "threshold: 2025-02 rate 0.6% (12 disputes in 2000 transactions) is below 0.65%: 30.000000 USD", "0.006000000", "0.001000000"},
		{"exactly 0.65% takes the higher fee", threeTiers, month{day: "2025-02-10", transactions: 2000, disputes: 13},
			"40.000000 USD", "threshold: 2025-02 rate 0.65% (13 disputes in 2000 transactions) is below 1%: 40.000000 USD", "0.006500000", "0.001000000"},
		{"just under 0.65% by one transaction", threeTiers, month{day: "2025-02-10", transactions: 2001, disputes: 13},
			"30.000000 USD", "threshold: 2025-02 rate ≈0.6496752% (13 disputes in 2001 transactions) is below 0.65%: 30.000000 USD", "0.006496752", "0.001000000"},
		{"exactly 1% reaches the catch-all", threeTiers, month{day: "2025-02-10", transactions: 2000, disputes: 20},
			"50.000000 USD", "threshold: 2025-02 rate 1% (20 disputes in 2000 transactions) is at or above 1%: 50.000000 USD", "0.010000000", "0.001000000"},
		{"test and canceled orders are not transactions", threeTiers, month{day: "2025-02-10", transactions: 2000, disputes: 13, tests: 500, canceled: 300},
			"40.000000 USD", "threshold: 2025-02 rate 0.65% (13 disputes in 2000 transactions) is below 1%", "0.006500000", "0.001000000"},
		{"zero transactions: no rate, first_month_tier defaults to the lowest", threeTiers, month{day: "2025-02-10", tests: 10},
			"30.000000 USD", "threshold: no transactions in 2025-02, so no rate; first_month_tier 1: 30.000000 USD", "0.000000000", "0.001000000"},
		{"zero transactions: first_month_tier 2", withFirstMonthTier(threeTiers, 2), month{day: "2025-02-10", tests: 10},
			"40.000000 USD", "threshold: no transactions in 2025-02, so no rate; first_month_tier 2: 40.000000 USD", "0.000000000", "0.001000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// February's disputes are there the first time their orders are
			// read (opened on their order date); March has 1 dispute in 1000.
			os := orders(tt.february, month{day: "2025-03-05", transactions: 1000, disputes: 1})
			cbs, rates := resolve(t, tt.fees, "2025-03-31", "2025-02-01", noState(), os)
			var march []schemas.Chargeback
			for _, c := range cbs {
				if c.OpenedOn.Month == time.March {
					march = append(march, c)
				}
			}
			if len(march) != 1 {
				t.Fatalf("%d March disputes, want 1", len(march))
			}
			m := march[0]
			if got := m.FeeAmount.String() + " " + m.FeeCurrency; got != tt.wantFee {
				t.Errorf("fee = %s, want %s", got, tt.wantFee)
			}
			if !strings.HasPrefix(m.FeeRule, tt.wantRule) {
				t.Errorf("rule = %q, want prefix %q", m.FeeRule, tt.wantRule)
			}
			if m.RateMonth != "2025-02" || m.Rate == nil || m.Rate.String() != tt.wantRate {
				t.Errorf("rate_month %s rate %v, want 2025-02 %s", m.RateMonth, m.Rate, tt.wantRate)
			}
			if len(rates) != 2 || rates[0].Rate.String() != tt.wantRate || rates[1].Rate.String() != tt.wantMarch {
				t.Fatalf("rates = %+v", rates)
			}
			if feb := rates[0]; feb.Transactions != int64(tt.february.transactions) || feb.ChargebacksOpened != int64(tt.february.disputes) ||
				!feb.Complete || feb.NextMonthFee.String()+" "+feb.FeeCurrency != tt.wantFee {
				t.Errorf("February = %+v", feb)
			}
			if rates[1].Complete != true {
				t.Errorf("March complete = false on 31 March")
			}
		})
	}
}

func TestFirstMonthHasNoRate(t *testing.T) {
	cbs, _ := resolve(t, threeTiers, "2025-02-20", "2025-02-01", noState(),
		orders(month{day: "2025-02-03", transactions: 100, disputes: 2}))
	for _, c := range cbs {
		if c.FeeAmount != money.FromInt(30) || c.Rate != nil || c.RateMonth != "2025-01" ||
			c.FeeRule != "threshold: no chargeback rate for 2025-01 in the data; lowest tier: 30.000000 USD" {
			t.Errorf("first month dispute = %+v", c)
		}
		if c.OpenedOn != date("2025-02-03") || c.OpenedOnBasis != BasisOrderDate {
			t.Errorf("opened %s %s, want the order date", c.OpenedOn, c.OpenedOnBasis)
		}
	}
	// A stored rate of the month before the window is used, from its
	// counts: exactly 13 in 2000 is not below 0.65%.
	st := noState()
	st.Rate = func(m civil.Date) (schemas.ChargebackRate, bool, error) {
		if m != date("2025-01-01") {
			t.Errorf("asked for the rate of %s", m)
		}
		return schemas.ChargebackRate{Month: m, Transactions: 2000, ChargebacksOpened: 13, Rate: money.RateFromUnits(6_500_000)}, true, nil
	}
	cbs, _ = resolve(t, threeTiers, "2025-02-20", "2025-02-01", st, orders(month{day: "2025-02-03", transactions: 100, disputes: 2}))
	if f := feesByMonth(cbs); f["2025-02"] != "40.000000 USD" {
		t.Errorf("fees with a stored January rate: %v", f)
	}
}

func TestOpenedOnIsState(t *testing.T) {
	// Run 1 on 2025-03-10: the window holds 3 disputes, on orders never
	// loaded before: opened on their order dates.
	feb := month{day: "2025-02-14", transactions: 50, disputes: 3}
	cbs1, _ := resolve(t, fixed25, "2025-03-10", "2025-02-01", noState(), orders(feb))
	st := noState()
	loaded := map[string]bool{}
	for _, o := range orders(feb) {
		loaded[o.RefNo] = true
	}
	st.Seen = func(ref string, _ civil.Date) (bool, error) { return loaded[ref], nil }
	for _, c := range cbs1 {
		if c.OpenedOn != date("2025-02-14") || c.OpenedOnBasis != BasisOrderDate {
			t.Fatalf("run 1: %+v", c)
		}
		st.Chargebacks[c.RefNo] = c
	}

	// Rerun of the same date: the same rows.
	again, _ := resolve(t, fixed25, "2025-03-10", "2025-02-01", st, orders(feb))
	if fmt.Sprint(again) != fmt.Sprint(cbs1) {
		t.Errorf("rerun differs:\n%v\n%v", again, cbs1)
	}

	// Run 2 on 2025-03-11: two more of the loaded orders are now disputed
	// and the first dispute was WON. Old opened_on dates stay; the new
	// disputes are observed on 2025-03-11.
	feb2 := feb
	feb2.disputes = 5
	os := orders(feb2)
	os[0].ChargebackResolution = "WON"
	cbs2, rates := resolve(t, fixed25, "2025-03-11", "2025-02-01", st, os)
	if len(cbs2) != 5 {
		t.Fatalf("%d disputes, want 5", len(cbs2))
	}
	observed := 0
	for _, c := range cbs2 {
		old, wasThere := st.Chargebacks[c.RefNo]
		switch {
		case wasThere && (c.OpenedOn != old.OpenedOn || c.OpenedOnBasis != BasisOrderDate || c.FeeAmount != old.FeeAmount):
			t.Errorf("old dispute moved: %+v, was %+v", c, old)
		case !wasThere && (c.OpenedOn != date("2025-03-11") || c.OpenedOnBasis != BasisObserved):
			t.Errorf("new dispute: %+v", c)
		case !wasThere:
			observed++
		}
	}
	if observed != 2 {
		t.Errorf("observed %d new disputes, want 2", observed)
	}
	if cbs2[0].Resolution != "WON" {
		t.Errorf("resolution of %s = %s, want WON (kept current)", cbs2[0].RefNo, cbs2[0].Resolution)
	}
	// A WON dispute still counts for February: 3 opened, plus March's 2.
	if rates[0].ChargebacksOpened != 3 || rates[1].ChargebacksOpened != 2 || rates[1].Complete {
		t.Errorf("rates = %+v", rates)
	}

	// A committed dispute whose order has left the window is kept as it was.
	st.Chargebacks["OLD"] = schemas.Chargeback{RefNo: "OLD", OrderDate: date("2024-10-01"), OpenedOn: date("2024-11-02"),
		OpenedOnBasis: BasisObserved, Resolution: "LOST", FeeAmount: money.FromInt(30)}
	cbs3, rates3 := resolve(t, fixed25, "2025-03-11", "2025-02-01", st, os)
	if len(cbs3) != 6 || cbs3[5].RefNo != "OLD" || cbs3[5].FeeAmount != money.FromInt(30) || cbs3[5].Resolution != "LOST" {
		t.Errorf("carried dispute: %+v", cbs3)
	}
	if rates3[0].ChargebacksOpened != 3 {
		t.Errorf("an old dispute changed February's count: %+v", rates3[0])
	}
}

func TestTwoAccounts(t *testing.T) {
	gbp := config.ChargebackFees{Model: config.FeeModelThreshold, Tiers: []config.Tier{
		{Below: big.NewRat(1, 200), BelowText: "0.5%", Fee: money.FromInt(20)},
		{Fee: money.FromInt(35)},
	}}
	os := orders(month{day: "2025-02-10", transactions: 1000, disputes: 6}, month{day: "2025-03-05", transactions: 10, disputes: 1})
	// 0.6%: the three-tier account pays 30 USD, the GBP one 35 GBP.
	a, _ := resolve(t, threeTiers, "2025-03-31", "2025-02-01", noState(), os)
	c := &Chargebacks{MerchantCode: "M2", Fees: gbp, Currency: "GBP", TransactionStatuses: []string{"COMPLETE"},
		Date: date("2025-03-31"), From: date("2025-02-01")}
	for i := range os {
		c.AddOrder(&os[i])
	}
	b, rates, err := c.Resolve(noState())
	if err != nil {
		t.Fatal(err)
	}
	if fa, fb := feesByMonth(a)["2025-03"], feesByMonth(b)["2025-03"]; fa != "30.000000 USD" || fb != "35.000000 GBP" {
		t.Errorf("fees: %s and %s", fa, fb)
	}
	// Only COMPLETE counts for the second account: 900 transactions.
	if rates[0].Transactions != 900 || rates[0].Rate.String() != "0.006666667" {
		t.Errorf("GBP account February: %+v", rates[0])
	}
}

// TestMonthBoundaryInReportingZone: the month of an order, for rates, is
// that of its order_date in the reporting time zone, whose offset changes
// with daylight saving time.
func TestMonthBoundaryInReportingZone(t *testing.T) {
	buc := mustLoad(t, "Europe/Bucharest")
	conv := &Converter{MerchantCode: "M1", Source: time.UTC, Reporting: buc}
	tests := []struct {
		utc   string
		month string
	}{
		{"2025-03-31 20:59:59", "2025-03"}, // 23:59:59 EEST (UTC+3, summer time began 30 March)
		{"2025-03-31 21:00:00", "2025-04"}, // 00:00 on 1 April
		{"2025-10-31 21:59:59", "2025-10"}, // 23:59:59 EET (UTC+2, summer time ended 26 October)
		{"2025-10-31 22:00:00", "2025-11"}, // 00:00 on 1 November
		{"2025-03-31 23:30:00", "2025-04"}, // the example
	}
	c := &Chargebacks{MerchantCode: "M1", Fees: fixed25, Currency: "USD", TransactionStatuses: []string{"COMPLETE"},
		Date: date("2025-11-30"), From: date("2025-03-01")}
	for i, tt := range tests {
		raw := extract.Order{RefNo: fmt.Sprint(i), Status: "COMPLETE", OrderDate: tt.utc, Currency: "USD",
			NetPrice: "1", GrossPrice: "1", NetDiscountedPrice: "1", GrossDiscountedPrice: "1", VAT: "0", AvangateCommission: "0",
			Items: []extract.OrderItem{{Code: "P", Quantity: "1", Price: extract.ItemPrice{NetPrice: "1", GrossPrice: "1",
				NetDiscountedPrice: "1", GrossDiscountedPrice: "1", VAT: "0"}}}}
		var o schemas.Order
		if _, err := conv.Order(&raw, &o, nil); err != nil {
			t.Fatal(err)
		}
		if got := o.OrderDate.String()[:7]; got != tt.month {
			t.Errorf("%s UTC: month %s, want %s", tt.utc, got, tt.month)
		}
		c.AddOrder(&o)
	}
	_, rates, err := c.Resolve(noState())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rates {
		got[r.Month.String()[:7]] = r.Transactions
	}
	want := map[string]int64{"2025-03": 1, "2025-04": 2, "2025-05": 0, "2025-06": 0, "2025-07": 0, "2025-08": 0,
		"2025-09": 0, "2025-10": 1, "2025-11": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("transactions by month = %v, want %v", got, want)
	}
}

func TestResolveNeedsMonthStart(t *testing.T) {
	c := &Chargebacks{Fees: fixed25, Date: date("2025-03-31"), From: date("2025-02-02")}
	if _, _, err := c.Resolve(noState()); err == nil {
		t.Error("a window starting mid-month was accepted")
	}
}
