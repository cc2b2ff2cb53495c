package reports_test

import (
	"encoding/csv"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
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

// fxOrder is an order of the hand-made months of TestAccountCurrency.
type fxOrder struct {
	ref, status, currency string
	day                   civil.Date
	// gross, discount, paid, VAT, net, affiliate, 2Checkout commission
	amounts [7]string
	rate    string // FxRate; "" for none
	payout  string // PayoutCurrency; "" for none
}

// The lines of the account-currency column that TestAccountCurrency checks,
// by their Summary label.
const (
	fxSales     = "Sales (orders with status COMPLETE or REFUND)"
	fxGross     = "Gross (incl. VAT, before discounts)"
	fxDiscounts = "Discounts"
	fxRefunded  = "Refunded orders"
	fxFees      = "Total chargeback fee (USD)"
	fxPayout    = "Net payout (net - commissions - fees)"
	fxNotConv   = "Orders not converted (no usable FX rate)"
	fxChbks     = "Chargebacks opened"
)

// TestAccountCurrency is issue 14 scope 5 and its "Done when": the Summary
// of a multi-currency month computed by hand. June 2025 has orders in USD,
// EUR and JPY with their own FxRate, a refund in USD and in EUR, an EUR
// order without an FxRate and a JPY order paid out in EUR (neither
// converted), and a USD order without an FxRate (in the account currency:
// at its amount); May 2025 is the month before; April has no data. For
// each month the per-currency figures, the figures in USD (every amount
// converted order by order, rounded half to even to 6 decimals, then
// summed), the net payout and the previous month's column are worked out
// by hand in the comments below. The report's totals, the workbook's
// cached values (excelize) and an independent read (openpyxl) must equal
// them exactly (to the sixth decimal, so to the cent).
//
// Converted by hand (amount × rate, then half to even at 6 decimals):
//
//	e1 EUR × 1.085123: 1000.01 → 1085.13385123 → 1085.133851; VAT 190.01 → 206.184221(23);
//	   net 810.00 → 878.949630; affiliate 10.01 → 10.862081(23); commission 49.99 → 54.245298|77 → 54.245299
//	e2 EUR × 1.0925 (REFUND): 333.33 → 364.163025; VAT 53.22 → 58.142850; net 280.11 → 306.020175;
//	   commission 16.67 → 18.211975
//	j1 JPY × 0.006711: 12000 → 80.532; VAT 1091 → 7.321701; net 10909 → 73.210299; commission 600 → 4.0266
//	j2 JPY × 0.0066955: gross 5500 → 36.82525; discount 500 → 3.34775; paid 5000 → 33.4775;
//	   VAT 455 → 3.046452|5, a tie, to even: 3.046452 (half up would give .046453);
//	   net 4545 → 30.431047|5, a tie, to even: 30.431048; affiliate and commission 250 → 1.673875
//	u1, u2 USD × 1, u3 USD without a rate: their amounts.
func TestAccountCurrency(t *testing.T) {
	june, may := civil.Date{Year: 2025, Month: 6, Day: 1}, civil.Date{Year: 2025, Month: 5, Day: 1}
	day := func(m civil.Date, d int) civil.Date { return civil.Date{Year: m.Year, Month: m.Month, Day: d} }
	orders := []fxOrder{
		{"u1", statusComplete, "USD", day(june, 2), [7]string{"130.00", "10.00", "120.00", "20.00", "100.00", "3.00", "5.99"}, "1", "USD"},
		{"u2", statusRefund, "USD", day(june, 20), [7]string{"24.20", "0", "24.20", "4.20", "20.00", "0.50", "1.45"}, "1", "USD"},
		{"u3", statusComplete, "USD", day(june, 21), [7]string{"50.00", "0", "50.00", "0", "50.00", "0", "2.50"}, "", ""},
		{"e1", statusComplete, "EUR", day(june, 3), [7]string{"1000.01", "0", "1000.01", "190.01", "810.00", "10.01", "49.99"}, "1.085123", "USD"},
		{"e2", statusRefund, "EUR", day(june, 10), [7]string{"333.33", "0", "333.33", "53.22", "280.11", "0", "16.67"}, "1.0925", "USD"},
		{"e3", statusComplete, "EUR", day(june, 11), [7]string{"45.00", "0", "45.00", "7.18", "37.82", "0", "2.25"}, "", ""},
		{"e4", "PENDING", "EUR", day(june, 12), [7]string{"99.00", "0", "99.00", "0", "99.00", "0", "9.00"}, "", ""}, // in no figure
		{"j1", statusComplete, "JPY", day(june, 4), [7]string{"12000", "0", "12000", "1091", "10909", "0", "600"}, "0.006711", "USD"},
		{"j2", statusComplete, "JPY", day(june, 5), [7]string{"5500", "500", "5000", "455", "4545", "250", "250"}, "0.0066955", "USD"},
		{"j3", statusComplete, "JPY", day(june, 6), [7]string{"3000", "0", "3000", "273", "2727", "0", "150"}, "0.006123", "EUR"},
		{"m1", statusComplete, "USD", day(may, 7), [7]string{"200.00", "0", "200.00", "0", "200.00", "10.00", "10.00"}, "1", "USD"},
		{"m2", statusComplete, "EUR", day(may, 8), [7]string{"100.00", "0", "100.00", "16.00", "84.00", "0", "5.00"}, "1.1", "USD"},
		{"m3", statusRefund, "USD", day(may, 9), [7]string{"30.00", "0", "30.00", "0", "30.00", "0", "1.50"}, "1", "USD"},
	}
	disputes := []struct {
		ref, currency, amount string
		ordered, opened       civil.Date
	}{{"u1", "USD", "130.00", day(june, 2), day(june, 15)}, {"m1", "USD", "200.00", day(may, 7), day(may, 20)}}

	// A line's figures: per currency, then in USD this month and the
	// month before (noPrev: "no data in the warehouse").
	type want struct {
		cur        map[string]string
		usd, prevU string
	}
	const noPrev = "no data in the warehouse"
	cases := []struct {
		name        string
		month       civil.Date
		currencies  []string
		lines       map[string]want
		unconverted int64
		prevNote    string
	}{
		{
			name: "June 2025, May beside it", month: june, currencies: []string{"USD", "EUR", "JPY"}, unconverted: 2,
			prevNote: "May 2025 in USD: the month before",
			lines: map[string]want{
				fxSales:    {map[string]string{"USD": "3", "EUR": "3", "JPY": "3"}, "9", "3"},
				fxRefunded: {map[string]string{"USD": "1", "EUR": "1", "JPY": "0"}, "2", "1"},
				// USD 204.20 + e1 1085.133851 + e2 364.163025 + j1 80.532 + j2 36.82525; May 200 + 110 + 30.
				fxGross: {map[string]string{"USD": "204.20", "EUR": "1378.34", "JPY": "20500"}, "1770.854126", "340"},
				// u1 10 + j2 3.34775
				fxDiscounts: {map[string]string{"USD": "10.00", "EUR": "0", "JPY": "500"}, "13.34775", "0"},
				// 194.20 + 1085.133851 + 364.163025 + 80.532 + 33.4775; May 200 + 110 + 30.
				"Gross sales (paid by shoppers, incl. VAT)": {map[string]string{"USD": "194.20", "EUR": "1378.34", "JPY": "20000"}, "1757.506376", "340"},
				// -(24.20 + 364.163025)
				"Refunds (paid back, incl. VAT)":  {map[string]string{"USD": "-24.20", "EUR": "-333.33", "JPY": "0"}, "-388.363025", "-30"},
				"Sales after refunds (incl. VAT)": {map[string]string{"USD": "170.00", "EUR": "1045.01", "JPY": "20000"}, "1369.143351", "310"},
				// 170 + 878.949630 + 306.020175 + 73.210299 + 30.431048; May 200 + 92.4 + 30.
				"Net of gross sales (excl. VAT, after discounts)": {map[string]string{"USD": "170.00", "EUR": "1127.93", "JPY": "18181"}, "1458.611152", "322.4"},
				"Net of refunds (excl. VAT)":                      {map[string]string{"USD": "-20.00", "EUR": "-280.11", "JPY": "0"}, "-326.020175", "-30"},
				"Net after refunds (excl. VAT, after discounts)":  {map[string]string{"USD": "150.00", "EUR": "847.82", "JPY": "18181"}, "1132.590977", "292.4"},
				// 24.20 + 206.184221 + 58.14285 + 7.321701 + 3.046452; May 17.6.
				"VAT of gross sales": {map[string]string{"USD": "24.20", "EUR": "250.41", "JPY": "1819"}, "298.895224", "17.6"},
				"VAT of refunds":     {map[string]string{"USD": "-4.20", "EUR": "-53.22", "JPY": "0"}, "-62.34285", "0"},
				"VAT after refunds":  {map[string]string{"USD": "20.00", "EUR": "197.19", "JPY": "1819"}, "236.552374", "17.6"},
				// 9.94 + 54.245299 + 18.211975 + 4.0266 + 1.673875; May 10 + 5.5 + 1.5.
				"2Checkout commission on gross sales": {map[string]string{"USD": "9.94", "EUR": "68.91", "JPY": "1000"}, "88.097749", "17"},
				"2Checkout commission on refunds":     {map[string]string{"USD": "-1.45", "EUR": "-16.67", "JPY": "0"}, "-19.661975", "-1.5"},
				"2Checkout commission after refunds":  {map[string]string{"USD": "8.49", "EUR": "52.24", "JPY": "1000"}, "68.435774", "15.5"},
				// 3.50 + 10.862081 + 1.673875; May 10.
				"Affiliate commission on gross sales": {map[string]string{"USD": "3.50", "EUR": "10.01", "JPY": "250"}, "16.035956", "10"},
				"Affiliate commission on refunds":     {map[string]string{"USD": "-0.50", "EUR": "0", "JPY": "0"}, "-0.50", "0"},
				"Affiliate commission after refunds":  {map[string]string{"USD": "3.00", "EUR": "10.01", "JPY": "250"}, "15.535956", "10"},
				fxChbks:                               {map[string]string{"USD": "1", "EUR": "0", "JPY": "0"}, "1", "1"},
				fxFees:                                {map[string]string{"USD": "40", "EUR": "0", "JPY": "0"}, "40", "40"},
				// 1132.590977 - 68.435774 - 15.535956 - 40; May 292.4 - 15.5 - 10 - 40.
				fxPayout:                       {nil, "1008.619247", "226.9"},
				fxNotConv:                      {map[string]string{"USD": "0", "EUR": "1", "JPY": "1"}, "2", "0"},
				"Paid on orders not converted": {map[string]string{"USD": "0", "EUR": "45.00", "JPY": "3000"}, "", ""},
			},
		},
		{
			name: "May 2025, April without data", month: may, currencies: []string{"USD", "EUR"},
			prevNote: "April 2025 in USD: the warehouse holds no orders or disputes of April 2025",
			lines: map[string]want{
				fxSales:  {map[string]string{"USD": "2", "EUR": "1"}, "3", noPrev},
				fxGross:  {map[string]string{"USD": "230", "EUR": "100"}, "340", ""},
				fxChbks:  {map[string]string{"USD": "1", "EUR": "0"}, "1", ""},
				fxFees:   {map[string]string{"USD": "40", "EUR": "0"}, "40", ""},
				fxPayout: {nil, "226.9", ""},
				"Net after refunds (excl. VAT, after discounts)": {map[string]string{"USD": "200", "EUR": "84"}, "292.4", ""},
				"2Checkout commission after refunds":             {map[string]string{"USD": "10", "EUR": "5"}, "15.5", ""},
				fxNotConv:                                        {map[string]string{"USD": "0", "EUR": "0"}, "0", ""},
			},
		},
	}

	acct := config.Account{
		Name: "fx", MerchantCode: "LLFX", Currency: "USD", ReportingTimezone: time.UTC, SourceTimezone: time.UTC,
		TransactionStatuses: []string{statusComplete, statusRefund},
		ChargebackFees:      config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.FromInt(40)},
	}
	wh := memWarehouse{schemas.Orders().Name: {}, schemas.Chargebacks().Name: {}}
	for _, o := range orders {
		a := make([]money.Amount, 7)
		for i, s := range o.amounts {
			a[i] = money.MustParse(s)
		}
		row := &schemas.Order{
			MerchantCode: acct.MerchantCode, RefNo: o.ref, SourceAPI: "jsonrpc", Status: o.status,
			OrderTS: o.day.In(time.UTC).Add(time.Hour), OrderDate: o.day, Currency: o.currency,
			GrossPrice: a[0], Discount: a[1], GrossDiscountedPrice: a[2], VAT: a[3], NetDiscountedPrice: a[4], NetPrice: a[4],
			AffiliateCommission: a[5], TwoCheckoutCommission: a[6], ChargebackResolution: "NONE", RunID: "fx-run",
		}
		if o.rate != "" {
			q, ok := new(big.Rat).SetString(o.rate)
			r, rounded, err := money.RateFromRat(q)
			if !ok || rounded || err != nil {
				t.Fatalf("rate %q: %v", o.rate, err)
			}
			row.FxRate = &r
		}
		if o.payout != "" {
			row.PayoutCurrency = &o.payout
		}
		wh[schemas.Orders().Name][o.day] = append(wh[schemas.Orders().Name][o.day], row)
	}
	for _, d := range disputes {
		wh[schemas.Chargebacks().Name][d.opened] = append(wh[schemas.Chargebacks().Name][d.opened], &schemas.Chargeback{
			MerchantCode: acct.MerchantCode, RefNo: d.ref, OrderDate: d.ordered, OrderTS: d.ordered.In(time.UTC).Add(time.Hour), OpenedOn: d.opened, OpenedOnBasis: "observed", Resolution: "OPEN",
			Currency: d.currency, OrderAmount: money.MustParse(d.amount), FeeAmount: money.FromInt(40), FeeCurrency: "USD",
			RateMonth: reports.MonthLabel(d.opened), FeeRule: "fixed 40.00 USD", RunID: "fx-run",
		})
	}
	python := pythonWithOpenpyxl(t)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := reports.Build(t.Context(), reports.Request{Warehouse: wh, Account: acct, Month: tc.month, RunID: "fx", Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			eq := func(who, label, col, got, want string) {
				t.Helper()
				if want == "" || want == noPrev {
					if got != want {
						t.Errorf("%s: %q %s = %q, want %q", who, label, col, got, want)
					}
					return
				}
				g, _, err := money.Parse(got)
				if err != nil || g != money.MustParse(want) {
					t.Errorf("%s: %q %s = %q, want %s", who, label, col, got, want)
				}
			}

			// The report's totals.
			tot := rep.Totals
			acctFig := map[string]func(reports.AccountTotals) string{
				fxSales:  func(x reports.AccountTotals) string { return fmt.Sprint(x.Orders) },
				fxGross:  func(x reports.AccountTotals) string { return x.Gross.String() },
				fxFees:   func(x reports.AccountTotals) string { return x.Fees.String() },
				fxPayout: func(x reports.AccountTotals) string { return x.NetPayout().String() },
				"Net after refunds (excl. VAT, after discounts)": func(x reports.AccountTotals) string { return x.AfterRefunds().Net.String() },
				"2Checkout commission after refunds":             func(x reports.AccountTotals) string { return x.AfterRefunds().Commission.String() },
			}
			for label, f := range acctFig {
				eq("totals", label, "USD", f(tot.Converted), tc.lines[label].usd)
				if w := tc.lines[label].prevU; w != "" && w != noPrev {
					eq("totals previous month", label, "USD", f(tot.Previous.Totals), w)
				}
			}
			if tot.Converted.Unconverted != tc.unconverted || tot.Previous.HasData != (tc.lines[fxSales].prevU != noPrev) {
				t.Errorf("totals: %d orders not converted, previous month has data %v", tot.Converted.Unconverted, tot.Previous.HasData)
			}
			reason := fmt.Sprintf("%d orders could not be converted into USD", tc.unconverted)
			if got := strings.Join(rep.Provisional(), "; "); (tc.unconverted > 0) != strings.Contains(got, reason) || tot.Complete {
				t.Errorf("provisional %q, complete %v; want the reason %q only with orders not converted", got, tot.Complete, reason)
			}

			// The workbook's cached values, as excelize reads them.
			f, err := excelize.OpenFile(rep.Workbook)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			usdHdr, prevHdr := monthLabel(tc.month)+" in USD", monthLabel(civil.DateOf(tc.month.In(time.UTC).AddDate(0, -1, 0)))+" in USD"
			header, cached, notes := summaryTable(t, f)
			if want := append(append([]string{"By currency"}, tc.currencies...), usdHdr, prevHdr); strings.Join(header, "|") != strings.Join(want, "|") {
				t.Fatalf("Summary header %q, want %q", header, want)
			}
			check := func(who string, cur, acctCols map[string]map[string]string) {
				t.Helper()
				for label, w := range tc.lines {
					for _, c := range tc.currencies {
						if w.cur == nil {
							eq(who, label, c, cur[label][c], "")
						} else {
							eq(who, label, c, cur[label][c], w.cur[c])
						}
					}
					eq(who, label, usdHdr, acctCols[label][usdHdr], w.usd)
					eq(who, label, prevHdr, acctCols[label][prevHdr], w.prevU)
				}
			}
			check("excelize", cached, cached)
			text := strings.Join(notes, "\n")
			for _, term := range []string{"own FX rate", "rounded half to even to 6 decimals", "Orders not converted", "Net payout = net after refunds", tc.prevNote} {
				if !strings.Contains(text, term) {
					t.Errorf("Summary footnotes do not say %q:\n%s", term, text)
				}
			}

			// The Orders sheet holds each order's converted amounts, which
			// the USD column sums.
			ordersRows, err := f.GetRows(reports.SheetOrders, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			hdr := map[string]int{}
			for i, h := range ordersRows[0] {
				hdr[h] = i
			}
			byRef := map[string][]string{}
			for _, r := range ordersRows[1:] {
				if len(r) == 0 || r[0] == "Total" {
					break // the blank row before the totals rows
				}
				byRef[r[0]] = r
			}
			cell := func(ref, h string) string {
				r, i := byRef[ref], hdr[h]
				if r == nil || i >= len(r) {
					return ""
				}
				return r[i]
			}
			if tc.month == june {
				for _, c := range []struct{ ref, header, want string }{
					{"j2", "FX rate into USD", "0.0066955"},
					{"j2", "VAT in USD", "3.046452"}, // the tie, to even
					{"j2", "Net (after discounts, excl. VAT) in USD", "30.431048"},
					{"e1", "2Checkout commission in USD", "54.245299"},
					{"u3", "FX rate into USD", "1"},
					{"u3", "Paid (gross after discounts) in USD", "50"},
					{"e3", "FX rate into USD", "not converted"},
					{"e3", "Paid (gross after discounts) in USD", ""},
					{"j3", "FX rate into USD", "not converted"},
					{"j3", "Payout currency", "EUR"},
				} {
					if got := cell(c.ref, c.header); got != c.want {
						t.Errorf("Orders %s %q = %q, want %q", c.ref, c.header, got, c.want)
					}
				}
			}

			// An independent reader: openpyxl.
			got := openpyxlReadBack(t, python, rep.Workbook)
			acctLines := map[string]map[string]string{}
			for label, cols := range got.Summary.Account {
				acctLines[label] = map[string]string{}
				for h, v := range cols {
					if v != nil {
						acctLines[label][h] = *v
					}
				}
			}
			check("openpyxl", got.Summary.Lines, acctLines)
			// LibreOffice recalculates every formula itself: this month's
			// figures must come out the same (within a double's error).
			if _, err := exec.LookPath("soffice"); err == nil {
				recalc := libreOfficeSummary(t, rep.Workbook)
				for label, w := range tc.lines {
					for _, c := range tc.currencies {
						if w.cur != nil && !nearDecimal(recalc[label][c], w.cur[c]) {
							t.Errorf("LibreOffice: %q %s = %q, want %s", label, c, recalc[label][c], w.cur[c])
						}
					}
					if w.usd != "" && !nearDecimal(recalc[label][usdHdr], w.usd) {
						t.Errorf("LibreOffice: %q %s = %q, want %s", label, usdHdr, recalc[label][usdHdr], w.usd)
					}
				}
			}

			// This month's USD figures are formulas: over the Orders
			// sheet's USD columns, or the line's currency cells.
			for label, form := range map[string]string{fxGross: "=SUMIFS('Orders'!$P$", fxSales: "=SUM(B", fxPayout: "="} {
				if fm := got.Summary.AccountFormulas[label][usdHdr]; fm == nil || !strings.HasPrefix(*fm, form) {
					t.Errorf("openpyxl: %q %s formula %v, want %s...", label, usdHdr, fm, form)
				}
			}
		})
	}
}

// monthLabel names the month of d as the Summary does: June 2025.
func monthLabel(d civil.Date) string { return fmt.Sprintf("%s %d", d.Month, d.Year) }

// libreOfficeSummary has LibreOffice recalculate the workbook at path and
// returns its Summary table: label, then header, then the cell as
// computed.
func libreOfficeSummary(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	soffice, profile := libreOffice(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "fx.xlsx")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	convert(t, soffice, profile, `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1`, in, dir)
	fh, err := os.Open(filepath.Join(dir, "fx-Summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	var header []string
	for _, rec := range recs {
		switch {
		case len(rec) == 0 || rec[0] == "":
		case rec[0] == "By currency":
			header = rec
		case header != nil:
			out[rec[0]] = map[string]string{}
			for i := 1; i < len(rec) && i < len(header); i++ {
				out[rec[0]][header[i]] = rec[i]
			}
		}
	}
	return out
}

// nearDecimal reports whether decimal text a is within 10^-6 of b.
func nearDecimal(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(strings.TrimSpace(a))
	y, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return false
	}
	d := new(big.Rat).Sub(x, y)
	return d.Abs(d).Cmp(big.NewRat(1, 1_000_000)) < 0
}
