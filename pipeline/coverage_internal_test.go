package pipeline

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
)

// TestChargebackCoverageShares: no order with ChargebackResolution fails
// the run, some warn with the share (rounded down: 2 of 3 is 66.6%), all
// pass silently; the summary lines list exactly the fields under 100%.
func TestChargebackCoverageShares(t *testing.T) {
	none := "NONE"
	full := extract.Order{ChargebackResolution: &none, ChargebackReasonCode: new(string),
		BillingDetails: extract.BillingDetails{CountryCode: "de"}, CustomerReference: "1", FxRate: "1",
		PayoutCurrency: "USD", PaymentDetails: extract.PaymentDetails{Type: "CC"}, Origin: "Web"}
	bare := full
	bare.ChargebackResolution, bare.ChargebackReasonCode = nil, nil
	for _, tt := range []struct {
		name       string
		orders     []extract.Order
		wantErr    bool
		wantWarn   string
		incomplete string
	}{
		{"all", []extract.Order{full, full, full}, false, "", ""},
		{"some", []extract.Order{full, full, bare}, false, "share=66.6%",
			"orders: ChargebackResolution 66.6% (2 of 3), ChargebackReasonCode 66.6% (2 of 3)"},
		{"none", []extract.Order{bare, bare}, true, "",
			"orders: ChargebackResolution 0.0% (0 of 2), ChargebackReasonCode 0.0% (0 of 2)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var oc orderCounts
			for i := range tt.orders {
				oc.add(orderFieldMask(&tt.orders[i]))
			}
			var cov Coverage
			cov.addOrders(oc)
			var logs bytes.Buffer
			r := &Run{Account: config.Account{Name: "shop"}}
			err := r.checkChargebackCoverage(slog.New(slog.NewTextHandler(&logs, nil)), cov)
			if errors.Is(err, ErrNoChargebackData) != tt.wantErr || (err != nil && !strings.HasPrefix(err.Error(),
				"account shop: orders carry no ChargebackResolution: none of the 2 orders read for the window has the field")) {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := logs.String(); (tt.wantWarn == "") != (got == "") || !strings.Contains(got, tt.wantWarn) {
				t.Errorf("log %q, want a warning with %q", got, tt.wantWarn)
			}
			if got := strings.Join(cov.Incomplete(), "\n"); got != tt.incomplete {
				t.Errorf("Incomplete() = %q, want %q", got, tt.incomplete)
			}
		})
	}
}
