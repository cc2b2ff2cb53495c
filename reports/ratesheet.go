package reports

import (
	"fmt"

	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/xuri/excelize/v2"
)

// A rateColumn is a column of the Chargeback rate sheet: its header and
// width, and the value and number format ("": unstyled) of a month's cell.
type rateColumn struct {
	header string
	width  float64
	value  func(schemas.ChargebackRate) (any, error)
	format func(schemas.ChargebackRate) string
	// threshold columns are drawn as dashed lines on the chart.
	threshold bool
	// text columns hold indented text (kindText); the others numbers.
	text bool
}

func fixedFormat(format string) func(schemas.ChargebackRate) string {
	return func(schemas.ChargebackRate) string { return format }
}

// rateColumns are the Chargeback rate sheet's columns: the month's counts
// and rate, a column per threshold of the account's fee tiers, and the fee
// the rate sets.
func (b *book) rateColumns() ([]rateColumn, error) {
	cols := []rateColumn{
		{header: "Month", width: 14, format: fixedFormat(fmtMonth),
			value: func(r schemas.ChargebackRate) (any, error) { return dateSerial(r.Month), nil }},
		{header: "Transactions", width: 14, format: fixedFormat(fmtCount),
			value: func(r schemas.ChargebackRate) (any, error) { return r.Transactions, nil }},
		{header: "Chargebacks opened", width: 14, format: fixedFormat(fmtCount),
			value: func(r schemas.ChargebackRate) (any, error) { return r.ChargebacksOpened, nil }},
		{header: "Chargeback rate", width: 14, format: fixedFormat(fmtRate),
			value: func(r schemas.ChargebackRate) (any, error) {
				v, err := cellRate(r.Rate)
				if err != nil {
					return nil, fmt.Errorf("rate of %s: %w", r.Month, err)
				}
				return v, nil
			}},
	}
	for _, t := range b.rep.Account.ChargebackFees.Tiers {
		if t.Below == nil {
			continue
		}
		r, _, err := money.RateFromRat(t.Below)
		if err != nil {
			return nil, fmt.Errorf("threshold %s: %w", t.BelowText, err)
		}
		cols = append(cols, rateColumn{header: "Threshold " + t.BelowText, width: 12, format: fixedFormat(fmtRate), threshold: true,
			value: func(schemas.ChargebackRate) (any, error) { return cellRate(r) }})
	}
	return append(cols,
		rateColumn{header: "Fee per dispute next month", width: 16,
			format: func(r schemas.ChargebackRate) string { return numberFormat(r.FeeCurrency) },
			value:  func(r schemas.ChargebackRate) (any, error) { return cellAmount(r.NextMonthFee) }},
		rateColumn{header: "Fee currency", width: 11, format: fixedFormat(""), text: true,
			value: func(r schemas.ChargebackRate) (any, error) { return r.FeeCurrency, nil }},
		rateColumn{header: "Month complete", width: 18, format: fixedFormat(""), text: true,
			value: func(r schemas.ChargebackRate) (any, error) {
				if r.Complete {
					return "yes", nil
				}
				return "no (month to date)", nil
			}},
	), nil
}

