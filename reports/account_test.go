package reports

import (
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestFxRateOf: which orders convert, with which rate.
func TestFxRateOf(t *testing.T) {
	usd, eur := "USD", "EUR"
	r := money.RateFromUnits(1_085_000_000)
	tests := []struct {
		name     string
		currency string
		rate     *money.Rate
		payout   *string
		want     money.Rate
		converts bool
	}{
		{"own rate into the account currency", "EUR", &r, &usd, r, true},
		{"no rate", "EUR", nil, &usd, 0, false},
		{"rate, no payout currency: into what is unknown", "EUR", &r, nil, 0, false},
		{"paid out in another currency", "EUR", &r, &eur, 0, false},
		{"account currency without a rate: at its amount", "USD", nil, nil, oneRate, true},
		{"account currency paid out in another", "USD", nil, &eur, 0, false},
	}
	for _, tt := range tests {
		o := &schemas.Order{Currency: tt.currency, FxRate: tt.rate, PayoutCurrency: tt.payout}
		if got, ok := fxRateOf(o, "USD"); got != tt.want || ok != tt.converts {
			t.Errorf("%s: fxRateOf = %s, %v; want %s, %v", tt.name, got, ok, tt.want, tt.converts)
		}
	}
}

// TestAccountLine: the message body's sentence in the account currency,
// with the month before or without its data.
func TestAccountLine(t *testing.T) {
	c := AccountTotals{Currency: "USD", GrossSales: Revenue{Paid: money.MustParse("1000"), Net: money.MustParse("800"),
		Commission: money.MustParse("50"), Affiliate: money.MustParse("10")},
		Refunded: Revenue{Paid: money.MustParse("-100"), Net: money.MustParse("-80"), Commission: money.MustParse("-5")},
		Fees:     money.MustParse("40"), Unconverted: 2}
	may := civil.Date{Year: 2025, Month: 5, Day: 1}
	tests := []struct {
		prev PreviousMonth
		want string
	}{
		{PreviousMonth{Month: may, HasData: true, Totals: AccountTotals{GrossSales: Revenue{Net: money.MustParse("292.4")}, Fees: money.MustParse("40")}},
			// 720 - 45 - 10 - 40 = 625; May 292.4 - 40.
			"In USD (each order at its own FX rate): sales after refunds 900.00 USD, net after refunds 720.00 USD, net payout 625.00 USD, leaving out 2 orders not converted; May 2025: net payout 252.40 USD."},
		{PreviousMonth{Month: may},
			"In USD (each order at its own FX rate): sales after refunds 900.00 USD, net after refunds 720.00 USD, net payout 625.00 USD, leaving out 2 orders not converted; May 2025: no data in the warehouse."},
	}
	for _, tt := range tests {
		rep := &Report{Account: config.Account{Currency: "USD"}, Totals: Totals{Converted: c, Previous: tt.prev}}
		if got := accountLine(rep); got != tt.want {
			t.Errorf("accountLine =\n%s\nwant\n%s", got, tt.want)
		}
	}
}
