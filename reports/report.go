// Package reports builds the monthly accounting report of an account from
// the warehouse (so that it agrees with what analysts query): an Excel
// workbook, the "orders with chargeback fees balance.csv" attachment that
// 2Checkout's own accounting email carries, a reconciliation of both
// against the warehouse, and their delivery by SMTP or as an .eml file in
// an outbox directory.
//
// Reports read the warehouse only through load.Reader, so they work the
// same on the local Parquet directory and on BigQuery. Money never passes
// through a float64 on its way to a total: see cellAmount for the one place
// where excelize needs a float64 to write a numeric cell, and why that cell
// still holds the exact amount.
package reports

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
	"github.com/xuri/excelize/v2"
)

// CSVName is the name of the chargeback fees attachment, as 2Checkout names
// it.
const CSVName = "orders with chargeback fees balance.csv"

// DefaultDir is where reports are written unless told otherwise.
const DefaultDir = "./out/reports"

// Sheet names, in workbook order.
const (
	SheetSummary        = "Summary"
	SheetChargebackFees = "Chargeback fees"
	SheetChargebackRate = "Chargeback rate"
	SheetRevenueSplit   = "Revenue split"
	SheetSubscriptions  = "Subscriptions"
	SheetOrders         = "Orders"
)

// Sheets returns the workbook's sheet names in order.
func Sheets() []string {
	return []string{SheetSummary, SheetChargebackFees, SheetChargebackRate, SheetRevenueSplit, SheetSubscriptions, SheetOrders}
}

// defaultStatuses are the transaction statuses when an account lists none.
func defaultStatuses() []string { return config.DefaultTransactionStatuses() }

