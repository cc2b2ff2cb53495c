package reports

import (
	"fmt"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/xuri/excelize/v2"
)

// Columns of the Orders sheet.
const (
	ordRef = iota
	ordDate
	ordStatus
	ordCurrency
	ordCountry
	ordGross
	ordDiscount
	ordPaid
	ordVAT
	ordNet
	ordAffiliate
	ordCommission
	ordChargeback
	// The order in the account currency (see account.go): the FX rate
	// used, or "not converted", the payout currency, and the amounts
	// above converted, in the order of ordGross to ordCommission.
	ordFxRate
	ordPayout
	ordAcctGross
	ordAcctDiscount
	ordAcctPaid
	ordAcctVAT
	ordAcctNet
	ordAcctAffiliate
	ordAcctCommission
	ordColumns
)

// acctCol returns the Orders column of the amount of column c converted
// into the account currency.
func acctCol(c int) int { return c - ordGross + ordAcctGross }

// An orderColumn is a column of the Orders sheet: its header and width, and
// an order's cell, one of: an amount in the order's currency, the amount
// of column converted in the account currency (blank when the order cannot be converted), a
// date, the FX rate used, or a value written as it is (nil: blank).
type orderColumn struct {
	header    string
	width     float64
	amount    func(*schemas.Order) money.Amount
	converted int // > 0: the column of the amount converted (ordGross on)
	date      func(*schemas.Order) civil.Date
	fxRate    bool
	value     func(*schemas.Order) any
}

// orderColumns are the Orders sheet's columns, in the order of the ord
// constants that the formulas and the reconciliation refer to; account is
// the account currency, which the converted columns name.
func orderColumns(account string) [ordColumns]orderColumn {
	type o = *schemas.Order
	cols := [ordColumns]orderColumn{
		ordRef:      {header: "Order reference", width: 14, value: func(o o) any { return o.RefNo }},
		ordDate:     {header: "Order date", width: 12, date: func(o o) civil.Date { return o.OrderDate }},
		ordStatus:   {header: "Status", width: 12, value: func(o o) any { return o.Status }},
		ordCurrency: {header: "Currency", width: 11, value: func(o o) any { return o.Currency }},
		ordCountry: {header: "Country", width: 10, value: func(o o) any {
			if o.Country == nil {
				return nil
			}
			return *o.Country
		}},
		ordGross:      {header: "Gross price", width: 16, amount: func(o o) money.Amount { return o.GrossPrice }},
		ordDiscount:   {header: "Discount", width: 16, amount: func(o o) money.Amount { return o.Discount }},
		ordPaid:       {header: "Paid (gross after discounts)", width: 18, amount: func(o o) money.Amount { return o.GrossDiscountedPrice }},
		ordVAT:        {header: "VAT", width: 16, amount: func(o o) money.Amount { return o.VAT }},
		ordNet:        {header: "Net (after discounts, excl. VAT)", width: 18, amount: func(o o) money.Amount { return o.NetDiscountedPrice }},
		ordAffiliate:  {header: "Affiliate commission", width: 16, amount: func(o o) money.Amount { return o.AffiliateCommission }},
		ordCommission: {header: "2Checkout commission", width: 16, amount: func(o o) money.Amount { return o.TwoCheckoutCommission }},
		ordChargeback: {header: "Chargeback", width: 13, value: func(o o) any {
			if o.ChargebackResolution == "" || o.ChargebackResolution == "NONE" {
				return nil
			}
			return o.ChargebackResolution
		}},
		ordFxRate: {header: "FX rate into " + account, width: 12, fxRate: true},
		ordPayout: {header: "Payout currency", width: 11, value: func(o o) any {
			if o.PayoutCurrency == nil {
				return nil
			}
			return *o.PayoutCurrency
		}},
	}
	for c := ordGross; c <= ordCommission; c++ {
		cols[acctCol(c)] = orderColumn{header: cols[c].header + " in " + account, width: cols[c].width, converted: c}
	}
	return cols
}

// ordersHeader returns the names of the Orders sheet's columns.
func ordersHeader(account string) [ordColumns]string {
	var h [ordColumns]string
	for i, c := range orderColumns(account) {
		h[i] = c.header
	}
	return h
}

