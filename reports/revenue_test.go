package reports_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/xuri/excelize/v2"
)

// memWarehouse is a load.Reader of rows made by hand: table name, then
// partition date, then rows (pointers to schemas row structs).
type memWarehouse map[string]map[civil.Date][]any

func (w memWarehouse) Partitions(_ context.Context, t schemas.Table) ([]civil.Date, error) {
	var ds []civil.Date
	for d, rows := range w[t.Name] {
		if len(rows) > 0 {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, civil.Date.Compare) // ascending, as load.Reader promises
	return ds, nil
}

func (w memWarehouse) ReadPartition(_ context.Context, t schemas.Table, d civil.Date, fn func(any) error) error {
	for _, r := range w[t.Name][d] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// handOrder is an order of the hand-made month: its status and amounts.
type handOrder struct {
	status                                  string
	day                                     int // of June 2025; 0: 31 May, outside the month
	test                                    bool
	gross, discount, paid, vat, net, aff, c string
}

// The revenue measures of the Summary, in the order of revenueWants.
var measures = []string{"paid", "net", "vat", "commission", "affiliate"}

// TestRevenueAddsUp is issue 14 scope 4 (finding 4: refunds were counted
// as revenue). A month of several currencies is made by hand, with COMPLETE
// and REFUND orders and orders that must not count (pending, test, the
// month before); for each currency the gross sales, refunds and after
// refunds of each measure are worked out by hand below. The report's
// totals, the workbook's cached values (excelize) and an independent read
// of the workbook (openpyxl) must equal them to the cent, every "after
// refunds" line must be the formula adding the two lines above it, and
// gross + refunds = after refunds exactly.
func TestRevenueAddsUp(t *testing.T) {
	cases := []struct {
		currency string
		orders   []handOrder
		// want[measure] = gross sales, refunds, after refunds.
		want map[string][3]string
	}{
		{
			currency: "USD",
			orders: []handOrder{
				{statusComplete, 2, false, "130.00", "10.00", "120.00", "20.00", "100.00", "3.00", "5.99"},
				{statusComplete, 15, false, "59.50", "0", "59.50", "9.50", "50.00", "0", "3.25"},
				{statusRefund, 20, false, "24.20", "0", "24.20", "4.20", "20.00", "0.50", "1.45"},
				{"PENDING", 21, false, "99.00", "0", "99.00", "0", "99.00", "0", "9.00"},
				{statusComplete, 22, true, "500.00", "0", "500.00", "0", "500.00", "0", "25.00"},
				{statusRefund, 0, false, "77.00", "0", "77.00", "0", "77.00", "0", "7.00"},
			},
			// paid: 120.00 + 59.50 + 24.20 = 203.70; refunds -24.20; after 179.50.
			want: map[string][3]string{
				"paid":       {"203.70", "-24.20", "179.50"},
				"net":        {"170.00", "-20.00", "150.00"},
				"vat":        {"33.70", "-4.20", "29.50"},
				"commission": {"10.69", "-1.45", "9.24"},
				"affiliate":  {"3.50", "-0.50", "3.00"},
			},
		},
		{
			currency: "EUR",
			orders: []handOrder{
				{statusComplete, 1, false, "1000.01", "0", "1000.01", "190.01", "810.00", "10.01", "49.99"},
				{statusRefund, 10, false, "333.33", "0", "333.33", "53.22", "280.11", "0", "16.67"},
				{statusRefund, 30, false, "0.01", "0", "0.01", "0", "0.01", "0", "0.01"},
				{"CANCELED", 30, false, "45.00", "0", "45.00", "0", "45.00", "0", "0"},
			},
			// paid: 1000.01 + 333.33 + 0.01 = 1333.35; refunds -333.34; after 1000.01.
			want: map[string][3]string{
				"paid":       {"1333.35", "-333.34", "1000.01"},
				"net":        {"1090.12", "-280.12", "810.00"},
				"vat":        {"243.23", "-53.22", "190.01"},
				"commission": {"66.67", "-16.68", "49.99"},
				"affiliate":  {"10.01", "0", "10.01"},
			},
		},
		{
			currency: "JPY",
			orders: []handOrder{
				{statusComplete, 3, false, "12000", "0", "12000", "1091", "10909", "0", "600"},
				{statusComplete, 4, false, "5500", "500", "5000", "455", "4545", "250", "250"},
				{statusRefund, 5, false, "3000", "0", "3000", "273", "2727", "0", "150"},
			},
			// paid: 12000 + 5000 + 3000 = 20000; refunds -3000; after 17000.
			want: map[string][3]string{
				"paid":       {"20000", "-3000", "17000"},
				"net":        {"18181", "-2727", "15454"},
				"vat":        {"1819", "-273", "1546"},
				"commission": {"1000", "-150", "850"},
				"affiliate":  {"250", "0", "250"},
			},
		},
		{
			// Every sale refunded: gross sales and refunds cancel out.
			currency: "GBP",
			orders: []handOrder{
				{statusRefund, 12, false, "10.10", "0", "10.10", "1.68", "8.42", "0", "0.79"},
			},
			want: map[string][3]string{
				"paid":       {"10.10", "-10.10", "0"},
				"net":        {"8.42", "-8.42", "0"},
				"vat":        {"1.68", "-1.68", "0"},
				"commission": {"0.79", "-0.79", "0"},
				"affiliate":  {"0", "0", "0"},
			},
		},
	}

	month := civil.Date{Year: 2025, Month: 6, Day: 1}
	acct := config.Account{
		Name: "hand", MerchantCode: "LLHAND", Currency: "USD", ReportingTimezone: time.UTC, SourceTimezone: time.UTC,
		TransactionStatuses: []string{statusComplete, statusRefund},
		ChargebackFees:      config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.FromInt(40)},
	}
	wh := memWarehouse{}
	n := 0
	for _, c := range cases {
		for _, o := range c.orders {
			n++
			d := civil.Date{Year: 2025, Month: 6, Day: o.day}
			if o.day == 0 {
				d = civil.Date{Year: 2025, Month: 5, Day: 31}
			}
			for _, merchant := range []string{acct.MerchantCode, "LLOTHER"} { // another merchant's orders must not count
				row := &schemas.Order{
					MerchantCode: merchant, RefNo: fmt.Sprintf("%s-%d", merchant, n), SourceAPI: "jsonrpc", Status: o.status,
					OrderTS: d.In(time.UTC).Add(time.Hour), OrderDate: d, Currency: c.currency, IsTest: o.test,
					GrossPrice: money.MustParse(o.gross), Discount: money.MustParse(o.discount), GrossDiscountedPrice: money.MustParse(o.paid),
					VAT: money.MustParse(o.vat), NetDiscountedPrice: money.MustParse(o.net), NetPrice: money.MustParse(o.net),
					AffiliateCommission: money.MustParse(o.aff), TwoCheckoutCommission: money.MustParse(o.c),
					ChargebackResolution: "NONE", RunID: "hand-run",
				}
				if wh[schemas.Orders().Name] == nil {
					wh[schemas.Orders().Name] = map[civil.Date][]any{}
				}
				wh[schemas.Orders().Name][d] = append(wh[schemas.Orders().Name][d], row)
			}
		}
	}
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: wh, Account: acct, Month: month, RunID: "revenue", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}

	// The report's totals.
	pick := func(r reports.Revenue, m string) money.Amount {
		return map[string]money.Amount{"paid": r.Paid, "net": r.Net, "vat": r.VAT, "commission": r.Commission, "affiliate": r.Affiliate}[m]
	}
	for _, c := range cases {
		ct, ok := rep.Totals.Currency(c.currency)
		if !ok {
			t.Errorf("totals have no %s", c.currency)
			continue
		}
		for _, m := range measures {
			w := c.want[m]
			got := [3]money.Amount{pick(ct.GrossSales, m), pick(ct.Refunded, m), pick(ct.AfterRefunds(), m)}
			for i := range w {
				if got[i] != money.MustParse(w[i]) {
					t.Errorf("totals %s %s [gross, refunds, after] = %v, want %v", c.currency, m, got, w)
					break
				}
			}
			if got[0].Add(got[1]) != got[2] {
				t.Errorf("totals %s %s: %s + %s != %s", c.currency, m, got[0], got[1], got[2])
			}
		}
	}

	// The workbook's cached values, as excelize reads them.
	labels := revenueLabels()
	f, err := excelize.OpenFile(rep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, cached, notes := summaryTable(t, f)
	check := func(who string, lines map[string]map[string]string) {
		t.Helper()
		for _, c := range cases {
			for i, m := range measures {
				for k := range 3 {
					label, want := labels[i][k], c.want[m][k]
					got, _, err := money.Parse(lines[label][c.currency])
					if err != nil || got != money.MustParse(want) {
						t.Errorf("%s: Summary %q %s = %q, want %s", who, label, c.currency, lines[label][c.currency], want)
					}
				}
			}
		}
	}
	check("excelize", cached)

	// Every line is defined in a footnote.
	text := strings.Join(notes, "\n")
	for _, term := range []string{"Gross sales are", "Refunds are", `"after refunds" line`, "Partial refunds", "commissions on refunds"} {
		if !strings.Contains(text, term) {
			t.Errorf("Summary footnotes do not define %q:\n%s", term, text)
		}
	}

	// An independent reader: openpyxl, cached values and formulas.
	python := pythonWithOpenpyxl(t)
	got := openpyxlReadBack(t, python, rep.Workbook)
	check("openpyxl", got.Summary.Lines)
	for i := range measures {
		after, gross, refunds := labels[i][2], labels[i][0], labels[i][1]
		for _, c := range cases {
			fg, fr, fa := got.Summary.Formulas[gross][c.currency], got.Summary.Formulas[refunds][c.currency], got.Summary.Formulas[after][c.currency]
			if !strings.HasPrefix(fg, "=SUMIFS(") || !strings.HasPrefix(fr, "=-SUMIFS(") || !strings.Contains(fr, `"REFUND"`) {
				t.Errorf("openpyxl: %s formulas %q, %q", c.currency, fg, fr)
			}
			col := strings.TrimPrefix(strings.SplitN(fa, "+", 2)[0], "=")
			col = strings.TrimRight(col, "0123456789")
			var r int
			if _, err := fmt.Sscanf(strings.TrimPrefix(strings.SplitN(fa, "+", 2)[0], "="+col), "%d", &r); err != nil ||
				fa != fmt.Sprintf("=%s%d+%s%d", col, r, col, r+1) {
				t.Errorf("openpyxl: %q %s is %q, not the sum of the two lines above", after, c.currency, fa)
			}
		}
	}
}

// revenueLabels are the Summary's revenue lines by measure (as measures):
// gross sales, refunds, after refunds.
func revenueLabels() [5][3]string {
	return [5][3]string{
		{"Gross sales (paid by shoppers, incl. VAT)", "Refunds (paid back, incl. VAT)", "Sales after refunds (incl. VAT)"},
		{"Net of gross sales (excl. VAT, after discounts)", "Net of refunds (excl. VAT)", "Net after refunds (excl. VAT, after discounts)"},
		{"VAT of gross sales", "VAT of refunds", "VAT after refunds"},
		{"2Checkout commission on gross sales", "2Checkout commission on refunds", "2Checkout commission after refunds"},
		{"Affiliate commission on gross sales", "Affiliate commission on refunds", "Affiliate commission after refunds"},
	}
}

const (
	statusComplete = "COMPLETE"
	statusRefund   = "REFUND"
)
