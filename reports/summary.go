package reports

import (
	"fmt"
	"github.com/ledgerline/ledgerline/transform"
	"strings"

	"github.com/xuri/excelize/v2"
)

// completeness says whether the month's data is complete, in words.
func completeness(rep *Report) string {
	if t := &rep.Totals; t.Complete {
		return fmt.Sprintf("yes: run %s (business date %s) read the whole month after it ended", t.CoveredBy, t.CoveredThrough)
	}
	return "NO, PROVISIONAL: " + strings.Join(rep.Provisional(), "; ")
}

// summary writes the Summary sheet: who, when, the "Total chargeback fee"
// and what set it, and the month's figures by currency, every figure a
// formula over the detail sheets with its exact value cached.
func (b *book) summary() error {
	widths := []float64{46, 18, 18, 22, 18, 18}
	for len(widths) < len(b.rep.Totals.Currencies)+1 {
		widths = append(widths, 18)
	}
	widths = append(widths[:len(b.rep.Totals.Currencies)+1], 20, 20) // the account-currency columns
	noGrid := false
	if err := b.f.SetSheetView(SheetSummary, 0, &excelize.ViewOptions{ShowGridLines: &noGrid}); err != nil {
		return err
	}
	s, err := b.stream(SheetSummary, widths, 0, 0, 1)
	if err != nil {
		return err
	}
	for _, part := range []func(*stream) error{b.summaryHeading, b.summaryFees, b.summaryByCurrency, b.summaryNotes} {
		if err := part(s); err != nil {
			return err
		}
	}
	return s.sw.Flush()
}

// summaryHeading writes the title and who and when.
func (b *book) summaryHeading(s *stream) error {
	rep, a := b.rep, b.rep.Account
	m := &cellMaker{b: b}
	runs := strings.Join(rep.WarehouseRuns, ", ")
	if len(rep.WarehouseRuns) > 6 {
		runs = strings.Join(rep.WarehouseRuns[len(rep.WarehouseRuns)-6:], ", ") + fmt.Sprintf(" and %d earlier", len(rep.WarehouseRuns)-6)
	}
	if runs == "" {
		runs = "none: the warehouse has no rows for the month"
	}
	loc := a.ReportingTimezone
	title := fmt.Sprintf("Accounting report: %s (%s), %s", a.Name, a.MerchantCode, monthName(rep.Month))
	if len(rep.Provisional()) > 0 {
		title = "PROVISIONAL " + title
	}
	rows := []sheetRow{
		{0, 24, []any{m.cell(kindTitle, "", title)}},
		{0, 0, []any{m.cell(kindSubtitle, "", "Built from the ledgerline warehouse. Every figure is a formula over the detail sheets; amounts are exact.")}},
		{1, 0, []any{m.label("Account"), fmt.Sprintf("%s (merchant %s)", a.Name, a.MerchantCode)}},
		{0, 0, []any{m.label("Month"), m.cell(kindLeft, fmtMonth, dateSerial(rep.Month))}},
		{0, 0, []any{m.label("From"), m.cell(kindLeft, fmtDate, dateSerial(rep.Month))}},
		{0, 0, []any{m.label("To"), m.cell(kindLeft, fmtDate, dateSerial(LastOfMonth(rep.Month)))}},
		{0, 0, []any{m.label("Reporting time zone"), loc.String()}},
		{0, 0, []any{m.label("Generated (" + loc.String() + ")"), m.cell(kindLeft, fmtDateTime, timeSerial(rep.GeneratedAt, loc))}},
		{0, 0, []any{m.label("Report run id"), rep.RunID}},
		{0, 0, []any{m.label("Warehouse run ids"), m.note(kindWrap, len(s.widths), runs)}},
		{0, 0, []any{m.label("Account currency"), a.Currency}},
		{0, 0, []any{m.label("Data complete"), m.note(kindWrap, len(s.widths), completeness(rep))}},
	}
	if m.err != nil {
		return m.err
	}
	return writeRows(s, rows)
}

