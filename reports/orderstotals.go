package reports

import (
	"fmt"
	"maps"
	"slices"

	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/xuri/excelize/v2"
)

// labelOrdersTotal heads the Orders sheet's totals rows, which the
// reconciliation does not read as orders.
const labelOrdersTotal = "Total"

// columnTotals are the Orders sheet's column totals in one currency: the
// rows and the sum of each amount column.
type columnTotals struct {
	rows int64
	sums [ordColumns]money.Amount
}

// headerKind is the style of column i's header: right over amounts and
// dates, indented over the text columns after the first (whose cells are
// kindText).
func (c *orderColumn) headerKind(i int) styleKind {
	switch {
	case c.amount != nil || c.converted > 0 || c.fxRate || c.date != nil:
		return kindHeaderRight
	case i > 0:
		return kindHeaderText
	}
	return kindHeader
}

// orderWidths are the widths of the Orders sheet's columns.
func orderWidths(account string) []float64 {
	var ws []float64
	for _, c := range orderColumns(account) {
		ws = append(ws, c.width)
	}
	return ws
}

// addColumns adds o, a row of the sheet, to its currency's column totals;
// conv holds its amounts in the account currency.
func (w *ordersSheet) addColumns(o *schemas.Order, conv *converted) {
	t := w.columns[o.Currency]
	if t == nil {
		t = &columnTotals{}
		w.columns[o.Currency] = t
	}
	t.rows++
	for i := range w.cols {
		if a := w.cols[i].amount; a != nil {
			t.sums[i] = t.sums[i].Add(a(o))
		}
		if c := w.cols[i].converted; c > 0 {
			t.sums[i] = t.sums[i].Add(conv[c])
		}
	}
}

// totalRows writes, after a blank row below the last detail row, a totals
// row per currency: the count of the currency's rows and the sum of each
// amount column, as COUNTIF and SUMIFS formulas over the rows with the
// exact totals cached. Amounts in different currencies are never added
// up. The rows are outside the filter, so sorting leaves them in place.
func (w *ordersSheet) totalRows(last int) error {
	if len(w.columns) == 0 {
		return nil
	}
	st := w.styles
	label, err := st.get(kindTotal, "")
	if err != nil {
		return err
	}
	cur, err := st.get(kindTotalText, "")
	if err != nil {
		return err
	}
	count, err := st.get(kindTotal, `#,##0 "orders"`)
	if err != nil {
		return err
	}
	curs := fmt.Sprintf("$%s$2:$%s$%d", col(ordCurrency), col(ordCurrency), last)
	r := last + 1
	for _, c := range slices.Sorted(maps.Keys(w.columns)) {
		t := w.columns[c]
		r++
		row := make([]any, ordColumns)
		for i := range row {
			row[i] = excelize.Cell{StyleID: label}
		}
		at := fmt.Sprintf("$%s$%d", col(ordCurrency), r)
		row[ordRef] = excelize.Cell{StyleID: label, Value: labelOrdersTotal}
		row[ordStatus] = excelize.Cell{StyleID: count, Value: t.rows, Formula: fmt.Sprintf("COUNTIF(%s,%s)", curs, at)}
		row[ordCurrency] = excelize.Cell{StyleID: cur, Value: c}
		mid, err := st.get(kindTotal, moneyFormat(c))
		if err != nil {
			return err
		}
		aid, err := st.get(kindTotal, moneyFormat(w.tally.account))
		if err != nil {
			return err
		}
		for i := range w.cols {
			id := mid
			switch {
			case w.cols[i].converted > 0:
				id = aid // the "in <account currency>" columns
			case w.cols[i].amount == nil:
				continue
			}
			l := col(i)
			cell := excelize.Cell{StyleID: id, Formula: fmt.Sprintf("SUMIFS($%s$2:$%s$%d,%s,%s)", l, l, last, curs, at)}
			// An amount too long to cache exactly is left for the
			// spreadsheet to compute.
			if v, err := cellAmount(t.sums[i]); err == nil {
				cell.Value = v
			}
			row[i] = cell
		}
		if err := w.sw.SetRow(cellRef(0, r), row); err != nil {
			return err
		}
	}
	return nil
}
