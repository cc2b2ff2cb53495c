package reports

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ledgerline/ledgerline/money"
	"github.com/xuri/excelize/v2"
)

// book writes the sheets of one workbook.
type book struct {
	f    *excelize.File
	st   *styles
	rep  *Report
	data *monthData

	// ordersLast is the Orders sheet's last detail row.
	ordersLast int
	// feesLast and feesTotal are the Chargeback fees sheet's last detail
	// row and its total row.
	feesLast, feesTotal int
}

// Columns of the Chargeback fees sheet.
const (
	cbRef = iota
	cbOrderDate
	cbOpenedOn
	cbBasis
	cbReason
	cbResolution
	cbAmount
	cbCurrency
	cbFee
	cbFeeCurrency
	cbRateMonth
	cbRate
	cbRule
	cbColumns
)

// col returns the letters of 0-based column i.
func col(i int) string {
	s, _ := excelize.ColumnNumberToName(i + 1)
	return s
}

// cellRef returns the A1 reference of 0-based column c, row r.
func cellRef(c, r int) string { return col(c) + strconv.Itoa(r) }

// sheetRef quotes a sheet name for a formula.
func sheetRef(sheet string) string {
	return "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
}

// colRange returns the absolute range of 0-based column c from row first to
// last on sheet: 'Orders'!$F$2:$F$100.
func colRange(sheet string, c, first, last int) string {
	l := col(c)
	return fmt.Sprintf("%s!$%s$%d:$%s$%d", sheetRef(sheet), l, first, l, last)
}

// quote makes s a formula string literal.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// stream is a stream writer that keeps its row.
type stream struct {
	sw  *excelize.StreamWriter
	row int
}

// pageSetup prints sheet landscape, fitted to one page wide (and, with
// onePage, one page high). It must come before the sheet's stream writer,
// which writes the sheet properties first.
func (b *book) pageSetup(sheet string, onePage bool) error {
	fit := true
	if err := b.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	landscape, one, high := "landscape", 1, 0
	if onePage {
		high = 1
	}
	return b.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &high})
}

