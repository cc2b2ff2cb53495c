package reports

import (
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"
)

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
