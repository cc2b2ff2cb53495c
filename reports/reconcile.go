package reports

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// MismatchError is a reconciliation failure: the files do not say what the
// warehouse says. Nothing may be sent.
type MismatchError struct {
	Account, Month string
	// Mismatches describes each difference.
	Mismatches []string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("reports: account %s, %s: the report does not reconcile with the warehouse (%d differences): %s",
		e.Account, e.Month, len(e.Mismatches), strings.Join(e.Mismatches, "; "))
}

// figures are the totals that reconciliation compares, from one source.
// Nil maps and unset has* flags are figures the source does not hold.
type figures struct {
	orderRows int64                   // non-test orders of the month
	sales     map[string]int64        // sales by currency
	gross     map[string]money.Amount // gross of the sales by currency
	// grossSales and refunds are what shoppers paid, by currency, on the
	// orders of revenueStatuses and (negative) on the REFUND orders.
	grossSales, refunds map[string]money.Amount
	disputes            int64
	fees                money.Amount
	// payout is the net payout in the account currency and unconverted
	// counts the orders not converted into it (see fxRateOf).
	payout      money.Amount
	unconverted int64

	hasOrders, hasDisputes, hasFees, hasPayout bool
	// missing lists what the source should hold and does not.
	missing []string
}

func newFigures() *figures {
	return &figures{sales: map[string]int64{}, gross: map[string]money.Amount{},
		grossSales: map[string]money.Amount{}, refunds: map[string]money.Amount{}}
}

