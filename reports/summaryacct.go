package reports

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ledgerline/ledgerline/money"
	"github.com/xuri/excelize/v2"
)

// The Summary's columns in the account currency: this month's, formulas
// over the Orders sheet's converted columns (or the sum of the line's
// currency cells), and the previous month's, values read from the
// warehouse (its orders are not in this workbook).

// An acctLine is a Summary line's figure in the account currency.
type acctLine struct {
	// formula is this month's formula, given ref, the cell in the same
	// column of the line labelled; nil: the SUM of the line's currency
	// cells (a count, or fees, already in the account currency).
	formula func(ref func(label string) string) string
	// local formulas refer to their own column's cells only, so the
	// previous month's column is the same formula over its own cells.
	local  bool
	value  func(AccountTotals) any
	format string
}

// Labels of the Summary's account-currency lines.
const (
	labelNetPayout       = "Net payout (net - commissions - fees)"
	labelNotConverted    = "Orders not converted (no usable FX rate)"
	labelNotConvertedPay = "Paid on orders not converted"
	noPreviousData       = "no data in the warehouse"
)

// acctSum is the line summing converted Orders column col over the orders
// whose status is one of statuses.
func (b *book) acctSum(col int, statuses []string, v func(AccountTotals) money.Amount) *acctLine {
	return &acctLine{
		formula: func(func(string) string) string { return b.acctFormula(col, statuses, "", false) },
		value:   func(x AccountTotals) any { return v(x) },
		format:  moneyFormat(b.rep.Account.Currency),
	}
}

// acctRefunds is the line of converted Orders column col over the REFUND
// orders, negated.
func (b *book) acctRefunds(col int, v func(AccountTotals) money.Amount) *acctLine {
	return &acctLine{
		formula: func(func(string) string) string { return "-" + b.acctFormula(col, []string{statusRefund}, "", false) },
		value:   func(x AccountTotals) any { return v(x) },
		format:  moneyFormat(b.rep.Account.Currency),
	}
}

// acctCount is a count line: in the account currency's column, the sum of
// the currencies' counts.
func acctCount(v func(AccountTotals) int64) *acctLine {
	return &acctLine{value: func(x AccountTotals) any { return v(x) }, format: fmtCount}
}

// acctFormula sums (sumCol >= 0) or counts the Orders rows whose status is
// one of statuses and, with curCell set, whose currency is curCell's;
// notConvertedOnly restricts it to the orders not converted.
func (b *book) acctFormula(sumCol int, statuses []string, curCell string, notConvertedOnly bool) string {
	last := b.ordersLast
	stat := colRange(SheetOrders, ordStatus, 2, last)
	terms := make([]string, len(statuses))
	for i, st := range statuses {
		crit := []string{stat, quote(st)}
		if curCell != "" {
			crit = append(crit, colRange(SheetOrders, ordCurrency, 2, last), curCell)
		}
		if notConvertedOnly {
			crit = append(crit, colRange(SheetOrders, ordFxRate, 2, last), quote(notConverted))
		}
		if sumCol < 0 {
			terms[i] = "COUNTIFS(" + strings.Join(crit, ",") + ")"
		} else {
			terms[i] = "SUMIFS(" + colRange(SheetOrders, sumCol, 2, last) + "," + strings.Join(crit, ",") + ")"
		}
	}
	return strings.Join(terms, "+")
}

// figureStatuses are the statuses of the orders the Summary's amounts add
// up: the transaction statuses and revenueStatuses.
func (b *book) figureStatuses() []string {
	st := slices.Clone(b.rep.Account.TransactionStatuses)
	for _, s := range revenueStatuses() {
		if !slices.Contains(st, s) {
			st = append(st, s)
		}
	}
	return st
}

// accountLines are the lines after the chargeback fees: the net payout,
// in the account currency only, and the orders not converted into it.
func (b *book) accountLines(feeLabel string) []summaryLine {
	fc, st := b.rep.Account.Currency, b.figureStatuses()
	payout := &acctLine{
		formula: func(ref func(string) string) string {
			return ref(labelNetAfter) + "-" + ref(labelCommission) + "-" + ref(labelAffiliateAfter) + "-" + ref(feeLabel)
		},
		local: true, value: func(x AccountTotals) any { return x.NetPayout() }, format: moneyFormat(fc),
	}
	return []summaryLine{
		{perCurrency: perCurrency{labelNetPayout, kindTotal, nil, nil, fixedMoney(fc)}, acct: payout},
		{perCurrency: perCurrency{labelNotConverted, kindPlain, func(cur string) string { return b.acctFormula(-1, st, cur, true) },
			func(x CurrencyTotals) any { return x.Unconverted }, countFormat},
			acct: acctCount(func(x AccountTotals) int64 { return x.Unconverted })},
		{perCurrency: perCurrency{labelNotConvertedPay, kindPlain, func(cur string) string { return b.acctFormula(ordPaid, st, cur, true) },
			func(x CurrencyTotals) any { return x.UnconvertedPaid }, moneyFormat}},
	}
}