// summaryFees writes the "Total chargeback fee", the disputes and what set
// their fee.
func (b *book) summaryFees(s *stream) error {
	t, fc := &b.rep.Totals, b.rep.Account.Currency
	m := &cellMaker{b: b}
	total, err := b.formula(kindStrong, moneyFormat(fc), fmt.Sprintf("%s!$%s$%d", sheetRef(SheetChargebackFees), col(cbFee), b.feesTotal), t.ChargebackFees)
	if err != nil {
		return err
	}
	rows := []sheetRow{{1, 20, []any{m.cell(kindStrong, "", labelTotalFee), total}}}
	if b.rep.Account.NoChargebackData() {
		// Without the orders' dispute fields the warehouse has no
		// chargebacks: a fee of 0 would read as "no disputes".
		rows = append(rows, sheetRow{0, 0, []any{m.label(labelFeesNotComputed),
			m.cell(kindStrong, "", "the account is set to chargebacks: unavailable (its API user cannot read the orders' dispute fields); disputes and fees are unknown, not zero")}})
	}
	disputes, err := b.formula(kindPlain, fmtCount,
		fmt.Sprintf("COUNTIF(%s,%s)", colRange(SheetChargebackFees, cbFeeCurrency, 2, b.feesLast), quote("?*")), t.Disputes)
	if err != nil {
		return err
	}
	rows = append(rows, sheetRow{0, 0, []any{m.label(labelDisputesOpened), disputes}})
	estimated, err := b.estimatedRows(m, len(s.widths))
	if err != nil {
		return err
	}
	rows = append(rows, estimated...)
	hdr, err := b.headerCells(header{name: "Fee set by"}, header{name: "Rate month"}, hNum("Chargeback rate"), hText("Tier"),
		hNum("Fee per dispute"), hNum("Disputes"))
	if err != nil {
		return err
	}
	rows = append(rows, sheetRow{1, 0, hdr})
	if m.err != nil {
		return m.err
	}
	if err := writeRows(s, rows); err != nil {
		return err
	}
	for _, fb := range t.FeeBases {
		if err := b.feeBasisRows(s, fb); err != nil {
			return err
		}
	}
	return nil
}

// feeBasisRows writes a fee basis: what set the fee, the rate (two to four
// decimals, the exact fraction in the cell's note), the tier, the fee and
// the disputes, and the rate's counts below.
func (b *book) feeBasisRows(s *stream, fb FeeBasis) error {
	fc := b.rep.Account.Currency
	m := &cellMaker{b: b}
	var rate any
	if fb.Rate != nil {
		v, err := cellRate(*fb.Rate)
		if err != nil {
			return err
		}
		rate = m.cell(kindPlain, fmtRate, v)
	}
	what := "the chargeback rate of the month before"
	if b.rep.Account.ChargebackFees.Model == "fixed" {
		what = "the account's fixed fee"
	}
	if fb.Disputes == 0 {
		what = "no dispute opened; would apply"
	}
	fee, err := b.moneyCell(kindPlain, fb.Fee, fc)
	if err != nil {
		return err
	}
	rows := []sheetRow{{0, 0, []any{m.label(what), fb.RateMonth, rate, m.cell(kindText, "", fb.Tier), fee, m.cell(kindPlain, fmtCount, fb.Disputes)}}}
	if fb.HaveCounts {
		rows = append(rows, sheetRow{0, 0, []any{m.label(""), m.note(kindSubtitle, len(s.widths), fmt.Sprintf("%s: %s disputes opened in %s transactions%s",
			fb.RateMonth, groupedCount(fb.Opened), groupedCount(fb.Transactions), exactRate(fb, ", rate exactly ")))}})
	}
	if m.err != nil {
		return m.err
	}
	if err := writeRows(s, rows[:1]); err != nil {
		return err
	}
	if note := exactRate(fb, "Exactly "); rate != nil && note != "" {
		if err := b.f.AddComment(SheetSummary, excelize.Comment{Cell: cellRef(2, s.row), Author: "ledgerline",
			Text: note + ": " + groupedCount(fb.Opened) + " disputes opened in " + groupedCount(fb.Transactions) + " transactions in " + fb.RateMonth + "."}); err != nil {
			return err
		}
	}
	return writeRows(s, rows[1:])
}

// exactRate is prefix and fb's rate as the fraction it is, 12/1,415, or
// "" without counts.
func exactRate(fb FeeBasis, prefix string) string {
	if !fb.HaveCounts || fb.Transactions == 0 {
		return ""
	}
	return prefix + groupedCount(fb.Opened) + "/" + groupedCount(fb.Transactions)
}

// estimatedRows are the Summary's rows on the disputes whose opening date
// is an estimate: how many, the fees at stake, and why (a note spanning the
// table's span columns).
func (b *book) estimatedRows(m *cellMaker, span int) ([]sheetRow, error) {
	t, fc := &b.rep.Totals, b.rep.Account.Currency
	basis := colRange(SheetChargebackFees, cbBasis, 2, b.feesLast)
	estimated := quote(basisLabel(transform.BasisOrderDate))
	n, err := b.formula(kindPlain, fmtCount, fmt.Sprintf("COUNTIF(%s,%s)", basis, estimated), t.EstimatedDisputes)
	if err != nil {
		return nil, err
	}
	fees, err := b.formula(kindPlain, moneyFormat(fc), fmt.Sprintf("SUMIFS(%s,%s,%s)",
		colRange(SheetChargebackFees, cbFee, 2, b.feesLast), basis, estimated), t.EstimatedFees)
	if err != nil {
		return nil, err
	}
	return []sheetRow{
		{0, 0, []any{m.label(labelEstimatedDates), n}},
		{0, 0, []any{m.label("Their fees (" + fc + ")"), fees}},
		{0, 0, []any{m.label(""), m.note(kindNote, span, "These disputes were already open the first time a run read their order (first run, backfill), "+
			"so their opening date is the order's date: 2Checkout may count them in a later month, at another fee tier.")}},
	}, nil
}

