package reports

import (
	"fmt"

	"github.com/xuri/excelize/v2"
)

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
