package reports

import (
	"fmt"
	"strings"
)

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