// summaryByCurrency writes the table of summaryFigures: a column per
// currency and the account-currency columns (summaryacct.go), a row per
// figure.
func (b *book) summaryByCurrency(s *stream) error {
	m := &cellMaker{b: b}
	names := []any{m.cell(kindHeader, "", labelByCurrency)}
	for _, ct := range b.rep.Totals.Currencies {
		names = append(names, m.cell(kindHeaderRight, "", ct.Currency))
	}
	for _, h := range b.acctHeaders() {
		names = append(names, m.cell(kindHeaderRight, "", h))
	}
	if m.err != nil {
		return m.err
	}
	if err := s.next(1, names...); err != nil {
		return err
	}
	hdrRow, n := s.row, len(b.rep.Totals.Currencies)
	lines := b.summaryFigures()
	rows := make(map[string]int, len(lines))
	for i, p := range lines {
		rows[p.label] = hdrRow + 1 + i
	}
	for _, p := range lines {
		at := s.row + 1
		row := []any{m.cell(p.kind, "", p.label)}
		for i, ct := range b.rep.Totals.Currencies {
			var c excelize.Cell
			var err error
			switch {
			case p.value == nil:
				c, err = b.styled(p.kind, "", nil) // a line of the account currency only
			case p.sumOf > 0:
				terms := make([]string, p.sumOf)
				for k := range terms {
					terms[k] = fmt.Sprintf("%s%d", col(i+1), at-p.sumOf+k)
				}
				c, err = b.formula(p.kind, p.format(ct.Currency), strings.Join(terms, "+"), p.value(ct))
			default:
				c, err = p.cell(b, ct, fmt.Sprintf("%s$%d", col(i+1), hdrRow))
			}
			if err != nil {
				return err
			}
			row = append(row, c)
		}
		acct, err := b.acctCells(p, at, n, hdrRow+1, rows)
		if err != nil {
			return err
		}
		row = append(row, acct...)
		if m.err != nil {
			return m.err
		}
		if err := s.next(0, row...); err != nil {
			return err
		}
	}
	return nil
}

// summaryNotes writes the footnotes.
func (b *book) summaryNotes(s *stream) error {
	t := &b.rep.Totals
	notes := []string{
		fmt.Sprintf("Sales are the month's non-test orders whose status counts as a transaction (%s): the orders the chargeback rate counts.",
			strings.Join(b.rep.Account.TransactionStatuses, ", ")),
		"Gross (incl. VAT, before discounts) and Discounts are sums over those sales; Refunded orders counts the orders with status REFUND.",
		"Gross sales are the sum over every order of the month that completed: those still COMPLETE and those refunded later (REFUND), each at its full amount.",
		"Refunds are the REFUND orders' amounts, negative: a refund takes back its whole order, in the month of the order's date. Each \"after refunds\" line is the two lines above it added up.",
		"Each measure takes its own Orders column: paid by shoppers (gross after discounts, incl. VAT), net (excl. VAT, after discounts), VAT, 2Checkout commission, affiliate commission.",
		"The commissions on refunds are those the refunded orders carry; whether 2Checkout gives its commission back on a refund depends on the account's contract.",
		"Partial refunds are not subtracted: they leave the order COMPLETE, and the order 2Checkout's API returns states no refunded amount.",
		fmt.Sprintf("The Orders sheet lists every non-test order of the month (%s); %s test orders are left out.", groupedCount(t.OrderRows), groupedCount(t.TestOrders)),
		"Disputes are those opened in the month, on orders of any month; their fee is charged in the account currency.",
		"Month boundaries are in the reporting time zone.",
	}
	notes = append(notes, b.accountNotes()...)
	m := &cellMaker{b: b}
	rows := make([]sheetRow, len(notes))
	for i, n := range notes {
		rows[i] = sheetRow{cells: []any{m.note(kindNote, len(s.widths), n)}}
	}
	rows[0].skip = 1
	if m.err != nil {
		return m.err
	}
	return writeRows(s, rows)
}