// chargebackRate writes the monthly rates, the thresholds and a chart.
func (b *book) chargebackRate() error {
	const sheet = SheetChargebackRate
	f := b.f
	cols, err := b.rateColumns()
	if err != nil {
		return err
	}
	widths := make([]float64, len(cols))
	for i, c := range cols {
		widths[i] = c.width
	}
	if err := b.rateHeader(cols); err != nil {
		return err
	}
	// The styles the rows use, made in a fixed order.
	for _, format := range []string{fmtMonth, fmtCount, fmtRate, numberFormat(b.rep.Account.Currency)} {
		if _, err := b.style(kindPlain, format); err != nil {
			return err
		}
	}
	r := 1
	for _, rate := range b.data.rates {
		r++
		for c, rc := range cols {
			v, err := rc.value(rate)
			if err != nil {
				return err
			}
			ref := cellRef(c, r)
			if err := f.SetCellValue(sheet, ref, v); err != nil {
				return err
			}
			kind := kindPlain
			if rc.text {
				kind = kindText
			}
			if format := rc.format(rate); format != "" || rc.text {
				id, err := b.style(kind, format)
				if err != nil {
					return err
				}
				if err := f.SetCellStyle(sheet, ref, ref, id); err != nil {
					return err
				}
			}
		}
		if err := b.rateNote(rate, cellRef(3, r)); err != nil {
			return err
		}
	}
	if r == 1 {
		if err := b.pageSetup(sheet, widths, 1); err != nil {
			return err
		}
		return f.SetCellValue(sheet, "A2", "No chargeback rates in the warehouse for the twelve months to "+monthName(b.rep.Month))
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := f.AutoFilter(sheet, "A1:"+cellRef(len(cols)-1, r), nil); err != nil {
		return err
	}
	// After the filter, which replaces the sheet's properties.
	if err := b.pageSetup(sheet, widths, 1); err != nil {
		return err
	}
	return b.rateChart(cols, r)
}

// rateHeader writes the Chargeback rate sheet's header row and widths.
func (b *book) rateHeader(cols []rateColumn) error {
	const sheet = SheetChargebackRate
	for i, c := range cols {
		kind := kindHeaderRight
		if c.text {
			kind = kindHeaderText
		}
		hdr, err := b.style(kind, "")
		if err != nil {
			return err
		}
		ref := cellRef(i, 1)
		if err := b.f.SetCellValue(sheet, ref, c.header); err != nil {
			return err
		}
		if err := b.f.SetCellStyle(sheet, ref, ref, hdr); err != nil {
			return err
		}
	}
	if err := b.f.SetRowHeight(sheet, 1, 30); err != nil {
		return err
	}
	for i, c := range cols {
		if err := b.f.SetColWidth(sheet, col(i), col(i), c.width); err != nil {
			return err
		}
	}
	return nil
}

// rateNote puts the exact fraction of r's rate in the note of its cell at
// ref, which shows it to two to four decimals.
func (b *book) rateNote(r schemas.ChargebackRate, ref string) error {
	if r.Transactions == 0 {
		return nil
	}
	return b.f.AddComment(SheetChargebackRate, excelize.Comment{Cell: ref, Author: "ledgerline",
		Text: fmt.Sprintf("Exactly %s/%s: %s disputes opened in %s transactions.", groupedCount(r.ChargebacksOpened), groupedCount(r.Transactions),
			groupedCount(r.ChargebacksOpened), groupedCount(r.Transactions))})
}

// chartTextColor is the colour of the chart's title and axis labels.
const chartTextColor = "262626"

// rateChart draws the rate (column D) and the thresholds of rows 2 to last.
func (b *book) rateChart(cols []rateColumn, last int) error {
	const sheet = SheetChargebackRate
	cats := colRange(sheet, 0, 2, last)
	series := []excelize.ChartSeries{{
		Name: sheetRef(sheet) + "!$D$1", Categories: cats, Values: colRange(sheet, 3, 2, last),
		Line:   excelize.LineOptions{Width: 2.25},
		Marker: excelize.ChartMarker{Symbol: "circle", Size: 6},
	}}
	for c, rc := range cols {
		if !rc.threshold {
			continue
		}
		series = append(series, excelize.ChartSeries{
			Name: fmt.Sprintf("%s!$%s$1", sheetRef(sheet), col(c)), Categories: cats, Values: colRange(sheet, c, 2, last),
			Line:   excelize.LineOptions{Width: 1.5, Dash: excelize.LineDashDash},
			Marker: excelize.ChartMarker{Symbol: "none"},
		})
	}
	return b.f.AddChart(sheet, cellRef(0, last+3), &excelize.Chart{
		Type:   excelize.Line,
		Series: series,
		Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Chargeback rate and thresholds",
			Font: &excelize.Font{Color: chartTextColor, Size: 14}}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: 720, Height: 320},
		// excelize's default axis labels are 15% grey on white: too pale
		// to read, printed or on screen.
		XAxis: excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "mmm yyyy"}, Font: excelize.Font{Color: chartTextColor}},
		YAxis: excelize.ChartAxis{MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0.00%"}, Font: excelize.Font{Color: chartTextColor}},
	})
}