// Reconcile checks rep's files against the warehouse before delivery. It
// recomputes the month's totals from the warehouse with its own reading of
// the rows (not the sheet writer's), then reads back what was written: the
// Orders and Chargeback fees sheets' detail rows, the values of the totals
// on the Summary and Chargeback fees sheets, the ranges the totals'
// formulas cover, the CSV attachment, and the totals the message body is
// made from. Every one must equal the warehouse's: orders, sales, gross,
// gross sales and refunds per currency, disputes, the "Total chargeback
// fee", and the net payout in the account currency with the number of
// orders not converted into it; and the Summary's sales after refunds must
// be its gross sales plus refunds. A difference is a *MismatchError.
func Reconcile(ctx context.Context, wh load.Reader, rep *Report) error {
	want, err := warehouseFigures(ctx, wh, rep)
	if err != nil {
		return fmt.Errorf("reports: reconcile: %w", err)
	}
	var diffs []string
	compare := func(source string, got *figures) {
		if got == nil {
			return
		}
		for _, m := range got.missing {
			diffs = append(diffs, source+": "+m)
		}
		if got.hasOrders && got.orderRows != want.orderRows {
			diffs = append(diffs, fmt.Sprintf("%s: %d orders, warehouse %d", source, got.orderRows, want.orderRows))
		}
		if got.sales != nil {
			for _, c := range unionKeys(want.sales, got.sales) {
				if got.sales[c] != want.sales[c] {
					diffs = append(diffs, fmt.Sprintf("%s: %s sales %d, warehouse %d", source, c, got.sales[c], want.sales[c]))
				}
			}
		}
		for _, a := range []struct {
			name      string
			got, want map[string]money.Amount
		}{{"gross", got.gross, want.gross}, {"gross sales", got.grossSales, want.grossSales}, {"refunds", got.refunds, want.refunds}} {
			if a.got == nil {
				continue
			}
			for _, c := range unionKeys(a.want, a.got) {
				if a.got[c] != a.want[c] {
					diffs = append(diffs, fmt.Sprintf("%s: %s %s %s, warehouse %s", source, c, a.name, a.got[c], a.want[c]))
				}
			}
		}
		if got.hasDisputes && got.disputes != want.disputes {
			diffs = append(diffs, fmt.Sprintf("%s: %d disputes, warehouse %d", source, got.disputes, want.disputes))
		}
		if got.hasFees && got.fees != want.fees {
			diffs = append(diffs, fmt.Sprintf("%s: total chargeback fee %s, warehouse %s", source, got.fees, want.fees))
		}
		if got.hasPayout && (got.payout != want.payout || got.unconverted != want.unconverted) {
			diffs = append(diffs, fmt.Sprintf("%s: net payout %s with %d orders not converted, warehouse %s with %d",
				source, got.payout, got.unconverted, want.payout, want.unconverted))
		}
	}

	compare("report totals", totalsFigures(&rep.Totals))
	book, err := workbookFigures(rep)
	if err != nil {
		return fmt.Errorf("reports: reconcile: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(book)) {
		compare(name, book[name])
	}
	csvFig, err := csvFigures(rep.CSV)
	if err != nil {
		return fmt.Errorf("reports: reconcile: %w", err)
	}
	compare("CSV", csvFig)
	if len(diffs) > 0 {
		return &MismatchError{Account: rep.Account.Name, Month: MonthLabel(rep.Month), Mismatches: diffs}
	}
	return nil
}

func unionKeys[V any](a, b map[string]V) []string {
	m := maps.Clone(a)
	for k, v := range b {
		m[k] = v
	}
	return slices.Sorted(maps.Keys(m))
}

// warehouseFigures reads the month's orders and disputes of the account
// straight from the warehouse.
func warehouseFigures(ctx context.Context, wh load.Reader, rep *Report) (*figures, error) {
	a := rep.Account
	first, last := rep.Month, LastOfMonth(rep.Month)
	fig := newFigures()
	fig.hasOrders, fig.hasDisputes, fig.hasFees, fig.hasPayout = true, true, true, true
	ot := schemas.Orders()
	dates, err := wh.Partitions(ctx, ot)
	if err != nil {
		return nil, err
	}
	for _, d := range dates {
		if d.Before(first) || d.After(last) {
			continue
		}
		err := wh.ReadPartition(ctx, ot, d, func(row any) error {
			o := row.(*schemas.Order)
			if o.MerchantCode != a.MerchantCode || o.IsTest {
				return nil
			}
			fig.orderRows++
			if slices.Contains(a.TransactionStatuses, o.Status) {
				fig.sales[o.Currency]++
				fig.gross[o.Currency] = fig.gross[o.Currency].Add(o.GrossPrice)
			}
			addRevenue(fig, o.Status, o.Currency, o.GrossDiscountedPrice)
			return addPayout(fig, o, a)
		})
		if err != nil {
			return nil, err
		}
	}
	ct := schemas.Chargebacks()
	if dates, err = wh.Partitions(ctx, ct); err != nil {
		return nil, err
	}
	for _, d := range dates {
		if d.Before(first) || d.After(last) {
			continue
		}
		err := wh.ReadPartition(ctx, ct, d, func(row any) error {
			c := row.(*schemas.Chargeback)
			if c.MerchantCode != a.MerchantCode {
				return nil
			}
			if c.FeeCurrency != a.Currency {
				return fmt.Errorf("dispute %s: fee in %s, account currency %s", c.RefNo, c.FeeCurrency, a.Currency)
			}
			fig.disputes++
			fig.fees = fig.fees.Add(c.FeeAmount)
			fig.payout = fig.payout.Add(c.FeeAmount.Neg())
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return fig, nil
}

// addRevenue adds what the shopper paid on an order of status and
// currency to fig's gross sales and refunds.
func addRevenue(fig *figures, status, currency string, paid money.Amount) {
	if slices.Contains(revenueStatuses(), status) {
		fig.grossSales[currency] = fig.grossSales[currency].Add(paid)
	}
	if status == statusRefund {
		fig.refunds[currency] = fig.refunds[currency].Add(paid.Neg())
	}
}

// totalsFigures are the figures the message body is made from.
func totalsFigures(t *Totals) *figures {
	fig := newFigures()
	fig.hasOrders, fig.hasDisputes, fig.hasFees = true, true, true
	fig.orderRows = t.OrderRows
	var disputes int64
	var fees money.Amount
	for _, c := range t.Currencies {
		if c.Orders > 0 || c.Gross != 0 {
			fig.sales[c.Currency] = c.Orders
			fig.gross[c.Currency] = c.Gross
		}
		fig.grossSales[c.Currency], fig.refunds[c.Currency] = c.GrossSales.Paid, c.Refunded.Paid
		if after := c.AfterRefunds().Paid; after != c.GrossSales.Paid.Add(c.Refunded.Paid) {
			fig.missing = append(fig.missing, fmt.Sprintf("%s sales after refunds %s are not gross sales + refunds", c.Currency, after))
		}
		disputes += c.Disputes
		fees = fees.Add(c.Fees)
	}
	fig.disputes, fig.fees = t.Disputes, t.ChargebackFees
	fig.payout, fig.unconverted, fig.hasPayout = t.Converted.NetPayout(), t.Converted.Unconverted, true
	if disputes != t.Disputes || fees != t.ChargebackFees {
		fig.missing = append(fig.missing, fmt.Sprintf("currencies add up to %d disputes and %s in fees", disputes, fees))
	}
	return fig
}

// workbookFigures reads the workbook back: its detail rows and the values
// its totals hold, with a reader of its own (sheetscan.go).
func workbookFigures(rep *Report) (map[string]*figures, error) {
	x, err := openXLSX(rep.Workbook)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	if !slices.Equal(x.sheets, Sheets()) {
		return nil, fmt.Errorf("workbook has sheets %q, want %q", x.sheets, Sheets())
	}
	statuses := rep.Account.TransactionStatuses
	orders, ordersLast, err := ordersSheetFigures(x, statuses, rep.Account.Currency)
	if err != nil {
		return nil, err
	}
	fees, feesTotal, err := feesSheetFigures(x)
	if err != nil {
		return nil, err
	}
	summary, err := summarySheetFigures(x, statuses, ordersLast)
	if err != nil {
		return nil, err
	}
	return map[string]*figures{
		"Orders sheet":                orders,
		"Chargeback fees sheet":       fees,
		"Chargeback fees sheet total": feesTotal,
		"Summary sheet":               summary,
	}, nil
}

// ordersSheetFigures reads the Orders sheet's rows, and returns the last.
func ordersSheetFigures(x *xlsxFile, statuses []string, account string) (*figures, int, error) {
	orders := newFigures()
	orders.hasOrders = true
	ordersLast := 1
	header := ordersHeader(account)
	err := x.rows(SheetOrders, func(r int, cells []sheetCell) error {
		if r == 1 {
			for i, h := range header {
				if at(cells, i) != h {
					return fmt.Errorf("orders header column %d is %q, want %q", i+1, at(cells, i), h)
				}
			}
			return nil
		}
		cur := at(cells, ordCurrency)
		if cur == "" || at(cells, ordRef) == labelOrdersTotal {
			return nil // the placeholder of an empty month, or a totals row
		}
		ordersLast = r
		orders.orderRows++
		if slices.Contains(statuses, at(cells, ordStatus)) {
			g, err := parseCell(at(cells, ordGross))
			if err != nil {
				return fmt.Errorf("orders row %d gross: %w", r, err)
			}
			orders.sales[cur]++
			orders.gross[cur] = orders.gross[cur].Add(g)
		}
		if st := at(cells, ordStatus); slices.Contains(revenueStatuses(), st) {
			paid, err := parseCell(at(cells, ordPaid))
			if err != nil {
				return fmt.Errorf("orders row %d paid: %w", r, err)
			}
			addRevenue(orders, st, cur, paid)
		}
		return nil
	})
	return orders, ordersLast, err
}

// feesSheetFigures reads the Chargeback fees sheet's rows and its total row,
// whose formula must cover the rows.
func feesSheetFigures(x *xlsxFile) (fees, feesTotal *figures, err error) {
	fees = &figures{hasDisputes: true, hasFees: true}
	feesTotal = &figures{hasFees: true}
	feesLast, totalFormula, totalRow := 1, "", 0
	err = x.rows(SheetChargebackFees, func(r int, cells []sheetCell) error {
		switch {
		case r == 1:
			return nil
		case at(cells, cbRef) == labelTotalFee:
			totalRow = r
			v, err := parseCell(at(cells, cbFee))
			if err != nil {
				return fmt.Errorf("chargeback fees total: %w", err)
			}
			feesTotal.fees = v
			if cbFee < len(cells) {
				totalFormula = cells[cbFee].formula
			}
		case at(cells, cbFeeCurrency) != "":
			feesLast = r
			v, err := parseCell(at(cells, cbFee))
			if err != nil {
				return fmt.Errorf("chargeback fees row %d: %w", r, err)
			}
			fees.disputes++
			fees.fees = fees.fees.Add(v)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if totalRow == 0 {
		feesTotal.missing = append(feesTotal.missing, "no total row")
	} else if !strings.Contains(totalFormula, fmt.Sprintf("$%s$2:$%s$%d", col(cbFee), col(cbFee), max(feesLast, 2))) {
		feesTotal.missing = append(feesTotal.missing, fmt.Sprintf("total formula %q does not cover the rows 2 to %d", totalFormula, feesLast))
	}
	return fees, feesTotal, nil
}

// A summaryRead is a figure of the Summary that reconciliation reads back:
// the row with label, and where its value goes. Single figures are in
// column B; figures by currency in the currency's column of the "By
// currency" table, with formulas that must cover every Orders row.
type summaryRead struct {
	label string
	// name names a figure by currency in messages.
	name string
	set  func(f *figures, currency string, v money.Amount)
}

// count is a count read as an amount.
func count(v money.Amount) int64 { return v.Units() / money.FromInt(1).Units() }

// summaryReads are the Summary's single figures that are reconciled.
func summaryReads() []summaryRead {
	return []summaryRead{
		{label: labelTotalFee, set: func(f *figures, _ string, v money.Amount) { f.fees = v }},
		{label: labelDisputesOpened, set: func(f *figures, _ string, v money.Amount) { f.disputes = count(v) }},
	}
}

// currencyReads are the Summary's figures by currency that are reconciled.
func currencyReads(statuses []string) []summaryRead {
	return []summaryRead{
		{salesLabel(statuses), "sales", func(f *figures, c string, v money.Amount) { f.sales[c] = count(v) }},
		{labelGross, "gross", func(f *figures, c string, v money.Amount) { f.gross[c] = v }},
		{labelGrossSales, "gross sales", func(f *figures, c string, v money.Amount) { f.grossSales[c] = v }},
		{labelRefunds, "refunds", func(f *figures, c string, v money.Amount) { f.refunds[c] = v }},
	}
}

// summarySheetFigures reads the Summary's totals: summaryReads and, for
// each currency, currencyReads. (Long: one straight pass over the sheet's
// rows, each kind of row read in place; split up it would pass the state
// of the pass around.)
func summarySheetFigures(x *xlsxFile, statuses []string, ordersLast int) (*figures, error) {
	summary := newFigures()
	summary.hasDisputes, summary.hasFees = true, true
	var rows [][]sheetCell
	err := x.rows(SheetSummary, func(_ int, cells []sheetCell) error {
		rows = append(rows, slices.Clone(cells))
		return nil
	})
	if err != nil {
		return nil, err
	}
	find := func(label string) []sheetCell {
		for _, r := range rows {
			if at(r, 0) == label {
				return r
			}
		}
		summary.missing = append(summary.missing, fmt.Sprintf("no row %q", label))
		return nil
	}
	value := func(label, cell string) (money.Amount, bool) {
		if cell == "" {
			summary.missing = append(summary.missing, label+": no value")
			return 0, false
		}
		v, err := parseCell(cell)
		if err != nil {
			summary.missing = append(summary.missing, fmt.Sprintf("%s: %v", label, err))
			return 0, false
		}
		return v, true
	}
	for _, rd := range summaryReads() {
		if r := find(rd.label); r != nil {
			if v, ok := value(rd.label, at(r, 1)); ok {
				rd.set(summary, "", v)
			}
		}
	}
	hdr := find(labelByCurrency)
	reads := currencyReads(statuses)
	found := make([][]sheetCell, len(reads))
	for i, rd := range reads {
		found[i] = find(rd.label)
	}
	rangeEnd := fmt.Sprintf("$%s$2:$%s$%d", col(ordCurrency), col(ordCurrency), max(ordersLast, 2))
	for i := 1; i < len(hdr); i++ {
		cur := hdr[i].value
		if !isCurrencyCode(cur) {
			continue // blank, or a column in the account currency
		}
		for j, rd := range reads {
			if v, ok := value(cur+" "+rd.name, at(found[j], i)); ok {
				rd.set(summary, cur, v)
			}
		}
		for _, r := range found {
			if i < len(r) && !strings.Contains(r[i].formula, rangeEnd) {
				summary.missing = append(summary.missing, fmt.Sprintf("%s %s formula %q does not cover the Orders rows 2 to %d", at(r, 0), cur, r[i].formula, ordersLast))
			}
		}
	}
	// The net payout and the orders not converted, in the first column
	// of the account currency.
	summary.hasPayout = true
	acct := 0
	for i := 1; i < len(hdr) && acct == 0; i++ {
		if v := hdr[i].value; v != "" && !isCurrencyCode(v) {
			acct = i
		}
	}
	if acct == 0 {
		summary.missing = append(summary.missing, "no column in the account currency")
	}
	for _, rd := range []struct {
		label string
		set   func(money.Amount)
	}{
		{labelNetPayout, func(v money.Amount) { summary.payout = v }},
		{labelNotConverted, func(v money.Amount) { summary.unconverted = count(v) }},
	} {
		if r := find(rd.label); r != nil && acct > 0 {
			if v, ok := value(rd.label, at(r, acct)); ok {
				rd.set(v)
			}
		}
	}
	// Sales after refunds must be gross sales + refunds, as read.
	if after := find(labelSalesAfter); after != nil {
		for i := 1; i < len(hdr); i++ {
			if cur := hdr[i].value; isCurrencyCode(cur) {
				v, ok := value(cur+" sales after refunds", at(after, i))
				if want := summary.grossSales[cur].Add(summary.refunds[cur]); ok && v != want {
					summary.missing = append(summary.missing, fmt.Sprintf("%s sales after refunds %s, gross sales + refunds %s", cur, v, want))
				}
			}
		}
	}
	// Currencies with disputes but no sales hold 0 sales: compare like the
	// warehouse, which has no entry for them.
	for c, n := range summary.sales {
		if n == 0 && summary.gross[c] == 0 {
			delete(summary.sales, c)
			delete(summary.gross, c)
		}
	}
	return summary, nil
}

// isCurrencyCode reports whether s is a currency code, three capitals: a
// per-currency column of the Summary's table.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// at returns the value of cell i of a row, "" when absent.
func at(cells []sheetCell, i int) string {
	if i < len(cells) {
		return cells[i].value
	}
	return ""
}

// parseCell reads a numeric cell's text exactly.
func parseCell(s string) (money.Amount, error) {
	if s == "" {
		return 0, errors.New("empty cell")
	}
	v, rounded, err := money.Parse(s)
	if err != nil {
		return 0, err
	}
	if rounded {
		return 0, fmt.Errorf("%s has more than %d decimals", s, money.Scale)
	}
	return v, nil
}

// csvFigures reads the CSV attachment back.
func csvFigures(path string) (*figures, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	fig := &figures{hasDisputes: true, hasFees: true}
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	if !slices.Equal(head, csvHeader()) {
		return nil, fmt.Errorf("csv header %q", head)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return fig, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := parseCell(rec[7])
		if err != nil {
			return nil, fmt.Errorf("csv line %d fee: %w", fig.disputes+2, err)
		}
		fig.disputes++
		fig.fees = fig.fees.Add(v)
	}
}