// Statuses of the revenue lines. A sale is an order that completed: one
// still COMPLETE, or one refunded later (REFUND), which was a sale at its
// full amount before its refund. The refund reverses the whole order: the
// API 6.0 order carries no refunded amount, so a partial refund, which
// leaves the order COMPLETE, is not seen (see the README).
const (
	statusComplete = "COMPLETE"
	statusRefund   = "REFUND"
)

// revenueStatuses are the statuses of the gross sales.
func revenueStatuses() []string { return []string{statusComplete, statusRefund} }

// Revenue is a group of orders' amounts in one currency, by measure.
type Revenue struct {
	// Paid is what the shoppers paid (gross after discounts, incl. VAT);
	// Net excludes VAT (after discounts).
	Paid, VAT, Net money.Amount
	// Affiliate and Commission are the affiliate and 2Checkout
	// commissions.
	Affiliate, Commission money.Amount
}

// Plus returns r + x, measure by measure.
func (r Revenue) Plus(x Revenue) Revenue {
	return Revenue{r.Paid.Add(x.Paid), r.VAT.Add(x.VAT), r.Net.Add(x.Net), r.Affiliate.Add(x.Affiliate), r.Commission.Add(x.Commission)}
}

// Negated returns -r.
func (r Revenue) Negated() Revenue {
	return Revenue{r.Paid.Neg(), r.VAT.Neg(), r.Net.Neg(), r.Affiliate.Neg(), r.Commission.Neg()}
}

// orderRevenue returns the amounts of o.
func orderRevenue(o *schemas.Order) Revenue {
	return Revenue{o.GrossDiscountedPrice, o.VAT, o.NetDiscountedPrice, o.AffiliateCommission, o.TwoCheckoutCommission}
}

// CurrencyTotals are the month's figures in one currency. Sales are the
// non-test orders of the month whose status counts as a transaction (the
// account's transaction_statuses: the orders the chargeback rate counts).
type CurrencyTotals struct {
	Currency string
	// Orders counts the sales.
	Orders int64
	// Gross (incl. VAT, before discounts) and Discounts are sums over the
	// sales.
	Gross, Discounts money.Amount
	// Refunds counts the non-test orders of the month with status REFUND.
	Refunds int64
	// GrossSales sums the orders of revenueStatuses, refunded or not;
	// Refunded is the REFUND orders' amounts, negative. GrossSales plus
	// Refunded is the revenue after refunds (AfterRefunds).
	GrossSales, Refunded Revenue
	// Disputes counts the disputes opened in the month on orders in this
	// currency, Disputed sums their order amounts (in this currency) and
	// Fees their chargeback fees (in the account currency).
	Disputes int64
	Disputed money.Amount
	Fees     money.Amount
	// Unconverted counts the orders of the figures above (sales and
	// revenueStatuses) that could not be converted into the account
	// currency (see fxRateOf); UnconvertedPaid sums what their shoppers
	// paid, in this currency.
	Unconverted     int64
	UnconvertedPaid money.Amount
}

// AfterRefunds returns the revenue after refunds: GrossSales + Refunded.
func (c CurrencyTotals) AfterRefunds() Revenue { return c.GrossSales.Plus(c.Refunded) }

// ordersSheet streams the Orders sheet: one row per non-test order of the
// month, in date, time and reference order, and keeps the month's totals.
type ordersSheet struct {
	sw     *excelize.StreamWriter
	styles *styles

	cols     [ordColumns]orderColumn
	row      int // last row written
	cells    [ordColumns]excelize.Cell
	values   []any // pointers to cells, as SetRow takes them
	dateID   int
	rateID   int
	moneyIDs map[string]int

	tally  *tally
	tests  int64
	runIDs map[string]bool

	// textID styles the text columns; columns sums the amount columns by
	// currency for the totals rows.
	textID  int
	columns map[string]*columnTotals
}