// acctHeaders are the headers of the account-currency columns.
func (b *book) acctHeaders() []string {
	fc := b.rep.Account.Currency
	return []string{monthName(b.rep.Month) + " in " + fc, monthName(b.rep.Totals.Previous.Month) + " in " + fc}
}

// acctCells returns line p's cells in the two account-currency columns,
// at row at; n is the number of currency columns (B onwards), first the
// line's first row and rows the row of each line by label.
func (b *book) acctCells(p summaryLine, at, n, first int, rows map[string]int) ([]any, error) {
	prev := &b.rep.Totals.Previous
	out := make([]any, 2)
	for k := range out {
		column := col(n + 1 + k)
		totals := b.rep.Totals.Converted
		if k == 1 {
			totals = prev.Totals
		}
		blank, err := b.styled(p.kind, "", nil)
		if err != nil {
			return nil, err
		}
		out[k] = blank
		switch {
		case k == 1 && !prev.HasData:
			if at == first {
				out[k], err = b.styled(p.kind, "", noPreviousData)
			}
		case p.acct == nil:
		case p.sumOf > 0:
			terms := make([]string, p.sumOf)
			for i := range terms {
				terms[i] = fmt.Sprintf("%s%d", column, at-p.sumOf+i)
			}
			out[k], err = b.formula(p.kind, p.acct.format, strings.Join(terms, "+"), p.acct.value(totals))
		case p.acct.local || (k == 0 && p.acct.formula != nil):
			ref := func(label string) string { return fmt.Sprintf("%s%d", column, rows[label]) }
			out[k], err = b.formula(p.kind, p.acct.format, p.acct.formula(ref), p.acct.value(totals))
		case k == 0 && n > 0:
			out[k], err = b.formula(p.kind, p.acct.format, fmt.Sprintf("SUM(B%d:%s%d)", at, col(n), at), p.acct.value(totals))
		default:
			// The previous month's figures, and this month's sums when
			// no currency has a column, are values.
			out[k], err = b.acctValue(p.kind, p.acct.format, p.acct.value(totals))
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// acctValue returns a cell holding v, an int64 or an exact money.Amount.
func (b *book) acctValue(kind styleKind, format string, v any) (excelize.Cell, error) {
	if a, ok := v.(money.Amount); ok {
		cv, err := cellAmount(a)
		if err != nil {
			return excelize.Cell{}, err
		}
		return b.styled(kind, format, cv)
	}
	return b.styled(kind, format, v)
}

// accountNotes are the footnotes of the account-currency columns.
func (b *book) accountNotes() []string {
	fc, t := b.rep.Account.Currency, &b.rep.Totals
	prev := t.Previous
	pm := monthName(prev.Month)
	// One short sentence a row: a long row would widen the printed page.
	notes := []string{
		fmt.Sprintf("The %s columns convert each order with its own FX rate (2Checkout's FxRate) when its payout currency is %s; an order in %s without a rate counts at its amount.", fc, fc, fc),
		fmt.Sprintf("Each amount × the rate is rounded half to even to 6 decimals, order by order (the Orders sheet's \"... in %s\" columns), then summed. Counts and fees are the currencies' sum.", fc),
		fmt.Sprintf("Orders not converted (no FxRate, or paid out in another currency) are counted with what they paid, in their currency; they are in no %s figure and make the report PROVISIONAL.", fc),
		"Disputed amounts are not converted: a dispute's order may be of another month, whose FX rate the Chargeback fees sheet does not carry.",
		fmt.Sprintf("Net payout = net after refunds - 2Checkout commission - affiliate commission (both after refunds) - total chargeback fee, in %s.", fc),
		"It is the month's figures, not 2Checkout's payout statement: reserves, transfer fees and payout dates are not in the warehouse.",
	}
	if !prev.HasData {
		return append(notes, fmt.Sprintf("%s in %s: the warehouse holds no orders or disputes of %s (no run read it), so its figures are unknown, not zero.", pm, fc, pm))
	}
	state := "NO, PROVISIONAL: no successful run has read the whole of " + MonthLabel(prev.Month) + " since it ended"
	if prev.CoveredBy != "" {
		state = "yes: run " + prev.CoveredBy
	}
	if prev.Totals.Unconverted > 0 {
		state += fmt.Sprintf("; %d orders not converted", prev.Totals.Unconverted)
	}
	return append(notes,
		fmt.Sprintf("%s in %s: the month before, read from the warehouse the same way; values, not formulas (its orders are not in this workbook).", pm, fc),
		fmt.Sprintf("%s data complete: %s.", pm, state))
}
