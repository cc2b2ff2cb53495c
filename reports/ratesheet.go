package reports

import (
	"fmt"
	"strings"

	"github.com/ledgerline/ledgerline/money"
	"github.com/xuri/excelize/v2"
)

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
