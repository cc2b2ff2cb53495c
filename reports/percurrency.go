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

// A summaryLine is a line of the Summary's "By currency" table: a figure,
// or, with sumOf > 0, the sum of the sumOf lines right above it, written
// as the sum of their cells so that the sheet shows how it adds up.
type summaryLine struct {
	perCurrency
	sumOf int
	// acct is the line's figure in the account currency; nil leaves the
	// account-currency columns blank.
	acct *acctLine
}

// refundsOf returns the formula of the REFUND orders' col, negated: a
// refund takes back its order's amount.
func (b *book) refundsOf(col int) func(string) string {
	return func(cur string) string { return "-" + b.salesFormula(col, cur, []string{statusRefund}) }
}

// revenueLines returns the three lines of a measure of Revenue: gross
// sales, refunds (negative), and their sum, after refunds; in the account
// currency too, over the measure's converted Orders column.
func (b *book) revenueLines(col int, gross, refunds, after string, v func(Revenue) money.Amount) []summaryLine {
	fc := b.rep.Account.Currency
	return []summaryLine{
		{perCurrency{gross, kindPlain, b.sumSales(col, revenueStatuses()), func(x CurrencyTotals) any { return v(x.GrossSales) }, moneyFormat}, 0,
			b.acctSum(acctCol(col), revenueStatuses(), func(x AccountTotals) money.Amount { return v(x.GrossSales) })},
		{perCurrency{refunds, kindPlain, b.refundsOf(col), func(x CurrencyTotals) any { return v(x.Refunded) }, moneyFormat}, 0,
			b.acctRefunds(acctCol(col), func(x AccountTotals) money.Amount { return v(x.Refunded) })},
		{perCurrency{after, kindTotal, nil, func(x CurrencyTotals) any { return v(x.AfterRefunds()) }, moneyFormat}, 2,
			&acctLine{value: func(x AccountTotals) any { return v(x.AfterRefunds()) }, format: moneyFormat(fc)}},
	}
}

// Labels of the Summary's revenue lines, defined in its footnotes.
const (
	labelGrossSales     = "Gross sales (paid by shoppers, incl. VAT)"
	labelRefunds        = "Refunds (paid back, incl. VAT)"
	labelSalesAfter     = "Sales after refunds (incl. VAT)"
	labelNetAfter       = "Net after refunds (excl. VAT, after discounts)"
	labelCommission     = "2Checkout commission after refunds"
	labelVATAfter       = "VAT after refunds"
	labelAffiliateAfter = "Affiliate commission after refunds"
)

// summaryFigures are the lines of the Summary's "By currency" table.
func (b *book) summaryFigures() []summaryLine {
	st, fc, refund := b.rep.Account.TransactionStatuses, b.rep.Account.Currency, []string{statusRefund}
	line := func(p perCurrency, a *acctLine) summaryLine { return summaryLine{perCurrency: p, acct: a} }
	lines := []summaryLine{
		line(perCurrency{salesLabel(st), kindPlain, b.countSales(st), func(x CurrencyTotals) any { return x.Orders }, countFormat},
			acctCount(func(x AccountTotals) int64 { return x.Orders })),
		line(perCurrency{labelGross, kindPlain, b.sumSales(ordGross, st), func(x CurrencyTotals) any { return x.Gross }, moneyFormat},
			b.acctSum(ordAcctGross, st, func(x AccountTotals) money.Amount { return x.Gross })),
		line(perCurrency{"Discounts", kindPlain, b.sumSales(ordDiscount, st), func(x CurrencyTotals) any { return x.Discounts }, moneyFormat},
			b.acctSum(ordAcctDiscount, st, func(x AccountTotals) money.Amount { return x.Discounts })),
		line(perCurrency{"Refunded orders", kindPlain, b.countSales(refund), func(x CurrencyTotals) any { return x.Refunds }, countFormat},
			acctCount(func(x AccountTotals) int64 { return x.Refunds })),
	}
	lines = append(lines, b.revenueLines(ordPaid, labelGrossSales, labelRefunds, labelSalesAfter, func(r Revenue) money.Amount { return r.Paid })...)
	lines = append(lines, b.revenueLines(ordNet, "Net of gross sales (excl. VAT, after discounts)", "Net of refunds (excl. VAT)", labelNetAfter,
		func(r Revenue) money.Amount { return r.Net })...)
	lines = append(lines, b.revenueLines(ordVAT, "VAT of gross sales", "VAT of refunds", labelVATAfter, func(r Revenue) money.Amount { return r.VAT })...)
	lines = append(lines, b.revenueLines(ordCommission, "2Checkout commission on gross sales", "2Checkout commission on refunds", labelCommission,
		func(r Revenue) money.Amount { return r.Commission })...)
	lines = append(lines, b.revenueLines(ordAffiliate, "Affiliate commission on gross sales", "Affiliate commission on refunds", labelAffiliateAfter,
		func(r Revenue) money.Amount { return r.Affiliate })...)
	// No blank rows in the table: readers take it to end at the first.
	feeLabel := labelTotalFee + " (" + fc + ")"
	disputes := []summaryLine{
		line(perCurrency{"Chargebacks opened", kindPlain, b.countDisputes(), func(x CurrencyTotals) any { return x.Disputes }, countFormat},
			acctCount(func(x AccountTotals) int64 { return x.Disputes })),
		line(perCurrency{"Disputed amount", kindPlain, b.sumDisputes(cbAmount), func(x CurrencyTotals) any { return x.Disputed }, moneyFormat}, nil),
		line(perCurrency{feeLabel, kindTotal, b.sumDisputes(cbFee), func(x CurrencyTotals) any { return x.Fees }, fixedMoney(fc)},
			&acctLine{value: func(x AccountTotals) any { return x.Fees }, format: moneyFormat(fc)}),
	}
	lines = append(lines, disputes...)
	return append(lines, b.accountLines(feeLabel)...)
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
	// After refunds, a refunded order counts for nothing: the figures
	// are those of the orders still COMPLETE, which is gross sales plus
	// refunds, the Summary's lines after refunds.
	after := func(col int) func(string) string { return b.sumSales(col, []string{statusComplete}) }
	return []splitColumn{
		{perCurrency{"Sales (orders)", kindPlain, b.countSales(st), func(x CurrencyTotals) any { return x.Orders }, countFormat}, 10, true},
		{perCurrency{"Net product price after refunds", kindPlain, after(ordNet), func(x CurrencyTotals) any { return x.AfterRefunds().Net }, moneyFormat}, 20, false},
		{perCurrency{labelCommission, kindPlain, after(ordCommission), func(x CurrencyTotals) any { return x.AfterRefunds().Commission }, moneyFormat}, 20, false},
		{perCurrency{labelVATAfter, kindPlain, after(ordVAT), func(x CurrencyTotals) any { return x.AfterRefunds().VAT }, moneyFormat}, 18, false},
		{perCurrency{labelAffiliateAfter, kindPlain, after(ordAffiliate), func(x CurrencyTotals) any { return x.AfterRefunds().Affiliate }, moneyFormat}, 18, false},
		{perCurrency{"Chargeback fees (" + fc + ")", kindPlain, b.sumDisputes(cbFee), func(x CurrencyTotals) any { return x.Fees }, fixedMoney(fc)}, 18, true},
		{perCurrency{"Disputes", kindPlain, b.countDisputes(), func(x CurrencyTotals) any { return x.Disputes }, countFormat}, 10, true},
	}
}
