package reports

import (
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// completeness says whether the month's data is complete, in words.
func completeness(t *Totals) string {
	if t.Complete {
		return fmt.Sprintf("yes: run %s (business date %s) read the whole month after it ended", t.CoveredBy, t.CoveredThrough)
	}
	return "NO, PROVISIONAL: no successful run has read the whole month since it ended"
}

// summary writes the Summary sheet: who, when, the "Total chargeback fee"
// and what set it, and the month's figures by currency, every figure a
// formula over the detail sheets with its exact value cached.
func (b *book) summary() error {
	rep, t, a := b.rep, &b.rep.Totals, b.rep.Account
	fc := a.Currency
	ncur := len(t.Currencies)
	widths := []float64{46, 18, 18, 22, 18, 18}
	for len(widths) < ncur+1 {
		widths = append(widths, 18)
	}
	noGrid := false
	if err := b.f.SetSheetView(SheetSummary, 0, &excelize.ViewOptions{ShowGridLines: &noGrid}); err != nil {
		return err
	}
	s, err := b.stream(SheetSummary, widths, 0, 0)
	if err != nil {
		return err
	}
	cell := func(kind styleKind, format string, v any) excelize.Cell {
		c, e := b.styled(kind, format, v)
		if e != nil && err == nil {
			err = e
		}
		return c
	}
	label := func(s string) excelize.Cell { return cell(kindLabel, "", s) }

	if e := s.nextOpts(0, excelize.RowOpts{Height: 24}, cell(kindTitle, "", fmt.Sprintf("Accounting report: %s (%s), %s", a.Name, a.MerchantCode, monthName(rep.Month)))); e != nil {
		return e
	}
	if e := s.next(0, cell(kindSubtitle, "", "Built from the ledgerline warehouse. Every figure is a formula over the detail sheets; amounts are exact.")); e != nil {
		return e
	}
	runs := strings.Join(rep.WarehouseRuns, ", ")
	if len(rep.WarehouseRuns) > 6 {
		runs = strings.Join(rep.WarehouseRuns[len(rep.WarehouseRuns)-6:], ", ") + fmt.Sprintf(" and %d earlier", len(rep.WarehouseRuns)-6)
	}
	if runs == "" {
		runs = "none: the warehouse has no rows for the month"
	}
	loc := a.ReportingTimezone
	info := [][]any{
		{label("Account"), fmt.Sprintf("%s (merchant %s)", a.Name, a.MerchantCode)},
		{label("Month"), cell(kindLeft, fmtMonth, dateSerial(rep.Month))},
		{label("From"), cell(kindLeft, fmtDate, dateSerial(rep.Month))},
		{label("To"), cell(kindLeft, fmtDate, dateSerial(LastOfMonth(rep.Month)))},
		{label("Reporting time zone"), loc.String()},
		{label("Generated (" + loc.String() + ")"), cell(kindLeft, fmtDateTime, timeSerial(rep.GeneratedAt, loc))},
		{label("Report run id"), rep.RunID},
		{label("Warehouse run ids"), runs},
		{label("Account currency"), fc},
		{label("Data complete"), completeness(t)},
	}
	for i, row := range info {
		skip := 0
		if i == 0 {
			skip = 1
		}
		if e := s.next(skip, row...); e != nil {
			return e
		}
	}
	if err != nil {
		return err
	}

	// The fee block.
	total, err := b.formula(kindStrong, moneyFormat(fc), fmt.Sprintf("%s!$%s$%d", sheetRef(SheetChargebackFees), col(cbFee), b.feesTotal), t.ChargebackFees)
	if err != nil {
		return err
	}
	if e := s.nextOpts(1, excelize.RowOpts{Height: 20}, cell(kindStrong, "", "Total chargeback fee"), total); e != nil {
		return e
	}
	disputes, err := b.formula(kindPlain, fmtCount,
		fmt.Sprintf("COUNTIF(%s,%s)", colRange(SheetChargebackFees, cbFeeCurrency, 2, b.feesLast), quote("?*")), t.Disputes)
	if err != nil {
		return err
	}
	if e := s.next(0, label("Disputes opened"), disputes); e != nil {
		return e
	}
	hdr, err := b.headerRow("Fee set by", "Rate month", "Chargeback rate", "Tier", "Fee per dispute", "Disputes")
	if err != nil {
		return err
	}
	if e := s.next(1, hdr...); e != nil {
		return e
	}
	for _, fb := range t.FeeBases {
		var rate any
		if fb.Rate != nil {
			v, e := cellRate(*fb.Rate)
			if e != nil {
				return e
			}
			rate = cell(kindPlain, fmtPercent, v)
		}
		what := "the chargeback rate of the month before"
		if a.ChargebackFees.Model == "fixed" {
			what = "the account's fixed fee"
		}
		if fb.Disputes == 0 {
			what = "no dispute opened; would apply"
		}
		fee, e := b.moneyCell(kindPlain, fb.Fee, fc)
		if e != nil {
			return e
		}
		if e := s.next(0, label(what), fb.RateMonth, rate, fb.Tier, fee, cell(kindPlain, fmtCount, fb.Disputes)); e != nil {
			return e
		}
		if fb.HaveCounts {
			if e := s.next(0, label(""), cell(kindSubtitle, "", fmt.Sprintf("%s: %d disputes opened in %d transactions", fb.RateMonth, fb.Opened, fb.Transactions))); e != nil {
				return e
			}
		}
	}
	if err != nil {
		return err
	}

	// The figures by currency.
	names := []any{cell(kindHeader, "", "By currency")}
	for _, ct := range t.Currencies {
		names = append(names, cell(kindHeader, "", ct.Currency))
	}
	if e := s.next(1, names...); e != nil {
		return e
	}
	hdrRow := s.row
	statuses := a.TransactionStatuses
	type line struct {
		label   string
		formula func(cur string) string
		value   func(CurrencyTotals) any
		money   bool   // in the column's currency
		format  string // otherwise
		kind    styleKind
	}
	lines := []line{
		{"Sales (orders with status " + strings.Join(statuses, " or ") + ")",
			func(c string) string { return b.salesFormula(-1, c, statuses) }, func(x CurrencyTotals) any { return x.Orders }, false, fmtCount, kindPlain},
		{"Gross (incl. VAT, before discounts)", func(c string) string { return b.salesFormula(ordGross, c, statuses) }, func(x CurrencyTotals) any { return x.Gross }, true, "", kindPlain},
		{"Discounts", func(c string) string { return b.salesFormula(ordDiscount, c, statuses) }, func(x CurrencyTotals) any { return x.Discounts }, true, "", kindPlain},
		{"VAT", func(c string) string { return b.salesFormula(ordVAT, c, statuses) }, func(x CurrencyTotals) any { return x.VAT }, true, "", kindPlain},
		{"Net (excl. VAT, after discounts)", func(c string) string { return b.salesFormula(ordNet, c, statuses) }, func(x CurrencyTotals) any { return x.Net }, true, "", kindTotal},
		{"Affiliate commission", func(c string) string { return b.salesFormula(ordAffiliate, c, statuses) }, func(x CurrencyTotals) any { return x.Affiliate }, true, "", kindPlain},
		{"2Checkout commission", func(c string) string { return b.salesFormula(ordCommission, c, statuses) }, func(x CurrencyTotals) any { return x.Commission }, true, "", kindPlain},
		{"Refunded orders", func(c string) string { return b.salesFormula(-1, c, []string{"REFUND"}) }, func(x CurrencyTotals) any { return x.Refunds }, false, fmtCount, kindPlain},
		{"Refunds (what their shoppers paid)", func(c string) string { return b.salesFormula(ordPaid, c, []string{"REFUND"}) }, func(x CurrencyTotals) any { return x.Refunded }, true, "", kindPlain},
		{"Chargebacks opened", func(c string) string { return b.disputeFormula(-1, c) }, func(x CurrencyTotals) any { return x.Disputes }, false, fmtCount, kindPlain},
		{"Disputed amount", func(c string) string { return b.disputeFormula(cbAmount, c) }, func(x CurrencyTotals) any { return x.Disputed }, true, "", kindPlain},
		{"Total chargeback fee (" + fc + ")", func(c string) string { return b.disputeFormula(cbFee, c) }, func(x CurrencyTotals) any { return x.Fees }, false, moneyFormat(fc), kindTotal},
	}
	for _, l := range lines {
		row := []any{cell(l.kind, "", l.label)}
		for i, ct := range t.Currencies {
			curCell := fmt.Sprintf("%s$%d", col(i+1), hdrRow)
			format := l.format
			if l.money {
				format = moneyFormat(ct.Currency)
			}
			c, e := b.formula(l.kind, format, l.formula(curCell), l.value(ct))
			if e != nil {
				return e
			}
			row = append(row, c)
		}
		if e := s.next(0, row...); e != nil {
			return e
		}
	}
	notes := []string{
		fmt.Sprintf("Sales are the month's non-test orders whose status counts as a transaction (%s): the orders the chargeback rate counts.", strings.Join(statuses, ", ")),
		fmt.Sprintf("The Orders sheet lists every non-test order of the month (%d); %d test orders are left out.", t.OrderRows, t.TestOrders),
		"Disputes are those opened in the month, on orders of any month; their fee is charged in the account currency.",
		"Month boundaries are in the reporting time zone.",
	}
	for i, n := range notes {
		skip := 0
		if i == 0 {
			skip = 1
		}
		if e := s.next(skip, cell(kindSubtitle, "", n)); e != nil {
			return e
		}
	}
	if err != nil {
		return err
	}
	return s.sw.Flush()
}
