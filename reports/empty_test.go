package reports_test

import (
	"os"
	"strings"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

// TestMonthWithoutData: a month the warehouse has nothing of yet (April
// 2025) still gives a well-formed, reconciled workbook, marked provisional,
// whose fee basis is the one the month's disputes would have (March's
// rate), and a CSV with only its header.
func TestMonthWithoutData(t *testing.T) {
	fx := sandboxWarehouse(t)
	wh := fx.warehouse(t)
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: wh, Account: fx.acct,
		Month: civil.Date{Year: 2025, Month: 4, Day: 15}, RunID: "r", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := reports.Reconcile(t.Context(), wh, rep); err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	if tot.Complete || tot.OrderRows != 0 || tot.Disputes != 0 || tot.ChargebackFees != 0 || len(tot.Currencies) != 0 || !tot.Snapshot.IsZero() {
		t.Errorf("totals %+v", tot)
	}
	if len(tot.FeeBases) != 1 || tot.FeeBases[0].RateMonth != "2025-03" || tot.FeeBases[0].Disputes != 0 ||
		tot.FeeBases[0].Fee != money.FromInt(50) || tot.FeeBases[0].Tier != "0.65% or more" {
		t.Errorf("fee basis %+v", tot.FeeBases)
	}
	csv, err := os.ReadFile(rep.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(csv), "\r\n") != 1 {
		t.Errorf("CSV of a month without disputes: %q", csv)
	}
	f, err := excelize.OpenFile(rep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sheet, want := range map[string]string{
		reports.SheetOrders:         "No orders in the month",
		reports.SheetChargebackFees: "No disputes opened in April 2025",
	} {
		if v, _ := f.GetCellValue(sheet, "A2"); v != want {
			t.Errorf("%s A2 = %q, want %q", sheet, v, want)
		}
	}
	rows, err := f.GetRows(reports.SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) > 1 && r[0] == "Data complete" {
			found = strings.HasPrefix(r[1], "NO, PROVISIONAL")
		}
	}
	if !found {
		t.Error("the Summary does not say the month is provisional")
	}
	if s, _ := f.GetCellValue(reports.SheetSubscriptions, "A1"); s != "No subscription history covers the end of April 2025" {
		t.Errorf("Subscriptions A1 = %q", s)
	}
}
