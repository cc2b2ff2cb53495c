package reports

import (
	"math/big"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestConvert: amount × rate rounded half to even to six decimals, in the
// integer path and in the big one (products past 63 bits), by hand.
func TestConvert(t *testing.T) {
	rate := func(s string) money.Rate {
		q, _ := new(big.Rat).SetString(s)
		r, rounded, err := money.RateFromRat(q)
		if err != nil || rounded {
			t.Fatalf("rate %s: %v", s, err)
		}
		return r
	}
	tests := []struct{ amount, rate, want string }{
		{"455", "0.0066955", "3.046452"},     // 3.0464525: a tie, to even (down)
		{"4545", "0.0066955", "30.431048"},   // 30.4310475: a tie, to even (up)
		{"-455", "0.0066955", "-3.046452"},   // negative: the same magnitude
		{"-4545", "0.0066955", "-30.431048"}, // negative tie up
		{"1000.01", "1.085123", "1085.133851"},
		{"49.99", "1.085123", "54.245299"},
		{"0.000001", "0.5", "0"},        // 0.0000005: a tie, to even 0
		{"0.000003", "0.5", "0.000002"}, // 0.0000015: a tie, to even 2
		{"12000", "1", "12000"},
		{"0", "1.234567891", "0"},
		// Large amounts: a product of units past 63 bits (amount × rate
		// of 9,223 or more) takes the big path.
		{"1000000", "1.085123457", "1085123.457"},
		{"123456.789012", "0.0066955", "826.604931"}, // 826.604930829846 → 826.604931
		{"9999.999999", "1.0000005", "10000.004999"}, // 10000.0049989999995 → 10000.004999
		{"20000.000001", "0.00000005", "0.001"},      // 0.00100000000005 → 0.001000
		{"-20000.000003", "0.0000005", "-0.01"},      // -0.0100000000015 → -0.010000
		{"100000.000005", "0.1", "10000.000000"},     // 10000.0000005: a tie, to even
		{"100000.000015", "0.1", "10000.000002"},     // 10000.0000015: a tie, to even (up)
	}
	for _, tt := range tests {
		got, err := convert(money.MustParse(tt.amount), rate(tt.rate))
		if err != nil || got != money.MustParse(tt.want) {
			t.Errorf("convert(%s, %s) = %s, %v; want %s", tt.amount, tt.rate, got, err, tt.want)
		}
	}
	if _, err := convert(money.MustParse("999999999999"), rate("1000")); err == nil {
		t.Error("convert past DECIMAL(18,6): no error")
	}
}

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