func (b *book) stream(sheet string, widths []float64, freeze int, freezeCols int) (*stream, error) {
	if err := b.pageSetup(sheet, sheet == SheetSummary); err != nil {
		return nil, err
	}
	sw, err := b.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	if freeze > 0 || freezeCols > 0 {
		p := &excelize.Panes{Freeze: true, XSplit: freezeCols, YSplit: freeze,
			TopLeftCell: cellRef(freezeCols, freeze+1), ActivePane: "bottomLeft"}
		if freezeCols > 0 {
			p.ActivePane = "bottomRight"
		}
		if err := sw.SetPanes(p); err != nil {
			return nil, err
		}
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	return &stream{sw: sw}, nil
}

// next writes cells as the next row (after skip blank rows).
func (s *stream) next(skip int, cells ...any) error {
	s.row += skip + 1
	if len(cells) == 0 {
		return nil
	}
	return s.sw.SetRow(cellRef(0, s.row), cells)
}

// nextOpts is next with row options.
func (s *stream) nextOpts(skip int, opts excelize.RowOpts, cells ...any) error {
	s.row += skip + 1
	return s.sw.SetRow(cellRef(0, s.row), cells, opts)
}

// style returns the id of a style.
func (b *book) style(kind styleKind, format string) (int, error) { return b.st.get(kind, format) }

// styled returns a cell of value v with style kind and format.
func (b *book) styled(kind styleKind, format string, v any) (excelize.Cell, error) {
	id, err := b.style(kind, format)
	return excelize.Cell{StyleID: id, Value: v}, err
}

// moneyCell returns a cell holding a exactly, in currency's format.
func (b *book) moneyCell(kind styleKind, a money.Amount, currency string) (excelize.Cell, error) {
	v, err := cellAmount(a)
	if err != nil {
		return excelize.Cell{}, err
	}
	return b.styled(kind, moneyFormat(currency), v)
}

// formula returns a formula cell with a cached value: cached is an exact
// money.Amount, an int64 count, or nil. An amount too long to cache
// exactly is left for the spreadsheet to compute.
func (b *book) formula(kind styleKind, format, formula string, cached any) (excelize.Cell, error) {
	var v any
	switch c := cached.(type) {
	case money.Amount:
		if cv, err := cellAmount(c); err == nil {
			v = cv
		}
	case int64:
		v = c
	}
	c, err := b.styled(kind, format, v)
	c.Formula = formula
	return c, err
}

// headerRow returns header cells.
func (b *book) headerRow(names ...string) ([]any, error) {
	id, err := b.style(kindHeader, "")
	cells := make([]any, len(names))
	for i, n := range names {
		cells[i] = excelize.Cell{StyleID: id, Value: n}
	}
	return cells, err
}

// chargebackFees writes one row per dispute opened in the month and a total.
func (b *book) chargebackFees() error {
	fc := b.rep.Account.Currency
	s, err := b.stream(SheetChargebackFees, []float64{14, 12, 12, 14, 24, 12, 16, 10, 16, 10, 11, 10, 70}, 1, 1)
	if err != nil {
		return err
	}
	hdr, err := b.headerRow("Order reference", "Order date", "Opened on", "Opened on basis", "Reason code", "Resolution",
		"Order amount", "Currency", "Chargeback fee", "Fee currency", "Rate month", "Chargeback rate", "Fee rule")
	if err != nil {
		return err
	}
	if err := s.nextOpts(0, excelize.RowOpts{Height: 30}, hdr...); err != nil {
		return err
	}
	for _, c := range b.data.chargebacks {
		cells := make([]any, cbColumns)
		cells[cbRef] = c.RefNo
		var errs [5]error
		cells[cbOrderDate], errs[0] = b.styled(kindPlain, fmtDate, dateSerial(c.OrderDate))
		cells[cbOpenedOn], errs[1] = b.styled(kindPlain, fmtDate, dateSerial(c.OpenedOn))
		cells[cbBasis] = c.OpenedOnBasis
		if c.ReasonCode != nil {
			cells[cbReason] = *c.ReasonCode
		}
		cells[cbResolution] = c.Resolution
		cells[cbAmount], errs[2] = b.moneyCell(kindPlain, c.OrderAmount, c.Currency)
		cells[cbCurrency] = c.Currency
		cells[cbFee], errs[3] = b.moneyCell(kindPlain, c.FeeAmount, c.FeeCurrency)
		cells[cbFeeCurrency] = c.FeeCurrency
		cells[cbRateMonth] = c.RateMonth
		if c.Rate != nil {
			v, err := cellRate(*c.Rate)
			if err != nil {
				return fmt.Errorf("dispute %s rate: %w", c.RefNo, err)
			}
			cells[cbRate], errs[4] = b.styled(kindPlain, fmtPercent, v)
		}
		cells[cbRule] = c.FeeRule
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("dispute %s: %w", c.RefNo, err)
			}
		}
		if err := s.next(0, cells...); err != nil {
			return err
		}
	}
	if len(b.data.chargebacks) == 0 {
		if err := s.next(0, "No disputes opened in "+monthName(b.rep.Month)); err != nil {
			return err
		}
	}
	b.feesLast = s.row
	total, err := b.formula(kindTotal, moneyFormat(fc), fmt.Sprintf("SUM(%s)", colRange(SheetChargebackFees, cbFee, 2, b.feesLast)), b.rep.Totals.ChargebackFees)
	if err != nil {
		return err
	}
	label, err := b.styled(kindTotal, "", "Total chargeback fee")
	if err != nil {
		return err
	}
	cur, err := b.styled(kindTotal, "", fc)
	if err != nil {
		return err
	}
	row := make([]any, cbColumns)
	row[cbRef], row[cbFee], row[cbFeeCurrency] = label, total, cur
	if err := s.next(0, row...); err != nil {
		return err
	}
	b.feesTotal = s.row
	if err := b.f.AutoFilter(SheetChargebackFees, "A1:"+cellRef(cbColumns-1, b.feesLast), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}

