package pipeline_test

import (
	"fmt"
	"math/big"
	"strings"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// readRates returns the committed chargeback_rates rows by month.
func readRates(t *testing.T, root string) map[civil.Date]schemas.ChargebackRate {
	t.Helper()
	out := map[civil.Date]schemas.ChargebackRate{}
	eachRow(t, root, schemas.ChargebackRates(), func(_ civil.Date, row any) {
		r := *row.(*schemas.ChargebackRate)
		out[r.Month] = r
	})
	return out
}

// TestFeesOfTheWindowsFirstMonthUseTheMonthBefore is issue 14's finding 1:
// a window that starts on the first of March must not price March's
// disputes at the lowest tier because February was outside it. The run
// reads February too, and its fees equal those of a run whose window
// covered February anyway. Before the merchant's first order the fee is
// the configured first_month_tier, and says so.
func TestFeesOfTheWindowsFirstMonthUseTheMonthBefore(t *testing.T) {
	// The sandbox's rate is about 1.6%: the upper tier, never the lowest.
	fees := config.ChargebackFees{Model: config.FeeModelThreshold, FirstMonthTier: 2, Tiers: []config.Tier{
		{Below: big.NewRat(13, 2000), BelowText: "0.65%", Fee: money.FromInt(30)},
		{Fee: money.FromInt(50)},
	}}
	tests := []struct {
		name     string
		date     civil.Date
		month    string // disputes opened in it are checked
		rateOf   civil.Date
		wantRule string
	}{
		{"march after february", civil.Date{Year: 2025, Month: 3, Day: 20}, "2025-03", civil.Date{Year: 2025, Month: 2, Day: 1}, "threshold: 2025-02 rate ≈"},
		// The sandbox starts on 5 January (UTC+2): December has no orders.
		{"the merchant's first month", civil.Date{Year: 2025, Month: 1, Day: 20}, "2025-01", civil.Date{Year: 2024, Month: 12, Day: 1}, "no transactions in 2024-12, so no rate; first_month_tier 2: 50.000000 USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			acct, job := testAccount(t), testJob(10)
			acct.Sandbox.OrdersPerDay = 150
			acct.ChargebackFees = fees
			acct.Sandbox.Since = civil.Date{Year: 2025, Month: 1, Day: 5}
			job.Streams = []string{"orders", "chargebacks"}
			s := run(t, root, job, acct, tt.date)
			if s.Window[0] != tt.rateOf {
				t.Errorf("window %v, want it widened to %s", s.Window, tt.rateOf)
			}
			rate, ok := readRates(t, root)[tt.rateOf]
			if !ok || !rate.Complete {
				t.Fatalf("chargeback_rates %s: %+v (present %v), want a complete row", tt.rateOf, rate, ok)
			}
			n := 0
			for ref, c := range readChargebacks(t, root) {
				if !strings.HasPrefix(c.OpenedOn.String(), tt.month) {
					continue
				}
				n++
				if c.RateMonth != tt.rateOf.String()[:7] || c.FeeAmount != money.FromInt(50) || !strings.Contains(c.FeeRule, tt.wantRule) {
					t.Errorf("%s opened %s: fee %s by %s (%q), want 50 by %s", ref, c.OpenedOn, c.FeeAmount, c.RateMonth, c.FeeRule, tt.rateOf.String()[:7])
				}
			}
			if n == 0 {
				t.Fatalf("no dispute opened in %s: the test shows nothing", tt.month)
			}
			// Now the warehouse has the complete rate: a rerun takes it
			// from there and reads only its own window.
			before := readChargebacks(t, root)
			again := run(t, root, job, acct, tt.date)
			if again.Window[0] == tt.rateOf {
				t.Errorf("rerun: window %v widened although %s's rate is committed", again.Window, tt.rateOf)
			}
			if fmt.Sprint(sortedRows(readChargebacks(t, root))) != fmt.Sprint(sortedRows(before)) {
				t.Error("rerun changed the chargebacks")
			}
		})
	}
}
