package reports_test

import (
	"strconv"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
	"github.com/xuri/excelize/v2"
)

// TestEstimatedOpeningDatesDisclosed is issue 14 scope 6: the Summary
// says how many of the month's disputes have an estimated opening date
// (basis order_date) and the fees at stake. The fixture's March has both
// kinds: disputes of February orders that the run of 28 February had read
// undisputed (observed on 31 March), and disputes of March orders first
// read by the run of 31 March (estimated). The figures equal the
// warehouse's, counted here, and the workbook caches them.
func TestEstimatedOpeningDatesDisclosed(t *testing.T) {
	fx := sandboxWarehouse(t)
	wh := fx.warehouse(t)
	var estimated, observed int64
	var fees money.Amount
	span := load.Span{Merchant: fx.acct.MerchantCode, From: fx.month, To: civil.Date{Year: 2025, Month: 3, Day: 31}}
	if err := load.ReadSpan(t.Context(), wh, schemas.Chargebacks(), span, func(row any) error {
		c := row.(*schemas.Chargeback)
		switch c.OpenedOnBasis {
		case transform.BasisOrderDate:
			estimated++
			fees = fees.Add(c.FeeAmount)
		case transform.BasisObserved:
			observed++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if estimated == 0 || observed == 0 {
		t.Fatalf("March has %d estimated and %d observed disputes: the test needs both", estimated, observed)
	}
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: wh, Account: fx.acct, Month: fx.month, RunID: "estimated", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.EstimatedDisputes != estimated || rep.Totals.EstimatedFees != fees {
		t.Errorf("totals: %d estimated, fees %s; want %d, %s", rep.Totals.EstimatedDisputes, rep.Totals.EstimatedFees, estimated, fees)
	}
	f, err := excelize.OpenFile(rep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(reports.SheetSummary, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if len(r) > 1 {
			got[r[0]] = r[1]
		}
	}
	if n := got["Opening date estimated (order date)"]; n != strconv.FormatInt(estimated, 10) {
		t.Errorf("Summary: %q estimated, want %d", n, estimated)
	}
	if v, _, err := money.Parse(got["Their fees (USD)"]); err != nil || v != fees {
		t.Errorf("Summary: their fees %q, want %s", got["Their fees (USD)"], fees)
	}
	t.Logf("March: %d disputes estimated (%s USD of fees), %d observed", estimated, fees, observed)
}