// salesFormula returns the formula summing (or, with sumCol < 0, counting)
// the Orders rows of the currency in cell curCell whose status is one of
// statuses.
func (b *book) salesFormula(sumCol int, curCell string, statuses []string) string {
	last := b.ordersLast
	curs := colRange(SheetOrders, ordCurrency, 2, last)
	stat := colRange(SheetOrders, ordStatus, 2, last)
	terms := make([]string, len(statuses))
	for i, st := range statuses {
		if sumCol < 0 {
			terms[i] = fmt.Sprintf("COUNTIFS(%s,%s,%s,%s)", curs, curCell, stat, quote(st))
		} else {
			terms[i] = fmt.Sprintf("SUMIFS(%s,%s,%s,%s,%s)", colRange(SheetOrders, sumCol, 2, last), curs, curCell, stat, quote(st))
		}
	}
	return strings.Join(terms, "+")
}

// disputeFormula returns the formula summing (or, with sumCol < 0,
// counting) the disputes on orders in the currency in cell curCell.
func (b *book) disputeFormula(sumCol int, curCell string) string {
	curs := colRange(SheetChargebackFees, cbCurrency, 2, b.feesLast)
	if sumCol < 0 {
		return fmt.Sprintf("COUNTIF(%s,%s)", curs, curCell)
	}
	return fmt.Sprintf("SUMIFS(%s,%s,%s)", colRange(SheetChargebackFees, sumCol, 2, b.feesLast), curs, curCell)
}