// Request says which report to build.
type Request struct {
	// Warehouse is read for the account's rows.
	Warehouse load.Reader
	Account   config.Account
	// Month is any day of the report's month, in the account's reporting
	// time zone (order dates are already in it).
	Month civil.Date
	// RunID identifies the report's run; it is shown on the Summary sheet.
	RunID string
	// Dir is the reports directory; the files go to Dir/<account>/<YYYY-MM>/.
	// Empty means DefaultDir.
	Dir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Report is a built report: where its files are and its figures.
type Report struct {
	Account     config.Account
	Month       civil.Date // first day
	RunID       string
	GeneratedAt time.Time
	// WarehouseRuns are the runs that wrote the rows the report read.
	WarehouseRuns []string
	// Workbook and CSV are the paths of the files.
	Workbook, CSV string
	Totals        Totals
	// Revision, when set, says that the message revises one sent before:
	// its subject says REVISED and its body lists the changed figures.
	Revision *Revision
}

// WorkbookName returns the workbook's file name.
func (r *Report) WorkbookName() string { return filepath.Base(r.Workbook) }

// Totals are a report's figures, exact, as the sheet writer computed them.
type Totals struct {
	// Currencies lists the month's currencies: the account's first, then
	// by code.
	Currencies []CurrencyTotals
	// OrderRows counts the rows of the Orders sheet: the month's non-test
	// orders, every status. TestOrders counts the test orders left out.
	OrderRows, TestOrders int64
	// Disputes counts the disputes opened in the month; ChargebackFees is
	// their "Total chargeback fee", in FeeCurrency (the account currency).
	Disputes       int64
	ChargebackFees money.Amount
	FeeCurrency    string
	// EstimatedDisputes counts the month's disputes whose opened_on is
	// their order's date (basis order_date: open when a run first read the
	// order), an estimate; EstimatedFees are their fees.
	EstimatedDisputes int64
	EstimatedFees     money.Amount
	// FeeBases say which chargeback rate and tier set the month's fees.
	FeeBases []FeeBasis
	// Snapshot is the date of the subscriptions snapshot used; zero when
	// the month has none.
	Snapshot civil.Date
	// Subscriptions are the subscription figures of Snapshot, by product.
	Subscriptions []ProductSubscriptions
	// Complete says that a successful run read the whole month after it
	// ended: CoveredBy, for business date CoveredThrough. Otherwise the
	// report is provisional: orders or disputes of the month may be
	// missing from the warehouse.
	Complete       bool
	CoveredBy      string
	CoveredThrough civil.Date
	// Fallbacks say which of the month's fees rest on a fallback instead
	// of a known chargeback rate; any makes the report provisional even
	// when a run covered the month.
	Fallbacks []string
	// Converted are the month's figures in the account currency; orders
	// that could not be converted (Converted.Unconverted) make the report
	// provisional. Previous are those of the month before.
	Converted AccountTotals
	Previous  PreviousMonth
}

// Currency returns the totals of currency c.
func (t *Totals) Currency(c string) (CurrencyTotals, bool) {
	for _, ct := range t.Currencies {
		if ct.Currency == c {
			return ct, true
		}
	}
	return CurrencyTotals{}, false
}

// FeeBasis is what set the fee of a group of disputes: the chargeback rate
// of the month before they were opened and the tier it fell in.
type FeeBasis struct {
	// RateMonth is the month (YYYY-MM) whose rate chose the fee.
	RateMonth string
	// Rate is that month's chargeback rate; nil when the warehouse has
	// none for it.
	Rate *money.Rate
	// Opened and Transactions are the rate's counts, when the warehouse has
	// the month's rate row.
	Opened, Transactions int64
	HaveCounts           bool
	// Tier describes the tier, e.g. "below 0.65%".
	Tier string
	// Fee is the fee per dispute, in the account currency.
	Fee money.Amount
	// Disputes counts the month's disputes it applies to; 0 when no
	// dispute was opened and the basis is the one the month would use.
	Disputes int64
	// Rule is the fee rule as the warehouse recorded it.
	Rule string
}

// ProductSubscriptions are the subscription figures of one product.
type ProductSubscriptions struct {
	ProductCode, ProductName string
	// Active subscriptions are enabled at the snapshot; AutoRenewing ones
	// are active with automatic renewal on. New ones started in the month;
	// Expired ones expired in the month, on or before the snapshot date,
	// and are no longer enabled. Units sums the quantity of the active.
	Active, New, Expired, AutoRenewing, Units int64
}

// Build reads the month from the warehouse and writes the workbook and the
// CSV into the request's directory, each atomically (temporary file, sync,
// rename). It does not reconcile or deliver: see Reconcile and Mailer.
func Build(ctx context.Context, req Request) (*Report, error) {
	a := req.Account
	switch {
	case req.Warehouse == nil:
		return nil, errors.New("reports: no warehouse")
	case a.Name == "" || a.MerchantCode == "":
		return nil, errors.New("reports: account has no name or merchant code")
	case a.Currency == "":
		return nil, fmt.Errorf("reports: account %s has no currency", a.Name)
	case !req.Month.IsValid():
		return nil, fmt.Errorf("reports: invalid month %v", req.Month)
	}
	if a.ReportingTimezone == nil {
		a.ReportingTimezone = time.UTC
	}
	if len(a.TransactionStatuses) == 0 {
		a.TransactionStatuses = defaultStatuses()
	}
	now := req.Now
	if now == nil {
		now = time.Now
	}
	month := firstOfMonth(req.Month)
	dir := req.Dir
	if dir == "" {
		dir = DefaultDir
	}
	dir = filepath.Join(dir, a.Name, MonthLabel(month))
	rep := &Report{
		Account: a, Month: month, RunID: req.RunID,
		GeneratedAt: now().Truncate(time.Second),
		Workbook:    filepath.Join(dir, workbookName(a.Name, month, false)),
		CSV:         filepath.Join(dir, CSVName),
	}
	data, err := readMonth(ctx, req.Warehouse, a.MerchantCode, month)
	if err != nil {
		return nil, fmt.Errorf("reports: account %s, %s: %w", a.Name, MonthLabel(month), err)
	}
	if data.previous, err = readPrevious(ctx, req.Warehouse, a, month); err != nil {
		return nil, fmt.Errorf("reports: account %s, %s: %w", a.Name, MonthLabel(month), err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	if err := writeWorkbook(ctx, req.Warehouse, rep, data); err != nil {
		return nil, fmt.Errorf("reports: account %s, %s: workbook: %w", a.Name, MonthLabel(month), err)
	}
	if err := writeFileAtomic(rep.CSV, func(f *os.File) error { return writeCSV(f, data.chargebacks) }); err != nil {
		return nil, fmt.Errorf("reports: account %s, %s: csv: %w", a.Name, MonthLabel(month), err)
	}
	return rep, nil
}

// writeWorkbook builds the workbook of rep from the warehouse and data and
// saves it at rep.Workbook, filling rep's totals.
func writeWorkbook(ctx context.Context, wh load.Reader, rep *Report, data *monthData) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	for _, s := range Sheets()[1:] {
		if _, err := f.NewSheet(s); err != nil {
			return err
		}
	}
	b := &book{f: f, st: newStyles(f), rep: rep, data: data}
	a := rep.Account

	// Orders first: the other sheets' formulas refer to its rows.
	b.status()
	if err := b.pageSetup(SheetOrders, orderWidths(a.Currency), 1); err != nil {
		return err
	}
	ow, err := newOrdersSheet(f, b.st, SheetOrders, a.TransactionStatuses, a.Currency)
	if err != nil {
		return err
	}
	err = eachDayOfOrders(ctx, wh, a.MerchantCode, rep.Month, LastOfMonth(rep.Month), func(day []*schemas.Order) error {
		for _, o := range day {
			if err := ow.write(o); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	if b.ordersLast, err = ow.finish(f, SheetOrders); err != nil {
		return err
	}
	b.collect(ow)

	steps := []func() error{b.chargebackFees, b.revenueSplit, b.subscriptions, b.chargebackRate, b.summary}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	full := true
	if err := f.SetCalcProps(&excelize.CalcPropsOptions{FullCalcOnLoad: &full}); err != nil {
		return err
	}
	// A provisional workbook says so in its file name and title, where
	// it is seen before it is opened (issue 14, scope 1); the other name's
	// file, from an earlier build of the month, goes, so the folder never
	// holds both.
	provisional := len(rep.Provisional()) > 0
	title := fmt.Sprintf("Accounting report %s %s", a.Name, MonthLabel(rep.Month))
	if provisional {
		title += " PROVISIONAL"
	}
	dir := filepath.Dir(rep.Workbook)
	rep.Workbook = filepath.Join(dir, workbookName(a.Name, rep.Month, provisional))
	stale := filepath.Join(dir, workbookName(a.Name, rep.Month, !provisional))
	err = f.SetDocProps(&excelize.DocProperties{
		Title:   title,
		Subject: "Monthly accounting report",
		Creator: "ledgerline",
		Created: rep.GeneratedAt.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return err
	}
	if err := saveWorkbook(f, rep.Workbook); err != nil {
		return err
	}
	if err := os.Remove(stale); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// workbookName is the file name of an account's workbook for month.
func workbookName(account string, month civil.Date, provisional bool) string {
	if provisional {
		return fmt.Sprintf("accounting %s %s PROVISIONAL.xlsx", account, MonthLabel(month))
	}
	return fmt.Sprintf("accounting %s %s.xlsx", account, MonthLabel(month))
}

// saveWorkbook writes f at path atomically, streaming the zip straight to
// the file. excelize's own WriteTo and SaveAs first build the whole
// compressed file in a bytes.Buffer (70 MB and a doubling buffer for a
// million orders); a zip writer of our own on the file (excelize's
// SetZipWriter) avoids that copy, and the buffer they then write is empty.
// excelize's fix-up of local headers for parts over 4 GB (ZIP64), which it
// applies to that buffer, is lost: a sheet that large (some eight million
// orders) is beyond what this report supports.
func saveWorkbook(f *excelize.File, path string) error {
	return writeFileAtomic(path, func(out *os.File) error {
		bw := bufio.NewWriterSize(out, 1<<20)
		f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(bw) })
		var rest bytes.Buffer
		if _, err := f.WriteTo(&rest); err != nil {
			return err
		}
		if rest.Len() != 0 {
			return fmt.Errorf("excelize wrote %d bytes past its zip writer", rest.Len())
		}
		return bw.Flush()
	})
}

// status fills what makes the report complete or PROVISIONAL: the fee
// bases, their fallbacks and the run that covered the month. It needs only
// the month's data, so that every sheet, the Orders sheet written first
// included, can say PROVISIONAL on its printed pages. One reason is known
// only after the Orders sheet, orders that could not be converted: the
// Orders pages' header does not show it (the Summary's title and every
// other sheet do); collect sets Complete from all of them.
func (b *book) status() {
	rep, a := b.rep, b.rep.Account
	t := &rep.Totals
	t.FeeBases = feeBases(a, rep.Month, b.data)
	if a.ChargebackFees.Model == config.FeeModelThreshold {
		t.Fallbacks = feeFallbacks(t.FeeBases)
	}
	if c := b.data.covering; c != nil {
		t.CoveredBy, t.CoveredThrough = c.RunID, c.BusinessDate
	}
}

// collect fills the report's totals from what the Orders sheet wrote and the
// month's disputes.
func (b *book) collect(ow *ordersSheet) {
	rep, a := b.rep, b.rep.Account
	runs := ow.runIDs
	t := &rep.Totals
	t.OrderRows = int64(ow.row - 1)
	t.TestOrders = ow.tests
	t.FeeCurrency = a.Currency
	for i := range b.data.chargebacks {
		c := &b.data.chargebacks[i]
		ow.tally.addDispute(c)
		if c.OpenedOnBasis == transform.BasisOrderDate {
			t.EstimatedDisputes++
			t.EstimatedFees = t.EstimatedFees.Add(c.FeeAmount)
		}
		runs[c.RunID] = true
	}
	t.Disputes, t.ChargebackFees = ow.tally.acct.Disputes, ow.tally.acct.Fees
	t.Converted, t.Previous = ow.tally.acct, b.data.previous
	totals := ow.tally.byCur
	for _, c := range slices.SortedFunc(maps.Keys(totals), func(x, y string) int {
		if (x == a.Currency) != (y == a.Currency) {
			if x == a.Currency {
				return -1
			}
			return 1
		}
		return cmp.Compare(x, y)
	}) {
		t.Currencies = append(t.Currencies, *totals[c])
	}
	for _, r := range b.data.rates {
		runs[r.RunID] = true
	}
	for _, s := range b.data.subscriptions {
		runs[s.RunID] = true
	}
	delete(runs, "")
	rep.WarehouseRuns = slices.Sorted(maps.Keys(runs))
	t.Snapshot = b.data.snapshot
	// Complete once every reason is known, the orders not converted last.
	t.Complete = len(rep.Provisional()) == 0
	t.Subscriptions = subscriptionFigures(b.data, rep.Month, a.ReportingTimezone)
}

// writeFileAtomic writes path through a temporary file in its directory,
// synced and renamed over path, so that path is either the old file or the
// whole new one.
func writeFileAtomic(path string, write func(*os.File) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Provisional says why the report is PROVISIONAL, one reason each; none
// when it is complete.
func (r *Report) Provisional() []string {
	var out []string
	if r.Totals.CoveredBy == "" {
		out = append(out, fmt.Sprintf("no successful run has read the whole of %s since it ended", MonthLabel(r.Month)))
	}
	out = append(out, r.Totals.Fallbacks...)
	if n := r.Totals.Converted.Unconverted; n > 0 {
		out = append(out, unconvertedReason(n, r.Account.Currency))
	}
	return out
}

// unconvertedReason is the reason a report with n orders not converted
// into the account currency is provisional.
func unconvertedReason(n int64, account string) string {
	return fmt.Sprintf("%d orders could not be converted into %s (no FX rate, or paid out in another currency): the %s figures leave them out", n, account, account)
}

// feeFallbacks describes the bases that set disputes' fees without a known
// chargeback rate: no rate row for the month before (the lowest tier), or
// a month without transactions (first_month_tier). Finance must not read
// such a fee as final (issue 14, scope 1).
func feeFallbacks(bases []FeeBasis) []string {
	var out []string
	for _, fb := range bases {
		switch {
		case fb.Disputes == 0:
		case !fb.HaveCounts:
			out = append(out, fmt.Sprintf("the fees of %d disputes rest on no chargeback rate for %s", fb.Disputes, fb.RateMonth))
		case fb.Transactions == 0:
			out = append(out, fmt.Sprintf("the fees of %d disputes rest on first_month_tier: %s had no transactions", fb.Disputes, fb.RateMonth))
		}
	}
	return out
}
