package reports

import (
	"fmt"
	"slices"

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
	ordColumns
)

// ordersHeader returns the names of the Orders sheet's columns.
func ordersHeader() [ordColumns]string {
	return [ordColumns]string{
		ordRef:        "Order reference",
		ordDate:       "Order date",
		ordStatus:     "Status",
		ordCurrency:   "Currency",
		ordCountry:    "Country",
		ordGross:      "Gross price",
		ordDiscount:   "Discount",
		ordPaid:       "Paid (gross after discounts)",
		ordVAT:        "VAT",
		ordNet:        "Net (after discounts, excl. VAT)",
		ordAffiliate:  "Affiliate commission",
		ordCommission: "2Checkout commission",
		ordChargeback: "Chargeback",
	}
}

// ordersWidths returns the widths of the Orders sheet's columns.
func ordersWidths() [ordColumns]float64 {
	return [ordColumns]float64{14, 12, 12, 10, 9, 16, 14, 18, 14, 18, 16, 16, 12}
}

// CurrencyTotals are the month's figures in one currency. Sales are the
// non-test orders of the month whose status counts as a transaction (the
// account's transaction_statuses: the orders the chargeback rate counts).
type CurrencyTotals struct {
	Currency string
	// Orders counts the sales.
	Orders int64
	// Sums over the sales.
	Gross, Discounts, VAT, Net, Affiliate, Commission money.Amount
	// Refunds counts the non-test orders of the month with status REFUND;
	// Refunded is what their shoppers had paid.
	Refunds  int64
	Refunded money.Amount
	// Disputes counts the disputes opened in the month on orders in this
	// currency, Disputed sums their order amounts (in this currency) and
	// Fees their chargeback fees (in the account currency).
	Disputes int64
	Disputed money.Amount
	Fees     money.Amount
}

// ordersSheet streams the Orders sheet: one row per non-test order of the
// month, in date, time and reference order, and keeps the month's totals.
type ordersSheet struct {
	sw       *excelize.StreamWriter
	styles   *styles
	statuses []string // the account's transaction statuses

	row      int // last row written
	cells    [ordColumns]excelize.Cell
	values   []any // pointers to cells, as SetRow takes them
	dateID   int
	moneyIDs map[string]int

	totals map[string]*CurrencyTotals
	tests  int64
	runIDs map[string]bool
}

func newOrdersSheet(f *excelize.File, st *styles, sheet string, statuses []string) (*ordersSheet, error) {
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	w := &ordersSheet{sw: sw, styles: st, statuses: statuses, moneyIDs: map[string]int{},
		totals: map[string]*CurrencyTotals{}, runIDs: map[string]bool{}}
	w.values = make([]any, ordColumns)
	for i := range w.cells {
		w.values[i] = &w.cells[i]
	}
	if w.dateID, err = st.get(kindPlain, fmtDate); err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return nil, err
	}
	for i, wd := range ordersWidths() {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, err
		}
	}
	hid, err := st.get(kindHeader, "")
	if err != nil {
		return nil, err
	}
	header := make([]any, ordColumns)
	for i, h := range ordersHeader() {
		header[i] = excelize.Cell{StyleID: hid, Value: h}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{Height: 30}); err != nil {
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
	c := &w.cells
	c[ordRef] = excelize.Cell{Value: o.RefNo}
	c[ordDate] = excelize.Cell{StyleID: w.dateID, Value: dateSerial(o.OrderDate)}
	c[ordStatus] = excelize.Cell{Value: o.Status}
	c[ordCurrency] = excelize.Cell{Value: o.Currency}
	c[ordCountry] = excelize.Cell{}
	if o.Country != nil {
		c[ordCountry].Value = *o.Country
	}
	for _, a := range [...]struct {
		col int
		v   money.Amount
	}{
		{ordGross, o.GrossPrice}, {ordDiscount, o.Discount}, {ordPaid, o.GrossDiscountedPrice},
		{ordVAT, o.VAT}, {ordNet, o.NetDiscountedPrice}, {ordAffiliate, o.AffiliateCommission},
		{ordCommission, o.TwoCheckoutCommission},
	} {
		v, err := cellAmount(a.v)
		if err != nil {
			return fmt.Errorf("order %s %s: %w", o.RefNo, ordersHeader()[a.col], err)
		}
		c[a.col] = excelize.Cell{StyleID: mid, Value: v}
	}
	c[ordChargeback] = excelize.Cell{}
	if o.ChargebackResolution != "" && o.ChargebackResolution != "NONE" {
		c[ordChargeback].Value = o.ChargebackResolution
	}
	w.row++
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	if err := w.sw.SetRow(cell, w.values); err != nil {
		return err
	}

	t := w.totals[o.Currency]
	if t == nil {
		t = &CurrencyTotals{Currency: o.Currency}
		w.totals[o.Currency] = t
	}
	if slices.Contains(w.statuses, o.Status) {
		t.Orders++
		t.Gross = t.Gross.Add(o.GrossPrice)
		t.Discounts = t.Discounts.Add(o.Discount)
		t.VAT = t.VAT.Add(o.VAT)
		t.Net = t.Net.Add(o.NetDiscountedPrice)
		t.Affiliate = t.Affiliate.Add(o.AffiliateCommission)
		t.Commission = t.Commission.Add(o.TwoCheckoutCommission)
	}
	if o.Status == "REFUND" {
		t.Refunds++
		t.Refunded = t.Refunded.Add(o.GrossDiscountedPrice)
	}
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
	if err := w.sw.Flush(); err != nil {
		return 0, err
	}
	return last, nil
}