func newOrdersSheet(f *excelize.File, st *styles, sheet string, statuses []string, account string) (*ordersSheet, error) {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	w := &ordersSheet{sw: sw, styles: st, cols: orderColumns(account), moneyIDs: map[string]int{},
		tally: newTally(statuses, account), runIDs: map[string]bool{}, columns: map[string]*columnTotals{}}
	w.values = make([]any, ordColumns)
	for i := range w.cells {
		w.values[i] = &w.cells[i]
	}
	if w.dateID, err = st.get(kindPlain, fmtDate); err != nil {
		return nil, err
	}
	if w.textID, err = st.get(kindText, ""); err != nil {
		return nil, err
	}
	if w.rateID, err = st.get(kindPlain, fmtFxRate); err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return nil, err
	}
	for i, c := range w.cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return nil, err
		}
	}
	header := make([]any, ordColumns)
	for i, c := range w.cols {
		hid, err := st.get(c.headerKind(i), "")
		if err != nil {
			return nil, err
		}
		header[i] = excelize.Cell{StyleID: hid, Value: c.header}
	}
	// Three lines: "Net (after discounts, excl. VAT)" wraps to three.
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 45}); err != nil {
		return nil, err
	}
	w.row = 1
	return w, nil
}

// moneyStyle returns the style of amounts in currency.
func (w *ordersSheet) moneyStyle(currency string) (int, error) {
	if id, ok := w.moneyIDs[currency]; ok {
		return id, nil
	}
	id, err := w.styles.get(kindPlain, moneyFormat(currency))
	if err != nil {
		return 0, err
	}
	w.moneyIDs[currency] = id
	return id, nil
}

// write adds o: as a row if it is not a test order, and to the totals.
func (w *ordersSheet) write(o *schemas.Order) error {
	w.runIDs[o.RunID] = true
	if o.IsTest {
		w.tests++
		return nil
	}
	mid, err := w.moneyStyle(o.Currency)
	if err != nil {
		return err
	}
	aid, err := w.moneyStyle(w.tally.account)
	if err != nil {
		return err
	}
	conv, rate, converts, err := w.tally.add(o)
	if err != nil {
		return err
	}
	for i := range w.cols {
		oc := &w.cols[i]
		switch {
		case oc.amount != nil:
			v, err := cellAmount(oc.amount(o))
			if err != nil {
				return fmt.Errorf("order %s %s: %w", o.RefNo, oc.header, err)
			}
			w.cells[i] = excelize.Cell{StyleID: mid, Value: v}
		case oc.converted > 0:
			w.cells[i] = excelize.Cell{}
			if !converts {
				break
			}
			v, err := cellAmount(conv[oc.converted])
			if err != nil {
				return fmt.Errorf("order %s %s: %w", o.RefNo, oc.header, err)
			}
			w.cells[i] = excelize.Cell{StyleID: aid, Value: v}
		case oc.fxRate:
			w.cells[i] = excelize.Cell{Value: notConverted}
			if converts {
				v, err := cellRate(rate)
				if err != nil {
					return fmt.Errorf("order %s %s: %w", o.RefNo, oc.header, err)
				}
				w.cells[i] = excelize.Cell{StyleID: w.rateID, Value: v}
			}
		case oc.date != nil:
			w.cells[i] = excelize.Cell{StyleID: w.dateID, Value: dateSerial(oc.date(o))}
		case i > 0:
			w.cells[i] = excelize.Cell{StyleID: w.textID, Value: oc.value(o)}
		default:
			w.cells[i] = excelize.Cell{Value: oc.value(o)}
		}
	}
	w.row++
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	if err := w.sw.SetRow(cell, w.values); err != nil {
		return err
	}

	w.addColumns(o, &conv)
	return nil
}

// finish writes a placeholder row if the month has no orders, sets the
// filter and flushes the sheet. It returns the last detail row.
func (w *ordersSheet) finish(f *excelize.File, sheet string) (int, error) {
	last := w.row
	if last == 1 {
		last = 2
		if err := w.sw.SetRow("A2", []any{"No orders in the month"}); err != nil {
			return 0, err
		}
	}
	end, err := excelize.CoordinatesToCellName(ordColumns, last)
	if err != nil {
		return 0, err
	}
	if err := f.AutoFilter(sheet, "A1:"+end, nil); err != nil {
		return 0, err
	}
	if err := w.totalRows(last); err != nil {
		return 0, err
	}
	if err := w.sw.Flush(); err != nil {
		return 0, err
	}
	return last, nil
}
