package reports

import (
	"fmt"

	"github.com/xuri/excelize/v2"
)

// A productColumn is a column of the Subscriptions sheet. Count columns
// hold an int64 per product and a SUM in the Total row.
type productColumn struct {
	header string
	width  float64
	text   func(ProductSubscriptions) string
	count  func(ProductSubscriptions) int64
}

// productColumns are the Subscriptions sheet's columns.
func productColumns() []productColumn {
	return []productColumn{
		{header: "Product code", width: 16, text: func(p ProductSubscriptions) string { return p.ProductCode }},
		{header: "Product name", width: 34, text: func(p ProductSubscriptions) string { return p.ProductName }},
		{header: "Active", width: 12, count: func(p ProductSubscriptions) int64 { return p.Active }},
		{header: "New", width: 12, count: func(p ProductSubscriptions) int64 { return p.New }},
		{header: "Expired", width: 12, count: func(p ProductSubscriptions) int64 { return p.Expired }},
		{header: "Auto-renewing", width: 15, count: func(p ProductSubscriptions) int64 { return p.AutoRenewing }},
		{header: "Units (active)", width: 12, count: func(p ProductSubscriptions) int64 { return p.Units }},
	}
}

// subscriptions writes the snapshot's figures by product.
func (b *book) subscriptions() error {
	t := &b.rep.Totals
	cols := productColumns()
	names, widths := make([]header, len(cols)), make([]float64, len(cols))
	for i, c := range cols {
		names[i], widths[i] = header{name: c.header}, c.width
		if c.count != nil {
			names[i].kind = kindHeaderRight
		}
	}
	s, err := b.stream(SheetSubscriptions, widths, 3, 0, 3)
	if err != nil {
		return err
	}
	title := "No subscription history covers the end of " + monthName(b.rep.Month)
	switch {
	case t.Snapshot == LastOfMonth(b.rep.Month):
		title = fmt.Sprintf("Subscriptions at the end of %s (%s), from the subscription history", monthName(b.rep.Month), t.Snapshot)
	case !t.Snapshot.IsZero():
		title = fmt.Sprintf("Subscriptions at %s, the latest read of %s, from the subscription history", t.Snapshot, monthName(b.rep.Month))
	}
	m := &cellMaker{b: b}
	rows := []sheetRow{
		{cells: []any{m.cell(kindTitle, "", title)}},
		{cells: []any{m.note(kindNote, len(widths), "Counted from the subscription history. Active: started, not expired and enabled. New: started in the month. "+
			"Expired: expired in the month and no longer enabled. Auto-renewing: active with automatic renewal. "+
			"Test subscriptions are left out.")}},
	}
	hdr, err := b.headerCells(names...)
	if err != nil {
		return err
	}
	rows = append(rows, sheetRow{height: 30, cells: hdr})
	cnt, err := b.style(kindPlain, fmtCount)
	if err != nil {
		return err
	}
	for _, p := range t.Subscriptions {
		cells := make([]any, len(cols))
		for i, c := range cols {
			if c.count != nil {
				cells[i] = excelize.Cell{StyleID: cnt, Value: c.count(p)}
			} else {
				cells[i] = c.text(p)
			}
		}
		rows = append(rows, sheetRow{cells: cells})
	}
	if m.err != nil {
		return m.err
	}
	if err := writeRows(s, rows); err != nil {
		return err
	}
	first, last := 4, s.row
	if last < first {
		if err := s.next(0, "No subscriptions"); err != nil {
			return err
		}
		last = s.row
	}
	if err := b.subscriptionsTotal(s, cols, first, last); err != nil {
		return err
	}
	if err := b.f.AutoFilter(SheetSubscriptions, "A3:"+cellRef(len(cols)-1, last), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}

// subscriptionsTotal writes the Total row: the SUM of rows first to last of
// each count column.
func (b *book) subscriptionsTotal(s *stream, cols []productColumn, first, last int) error {
	m := &cellMaker{b: b}
	row := []any{m.cell(kindTotal, "", "Total")}
	for i, c := range cols[1:] {
		if c.count == nil {
			row = append(row, m.cell(kindTotal, "", nil))
			continue
		}
		var sum int64
		for _, p := range b.rep.Totals.Subscriptions {
			sum += c.count(p)
		}
		l := col(i + 1)
		cell, err := b.formula(kindTotal, fmtCount, fmt.Sprintf("SUM(%s%d:%s%d)", l, first, l, last), sum)
		if err != nil {
			return err
		}
		row = append(row, cell)
	}
	if m.err != nil {
		return m.err
	}
	return s.next(0, row...)
}