// revenueSplit writes the month by currency.
func (b *book) revenueSplit() error {
	fc := b.rep.Account.Currency
	s, err := b.stream(SheetRevenueSplit, []float64{14, 10, 10, 20, 20, 18, 18, 18, 10}, 1, 0)
	if err != nil {
		return err
	}
	hdr, err := b.headerRow("Month", "Currency", "Sales (orders)", "Net product price", "2Checkout commission",
		"VAT", "Affiliate commission", "Chargeback fees ("+fc+")", "Disputes")
	if err != nil {
		return err
	}
	if err := s.nextOpts(0, excelize.RowOpts{Height: 30}, hdr...); err != nil {
		return err
	}
	statuses := b.rep.Account.TransactionStatuses
	for _, ct := range b.rep.Totals.Currencies {
		r := s.row + 1
		cur := "$B" + strconv.Itoa(r)
		month, err := b.styled(kindPlain, fmtMonth, dateSerial(b.rep.Month))
		if err != nil {
			return err
		}
		cells := []any{month, ct.Currency}
		for _, v := range []struct {
			formula string
			format  string
			cached  any
		}{
			{b.salesFormula(-1, cur, statuses), fmtCount, ct.Orders},
			{b.salesFormula(ordNet, cur, statuses), moneyFormat(ct.Currency), ct.Net},
			{b.salesFormula(ordCommission, cur, statuses), moneyFormat(ct.Currency), ct.Commission},
			{b.salesFormula(ordVAT, cur, statuses), moneyFormat(ct.Currency), ct.VAT},
			{b.salesFormula(ordAffiliate, cur, statuses), moneyFormat(ct.Currency), ct.Affiliate},
			{b.disputeFormula(cbFee, cur), moneyFormat(fc), ct.Fees},
			{b.disputeFormula(-1, cur), fmtCount, ct.Disputes},
		} {
			c, err := b.formula(kindPlain, v.format, v.formula, v.cached)
			if err != nil {
				return err
			}
			cells = append(cells, c)
		}
		if err := s.next(0, cells...); err != nil {
			return err
		}
	}
	first, last := 2, s.row
	if last < first {
		if err := s.next(0, "No orders or disputes in "+monthName(b.rep.Month)); err != nil {
			return err
		}
		last = s.row
	}
	var orders, disputes int64
	for _, ct := range b.rep.Totals.Currencies {
		orders += ct.Orders
		disputes += ct.Disputes
	}
	label, err := b.styled(kindTotal, "", "Total")
	if err != nil {
		return err
	}
	row := []any{label}
	blank, err := b.styled(kindTotal, "", nil)
	if err != nil {
		return err
	}
	for c := 1; c <= 8; c++ {
		var cell excelize.Cell
		rng := fmt.Sprintf("%s%d:%s%d", col(c), first, col(c), last)
		switch c {
		case 2:
			cell, err = b.formula(kindTotal, fmtCount, "SUM("+rng+")", orders)
		case 7:
			cell, err = b.formula(kindTotal, moneyFormat(fc), "SUM("+rng+")", b.rep.Totals.ChargebackFees)
		case 8:
			cell, err = b.formula(kindTotal, fmtCount, "SUM("+rng+")", disputes)
		default:
			cell = blank
		}
		if err != nil {
			return err
		}
		row = append(row, cell)
	}
	if err := s.next(0, row...); err != nil {
		return err
	}
	if err := b.f.AutoFilter(SheetRevenueSplit, "A1:"+cellRef(8, last), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}

// subscriptions writes the snapshot's figures by product.
func (b *book) subscriptions() error {
	t := &b.rep.Totals
	s, err := b.stream(SheetSubscriptions, []float64{16, 34, 12, 12, 12, 14, 12}, 3, 0)
	if err != nil {
		return err
	}
	title := "No subscriptions snapshot in " + monthName(b.rep.Month)
	if !t.Snapshot.IsZero() {
		title = fmt.Sprintf("Subscriptions at %s, the last snapshot of %s", t.Snapshot, monthName(b.rep.Month))
	}
	tc, err := b.styled(kindTitle, "", title)
	if err != nil {
		return err
	}
	if err := s.next(0, tc); err != nil {
		return err
	}
	note, err := b.styled(kindSubtitle, "", "Active: enabled at the snapshot. New: started in the month. "+
		"Expired: expired in the month and no longer enabled. Auto-renewing: active with automatic renewal. "+
		"Test subscriptions are left out.")
	if err != nil {
		return err
	}
	if err := s.next(0, note); err != nil {
		return err
	}
	hdr, err := b.headerRow("Product code", "Product name", "Active", "New", "Expired", "Auto-renewing", "Units (active)")
	if err != nil {
		return err
	}
	if err := s.nextOpts(0, excelize.RowOpts{Height: 30}, hdr...); err != nil {
		return err
	}
	cnt, err := b.style(kindPlain, fmtCount)
	if err != nil {
		return err
	}
	for _, p := range t.Subscriptions {
		err := s.next(0, p.ProductCode, p.ProductName,
			excelize.Cell{StyleID: cnt, Value: p.Active}, excelize.Cell{StyleID: cnt, Value: p.New},
			excelize.Cell{StyleID: cnt, Value: p.Expired}, excelize.Cell{StyleID: cnt, Value: p.AutoRenewing},
			excelize.Cell{StyleID: cnt, Value: p.Units})
		if err != nil {
			return err
		}
	}
	first, last := 4, s.row
	if last < first {
		if err := s.next(0, "No subscriptions"); err != nil {
			return err
		}
		last = s.row
	}
	var sums [5]int64
	for _, p := range t.Subscriptions {
		for i, v := range [5]int64{p.Active, p.New, p.Expired, p.AutoRenewing, p.Units} {
			sums[i] += v
		}
	}
	label, err := b.styled(kindTotal, "", "Total")
	if err != nil {
		return err
	}
	blank, err := b.styled(kindTotal, "", nil)
	if err != nil {
		return err
	}
	row := []any{label, blank}
	for i := range sums {
		c := 2 + i
		cell, err := b.formula(kindTotal, fmtCount, fmt.Sprintf("SUM(%s%d:%s%d)", col(c), first, col(c), last), sums[i])
		if err != nil {
			return err
		}
		row = append(row, cell)
	}
	if err := s.next(0, row...); err != nil {
		return err
	}
	if err := b.f.AutoFilter(SheetSubscriptions, "A3:"+cellRef(6, last), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}

// chargebackRate writes the monthly rates, the thresholds and a chart.
func (b *book) chargebackRate() error {
	const sheet = SheetChargebackRate
	f, a := b.f, b.rep.Account
	fees := a.ChargebackFees
	type threshold struct {
		label string
		rate  money.Rate
	}
	var ths []threshold
	for _, t := range fees.Tiers {
		if t.Below == nil {
			continue
		}
		r, _, err := money.RateFromRat(t.Below)
		if err != nil {
			return fmt.Errorf("threshold %s: %w", t.BelowText, err)
		}
		ths = append(ths, threshold{"Threshold " + t.BelowText, r})
	}
	names := []string{"Month", "Transactions", "Chargebacks opened", "Chargeback rate"}
	for _, t := range ths {
		names = append(names, t.label)
	}
	names = append(names, "Fee per dispute next month", "Fee currency", "Month complete")
	ncol := len(names)
	hdr, err := b.style(kindHeader, "")
	if err != nil {
		return err
	}
	for i, n := range names {
		if err := f.SetCellValue(sheet, cellRef(i, 1), n); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", cellRef(ncol-1, 1), hdr); err != nil {
		return err
	}
	if err := f.SetRowHeight(sheet, 1, 30); err != nil {
		return err
	}
	for i, n := range names {
		w := 14.0
		switch {
		case i == 0:
			w = 14
		case i == ncol-3:
			w = 16
		case i == ncol-2:
			w = 10
		case i == ncol-1:
			w = 18
		case strings.HasPrefix(n, "Threshold"):
			w = 12
		}
		if err := f.SetColWidth(sheet, col(i), col(i), w); err != nil {
			return err
		}
	}
	styles := map[string]int{}
	for _, format := range []string{fmtMonth, fmtCount, fmtPercent, moneyFormat(a.Currency)} {
		if styles[format], err = b.style(kindPlain, format); err != nil {
			return err
		}
	}
	set := func(c, r int, v any, format string) error {
		ref := cellRef(c, r)
		if err := f.SetCellValue(sheet, ref, v); err != nil {
			return err
		}
		if format == "" {
			return nil
		}
		return f.SetCellStyle(sheet, ref, ref, styles[format])
	}
	r := 1
	for _, rate := range b.data.rates {
		r++
		rv, err := cellRate(rate.Rate)
		if err != nil {
			return fmt.Errorf("rate of %s: %w", rate.Month, err)
		}
		fee, err := cellAmount(rate.NextMonthFee)
		if err != nil {
			return err
		}
		complete := "no (month to date)"
		if rate.Complete {
			complete = "yes"
		}
		vals := []struct {
			v      any
			format string
		}{{dateSerial(rate.Month), fmtMonth}, {rate.Transactions, fmtCount}, {rate.ChargebacksOpened, fmtCount}, {rv, fmtPercent}}
		for _, t := range ths {
			tv, err := cellRate(t.rate)
			if err != nil {
				return err
			}
			vals = append(vals, struct {
				v      any
				format string
			}{tv, fmtPercent})
		}
		vals = append(vals, struct {
			v      any
			format string
		}{fee, moneyFormat(rate.FeeCurrency)}, struct {
			v      any
			format string
		}{rate.FeeCurrency, ""}, struct {
			v      any
			format string
		}{complete, ""})
		for c, v := range vals {
			if _, ok := styles[v.format]; !ok && v.format != "" {
				if styles[v.format], err = b.style(kindPlain, v.format); err != nil {
					return err
				}
			}
			if err := set(c, r, v.v, v.format); err != nil {
				return err
			}
		}
	}
	if r == 1 {
		return f.SetCellValue(sheet, "A2", "No chargeback rates in the warehouse for the twelve months to "+monthName(b.rep.Month))
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := f.AutoFilter(sheet, "A1:"+cellRef(ncol-1, r), nil); err != nil {
		return err
	}
	cats := colRange(sheet, 0, 2, r)
	series := []excelize.ChartSeries{{
		Name: sheetRef(sheet) + "!$D$1", Categories: cats, Values: colRange(sheet, 3, 2, r),
		Line:   excelize.LineOptions{Width: 2.25},
		Marker: excelize.ChartMarker{Symbol: "circle", Size: 6},
	}}
	for i := range ths {
		c := 4 + i
		series = append(series, excelize.ChartSeries{
			Name: fmt.Sprintf("%s!$%s$1", sheetRef(sheet), col(c)), Categories: cats, Values: colRange(sheet, c, 2, r),
			Line:   excelize.LineOptions{Width: 1.5, Dash: excelize.LineDashDash},
			Marker: excelize.ChartMarker{Symbol: "none"},
		})
	}
	return f.AddChart(sheet, cellRef(0, r+3), &excelize.Chart{
		Type:      excelize.Line,
		Series:    series,
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Chargeback rate and thresholds"}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 720, Height: 320},
		XAxis:     excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "mmm yyyy"}},
		YAxis:     excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0.00%"}},
	})
}

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
