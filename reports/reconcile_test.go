package reports_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/xuri/excelize/v2"
)

// hidingReader is a warehouse that hides one partition of one table, as if
// a run had changed the warehouse after the report was built.
type hidingReader struct {
	load.Reader
	table string
	date  civil.Date
}

func (h hidingReader) ReadPartition(ctx context.Context, t schemas.Table, d civil.Date, fn func(any) error) error {
	if t.Name == h.table && d == h.date {
		return nil
	}
	return h.Reader.ReadPartition(ctx, t, d, fn)
}

// editCurrency sets the USD cell (column B, the account currency's) of the
// row labelled label.
func editCurrency(sheet, label string, v any) func(*testing.T, *reports.Report) {
	return func(t *testing.T, rep *reports.Report) {
		f, err := excelize.OpenFile(rep.Workbook)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		cell := ""
		for i, r := range rows {
			if len(r) > 0 && r[0] == label {
				cell = "B" + strconv.Itoa(i+1)
			}
		}
		if cell == "" {
			t.Fatalf("no row %q", label)
		}
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
	}
}

// editAccount sets the cell of this month's account-currency column (the
// first after the currencies' of the "By currency" table) of the row
// labelled label.
func editAccount(sheet, label string, v any) func(*testing.T, *reports.Report) {
	return func(t *testing.T, rep *reports.Report) {
		f, err := excelize.OpenFile(rep.Workbook)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		cell := ""
		for i, r := range rows {
			if len(r) > 0 && r[0] == label {
				cell, _ = excelize.CoordinatesToCellName(len(rep.Totals.Currencies)+2, i+1)
			}
		}
		if cell == "" {
			t.Fatalf("no row %q", label)
		}
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
		if err := f.Save(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReconcileCatchesDifferences: the report reconciles as built; any
// change to the workbook, the CSV, the totals of the message body or the
// warehouse is a mismatch, named.
func TestReconcileCatchesDifferences(t *testing.T) {
	fx := sandboxWarehouse(t)
	// edit sets a cell, named by reference or, with a label, as the cell
	// right of the label in column A.
	edit := func(sheet, cell string, v any) func(*testing.T, *reports.Report) {
		return func(t *testing.T, rep *reports.Report) {
			f, err := excelize.OpenFile(rep.Workbook)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if label, ok := strings.CutPrefix(cell, "right of "); ok {
				rows, err := f.GetRows(sheet)
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range rows {
					if len(r) > 0 && r[0] == label {
						cell = "B" + strconv.Itoa(i+1)
					}
				}
			}
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
			if err := f.Save(); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		tamper func(*testing.T, *reports.Report)
		wh     func(load.Reader) load.Reader
		want   string // in the mismatch
	}{
		{"as built", nil, nil, ""},
		{"an order's gross", edit(reports.SheetOrders, "F2", 1234567.89), nil, "Orders sheet:"},
		{"an order's status", edit(reports.SheetOrders, "C3", "CANCELED"), nil, "Orders sheet:"},
		{"an order row removed", func(t *testing.T, rep *reports.Report) {
			f, err := excelize.OpenFile(rep.Workbook)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.RemoveRow(reports.SheetOrders, 5); err != nil {
				t.Fatal(err)
			}
			if err := f.Save(); err != nil {
				t.Fatal(err)
			}
		}, nil, "Orders sheet:"},
		{"a dispute's fee", edit(reports.SheetChargebackFees, "I2", 0), nil, "Chargeback fees sheet:"},
		{"the Summary's fee", edit(reports.SheetSummary, "right of Total chargeback fee", 1), nil, "Summary sheet: total chargeback fee"},
		{"a Summary formula's range", func(t *testing.T, rep *reports.Report) {
			f, err := excelize.OpenFile(rep.Workbook)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.SetCellFormula(reports.SheetChargebackFees, "I"+strconv.Itoa(int(rep.Totals.Disputes)+2), "SUM('Chargeback fees'!$I$2:$I$3)"); err != nil {
				t.Fatal(err)
			}
			if err := f.Save(); err != nil {
				t.Fatal(err)
			}
		}, nil, "does not cover"},
		{"a CSV line dropped", func(t *testing.T, rep *reports.Report) {
			b, err := os.ReadFile(rep.CSV)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(string(b), "\r\n")
			if err := os.WriteFile(rep.CSV, []byte(strings.Join(append(lines[:2], lines[3:]...), "")), 0o644); err != nil {
				t.Fatal(err)
			}
		}, nil, "CSV:"},
		{"the Summary's refunds", editCurrency(reports.SheetSummary, "Refunds (paid back, incl. VAT)", 1), nil, "Summary sheet: USD refunds 1"},
		{"the Summary's sales after refunds", editCurrency(reports.SheetSummary, "Sales after refunds (incl. VAT)", 1), nil, "USD sales after refunds 1"},
		{"an order's paid amount", edit(reports.SheetOrders, "H2", 1234567.89), nil, "Orders sheet:"},
		{"the body's refunds", func(t *testing.T, rep *reports.Report) {
			rep.Totals.Currencies[0].Refunded.Paid++
		}, nil, "report totals: USD refunds"},
		{"the body's totals", func(t *testing.T, rep *reports.Report) {
			rep.Totals.Currencies[0].Gross++
		}, nil, "report totals:"},
		{"the Summary's net payout", editAccount(reports.SheetSummary, "Net payout (net - commissions - fees)", 1),
			nil, "Summary sheet: net payout 1.000000 with 0 orders not converted, warehouse 466854.287265"},
		{"the body's net payout", func(t *testing.T, rep *reports.Report) {
			rep.Totals.Converted.Fees++
		}, nil, "report totals: net payout"},
		{"the warehouse changed", nil, func(r load.Reader) load.Reader {
			return hidingReader{r, "orders", civil.Date{Year: 2025, Month: 3, Day: 10}}
		}, "warehouse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh := load.Reader(fx.warehouse(t))
			rep, err := reports.Build(t.Context(), reports.Request{Warehouse: wh, Account: fx.acct, Month: fx.month, RunID: "r", Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(t, rep)
			}
			if tt.wh != nil {
				wh = tt.wh(wh)
			}
			err = reports.Reconcile(t.Context(), wh, rep)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var mm *reports.MismatchError
			if !errors.As(err, &mm) {
				t.Fatalf("err = %v, want a mismatch", err)
			}
			if !strings.Contains(err.Error(), tt.want) || mm.Account != "demo" || mm.Month != "2025-03" {
				t.Errorf("mismatch %q does not name %q", err, tt.want)
			}
		})
	}
}
