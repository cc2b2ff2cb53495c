package reports_test

import (
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

// TestChargebacksUnavailable: an account whose API sends no dispute fields
// (the sandbox dialect no-chargeback-fields), set to chargebacks:
// unavailable, runs without chargebacks, and its report's Summary says
// that chargeback fees are not computed rather than showing a bare 0.
func TestChargebacksUnavailable(t *testing.T) {
	for _, tt := range []struct {
		chargebacks string
		want        bool
	}{{config.ChargebacksUnavailable, true}, {config.ChargebacksAvailable, false}} {
		t.Run(tt.chargebacks, func(t *testing.T) {
			root := t.TempDir()
			acct := sandboxAccount("nocb", "LLNOCB", 5, 10)
			acct.Chargebacks = tt.chargebacks
			if tt.want {
				acct.Sandbox.Dialect = dialect.Of(dialect.NoChargebackFields)
			}
			job := config.Job{Name: "nightly", Timezone: time.UTC, Accounts: []string{"nocb"}, LookbackDays: 31,
				Streams: []string{"orders", "chargebacks"}}
			if err := runPipeline(t.Context(), root, job, acct, civil.Date{Year: 2025, Month: 3, Day: 31}); err != nil {
				t.Fatal(err)
			}
			wh, err := local.OpenReader(root)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := reports.Build(t.Context(), reports.Request{Warehouse: wh, Account: acct,
				Month: civil.Date{Year: 2025, Month: 3, Day: 1}, RunID: "r", Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if err := reports.Reconcile(t.Context(), wh, rep); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenFile(rep.Workbook)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := f.GetRows(reports.SheetSummary)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range rows {
				if len(r) > 1 && r[0] == "Chargeback fees are not computed for this account" {
					found = strings.Contains(r[1], "chargebacks: unavailable")
				}
			}
			if found != tt.want {
				t.Errorf("Summary says fees are not computed: %v, want %v", found, tt.want)
			}
		})
	}
}
