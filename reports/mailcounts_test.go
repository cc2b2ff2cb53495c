package reports

import (
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
)

// TestBodyCountsGrouped: the message body writes counts with thousands
// separators, as amounts are (issue 14, finding 8: "the body shows 2293").
func TestBodyCountsGrouped(t *testing.T) {
	rep := &Report{
		Account: config.Account{Name: "demo", MerchantCode: "LLDEMO", Currency: "USD", ReportingTimezone: time.UTC,
			TransactionStatuses: []string{"COMPLETE", "REFUND"}},
		Month: civil.Date{Year: 2026, Month: 10, Day: 1},
		Totals: Totals{Complete: true, FeeCurrency: "USD", Disputes: 1085, ChargebackFees: money.FromInt(54250),
			Currencies: []CurrencyTotals{{Currency: "USD", Orders: 2293, Disputes: 1085, Fees: money.FromInt(54250)}},
			FeeBases:   []FeeBasis{{RateMonth: "2026-09", Fee: money.FromInt(50), Disputes: 1085}}},
	}
	text, html, err := bodies(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{text, html} {
		for _, want := range []string{"2,293", "1,085 disputes opened", "1,085 disputes", "54,250.00 USD"} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %q:\n%s", want, body)
			}
		}
		for _, bad := range []string{"2293", "1085"} {
			if strings.Contains(body, bad) {
				t.Errorf("body writes %s without separators:\n%s", bad, body)
			}
		}
	}
}
