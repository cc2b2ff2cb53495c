package reports

import (
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// revenueSplit writes the month by currency: a row per currency, a column
// per figure of splitColumns, and a Total row.
func (b *book) revenueSplit() error {
	cols := b.splitColumns()
	names := []header{hNum("Month"), hText("Currency")}
	widths := []float64{14, 11}
	for _, c := range cols {
		names, widths = append(names, hNum(c.label)), append(widths, c.width)
	}
	s, err := b.stream(SheetRevenueSplit, widths, 1, 0, 1)
	if err != nil {
		return err
	}
	hdr, err := b.headerCells(names...)
	if err != nil {
		return err
	}
	// Three lines: the longest labels wrap to three.
	if err := s.nextOpts(0, excelize.RowOpts{Height: 45}, hdr...); err != nil {
		return err
	}
	for _, ct := range b.rep.Totals.Currencies {
		at := "$B" + strconv.Itoa(s.row+1)
		month, err := b.styled(kindPlain, fmtMonth, dateSerial(b.rep.Month))
		if err != nil {
			return err
		}
		cur, err := b.styled(kindText, "", ct.Currency)
		if err != nil {
			return err
		}
		cells := []any{month, cur}
		for _, c := range cols {
			cell, err := c.cell(b, ct, at)
			if err != nil {
				return err
			}
			cells = append(cells, cell)
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
	if err := b.splitTotal(s, cols, first, last); err != nil {
		return err
	}
	if err := b.f.AutoFilter(SheetRevenueSplit, "A1:"+cellRef(len(names)-1, last), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}

// splitTotal writes the Revenue split's Total row: the SUM of rows first to
// last of each summed column.
func (b *book) splitTotal(s *stream, cols []splitColumn, first, last int) error {
	label, err := b.styled(kindTotal, "", "Total")
	if err != nil {
		return err
	}
	blank, err := b.styled(kindTotal, "", nil)
	if err != nil {
		return err
	}
	row := []any{label, blank}
	for i, c := range cols {
		if !c.summed {
			row = append(row, blank)
			continue
		}
		l := col(2 + i)
		cell, err := b.formula(kindTotal, c.format(b.rep.Account.Currency), fmt.Sprintf("SUM(%s%d:%s%d)", l, first, l, last),
			c.total(b.rep.Totals.Currencies))
		if err != nil {
			return err
		}
		row = append(row, cell)
	}
	return s.next(0, row...)
}
