package reports

import (
	"fmt"
	"strings"

	"github.com/ledgerline/ledgerline/money"
	"github.com/xuri/excelize/v2"
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

// A perCurrency is one figure of the month in each currency: a row of the
// Summary's "By currency" table or a column of the Revenue split sheet. The
// figure of a currency is a formula over the detail sheets, for the
// currency named in a cell, with its exact value cached.
type perCurrency struct {
	label string
	// kind styles the figure (and its label, on the Summary).
	kind styleKind
	// formula returns the formula for the currency in cell curCell.
	formula func(curCell string) string
	// value returns the exact value: an int64 count or a money.Amount.
	value func(CurrencyTotals) any
	// format returns the number format of the figure in a currency.
	format func(currency string) string
}

// cell returns the figure's cell for ct, whose code is in cell curCell.
func (p perCurrency) cell(b *book, ct CurrencyTotals, curCell string) (excelize.Cell, error) {
	return b.formula(p.kind, p.format(ct.Currency), p.formula(curCell), p.value(ct))
}

// total returns the sum of the figure over currencies, of the type value
// returns: an int64 or a money.Amount.
func (p perCurrency) total(currencies []CurrencyTotals) any {
	sum := p.value(CurrencyTotals{})
	for _, ct := range currencies {
		switch v := p.value(ct).(type) {
		case int64:
			sum = sum.(int64) + v
		case money.Amount:
			sum = sum.(money.Amount).Add(v)
		}
	}
	return sum
}

// Number formats of a figure: a count, an amount in the figure's currency
// (moneyFormat), an amount in one fixed currency.
func countFormat(string) string { return fmtCount }

func fixedMoney(currency string) func(string) string {
	return func(string) string { return moneyFormat(currency) }
}

// sumSales and countSales are the formulas over the Orders rows whose
// status is one of statuses; sumDisputes and countDisputes those over the
// Chargeback fees rows.
func (b *book) sumSales(col int, statuses []string) func(string) string {
	return func(cur string) string { return b.salesFormula(col, cur, statuses) }
}

func (b *book) countSales(statuses []string) func(string) string { return b.sumSales(-1, statuses) }

func (b *book) sumDisputes(col int) func(string) string {
	return func(cur string) string { return b.disputeFormula(col, cur) }
}

func (b *book) countDisputes() func(string) string { return b.sumDisputes(-1) }

// Labels of the Summary that reconciliation reads back.
const (
	labelTotalFee = "Total chargeback fee"
	// labelFeesNotComputed heads the Summary's row saying why an account
	// without chargeback data has no fee.
	labelFeesNotComputed = "Chargeback fees are not computed for this account"
	labelDisputesOpened  = "Disputes opened"
	labelEstimatedDates  = "Opening date estimated (order date)"
	labelByCurrency      = "By currency"
	labelGross           = "Gross (incl. VAT, before discounts)"
)

// salesLabel is the Summary's label of the sales count.
func salesLabel(statuses []string) string {
	return "Sales (orders with status " + strings.Join(statuses, " or ") + ")"
}

// summaryFigures are the lines of the Summary's "By currency" table.
func (b *book) summaryFigures() []perCurrency {
	st, fc, refund := b.rep.Account.TransactionStatuses, b.rep.Account.Currency, []string{"REFUND"}
	return []perCurrency{
		{salesLabel(st), kindPlain, b.countSales(st), func(x CurrencyTotals) any { return x.Orders }, countFormat},
		{labelGross, kindPlain, b.sumSales(ordGross, st), func(x CurrencyTotals) any { return x.Gross }, moneyFormat},
		{"Discounts", kindPlain, b.sumSales(ordDiscount, st), func(x CurrencyTotals) any { return x.Discounts }, moneyFormat},
		{"VAT", kindPlain, b.sumSales(ordVAT, st), func(x CurrencyTotals) any { return x.VAT }, moneyFormat},
		{"Net (excl. VAT, after discounts)", kindTotal, b.sumSales(ordNet, st), func(x CurrencyTotals) any { return x.Net }, moneyFormat},
		{"Affiliate commission", kindPlain, b.sumSales(ordAffiliate, st), func(x CurrencyTotals) any { return x.Affiliate }, moneyFormat},
		{"2Checkout commission", kindPlain, b.sumSales(ordCommission, st), func(x CurrencyTotals) any { return x.Commission }, moneyFormat},
		{"Refunded orders", kindPlain, b.countSales(refund), func(x CurrencyTotals) any { return x.Refunds }, countFormat},
		{"Refunds (what their shoppers paid)", kindPlain, b.sumSales(ordPaid, refund), func(x CurrencyTotals) any { return x.Refunded }, moneyFormat},
		{"Chargebacks opened", kindPlain, b.countDisputes(), func(x CurrencyTotals) any { return x.Disputes }, countFormat},
		{"Disputed amount", kindPlain, b.sumDisputes(cbAmount), func(x CurrencyTotals) any { return x.Disputed }, moneyFormat},
		{labelTotalFee + " (" + fc + ")", kindTotal, b.sumDisputes(cbFee), func(x CurrencyTotals) any { return x.Fees }, fixedMoney(fc)},
	}
}

// A splitColumn is a figure column of the Revenue split sheet.
type splitColumn struct {
	perCurrency
	width float64
	// summed columns have a SUM in the Total row.
	summed bool
}

// splitColumns are the Revenue split's figure columns, after its Month and
// Currency columns.
func (b *book) splitColumns() []splitColumn {
	st, fc := b.rep.Account.TransactionStatuses, b.rep.Account.Currency
	return []splitColumn{
		{perCurrency{"Sales (orders)", kindPlain, b.countSales(st), func(x CurrencyTotals) any { return x.Orders }, countFormat}, 10, true},
		{perCurrency{"Net product price", kindPlain, b.sumSales(ordNet, st), func(x CurrencyTotals) any { return x.Net }, moneyFormat}, 20, false},
		{perCurrency{"2Checkout commission", kindPlain, b.sumSales(ordCommission, st), func(x CurrencyTotals) any { return x.Commission }, moneyFormat}, 20, false},
		{perCurrency{"VAT", kindPlain, b.sumSales(ordVAT, st), func(x CurrencyTotals) any { return x.VAT }, moneyFormat}, 18, false},
		{perCurrency{"Affiliate commission", kindPlain, b.sumSales(ordAffiliate, st), func(x CurrencyTotals) any { return x.Affiliate }, moneyFormat}, 18, false},
		{perCurrency{"Chargeback fees (" + fc + ")", kindPlain, b.sumDisputes(cbFee), func(x CurrencyTotals) any { return x.Fees }, fixedMoney(fc)}, 18, true},
		{perCurrency{"Disputes", kindPlain, b.countDisputes(), func(x CurrencyTotals) any { return x.Disputes }, countFormat}, 10, true},
	}
}
