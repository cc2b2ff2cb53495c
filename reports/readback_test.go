package reports_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

// The figures of the month recomputed from the warehouse's Parquet files by
// DuckDB, independently of every line of the report code.
type currencyWant struct {
	Sales, Refunds, Disputes                                              int64
	Gross, Discounts, VAT, Net, Affiliate, Commission, Refunded, Disputed string
	Fees                                                                  string
	// The revenue lines: of COMPLETE and REFUND orders (Sold), of REFUND
	// orders negated (Ref), of COMPLETE orders (After), each what shoppers
	// paid, net, VAT, 2Checkout and affiliate commission.
	Sold, Ref, After [5]string
}

type productWant struct{ Active, New, Expired, AutoRenewing, Units int64 }

type warehouseWant struct {
	OrderRows, TestOrders, Disputes int64
	Fees                            string
	Currencies                      map[string]*currencyWant
	Snapshot                        string
	Products                        map[string]productWant
	Rates                           map[string]string // month (YYYY-MM) -> rate
	// USD are the revenue lines in the account currency (as Sold, Ref,
	// After): each order's amount × fx_rate as DuckDB multiplies the
	// DECIMALs, exactly, rounded half to even to 6 decimals by
	// money.Parse, then summed; USDUnconverted counts the sales without
	// a rate or paid out in another currency.
	USD            [3][5]money.Amount
	USDUnconverted int64
}

// recompute reads the fixture's Parquet with DuckDB.
func recompute(t *testing.T, fx *fixture) warehouseWant {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := func(name string) string {
		return fmt.Sprintf("read_parquet('%s')", filepath.Join(fx.root, name, "*", "*.parquet"))
	}
	query := func(q string, fn func(*sql.Rows) error) {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	merchant := fx.acct.MerchantCode
	w := warehouseWant{Currencies: map[string]*currencyWant{}, Products: map[string]productWant{}, Rates: map[string]string{}}
	cur := func(c string) *currencyWant {
		if w.Currencies[c] == nil {
			w.Currencies[c] = &currencyWant{}
		}
		return w.Currencies[c]
	}
	month := `BETWEEN DATE '2025-03-01' AND DATE '2025-03-31'`
	sum := func(col, filter string) string {
		return fmt.Sprintf("CAST(coalesce(sum(%s) FILTER (WHERE %s), 0) AS VARCHAR)", col, filter)
	}
	sale := "status IN ('COMPLETE', 'REFUND')"
	query(`SELECT currency, count(*) FILTER (WHERE `+sale+`), `+
		sum("gross_price", sale)+`, `+sum("discount", sale)+`, `+sum("vat", sale)+`, `+sum("net_discounted_price", sale)+`, `+
		sum("affiliate_commission", sale)+`, `+sum("twocheckout_commission", sale)+`,
		count(*) FILTER (WHERE status = 'REFUND'), `+sum("gross_discounted_price", "status = 'REFUND'")+`, count(*)
		FROM `+table("orders")+` WHERE merchant_code = '`+merchant+`' AND NOT is_test AND order_date `+month+`
		GROUP BY currency`, func(r *sql.Rows) error {
		var c string
		var all int64
		var x currencyWant
		if err := r.Scan(&c, &x.Sales, &x.Gross, &x.Discounts, &x.VAT, &x.Net, &x.Affiliate, &x.Commission, &x.Refunds, &x.Refunded, &all); err != nil {
			return err
		}
		x.Disputed, x.Fees = "0", "0"
		x.Sold, x.Ref, x.After = zeros, zeros, zeros
		*cur(c) = x
		w.OrderRows += all
		return nil
	})
	revenueCols := []string{"gross_discounted_price", "net_discounted_price", "vat", "twocheckout_commission", "affiliate_commission"}
	var revenue []string
	for _, f := range []string{sale, "status = 'REFUND'", "status = 'COMPLETE'"} {
		for _, col := range revenueCols {
			revenue = append(revenue, sum(col, f))
		}
	}
	query(`SELECT currency, `+strings.Join(revenue, ", ")+` FROM `+table("orders")+` WHERE merchant_code = '`+merchant+`'
		AND NOT is_test AND order_date `+month+` GROUP BY currency`, func(r *sql.Rows) error {
		var c string
		var v [15]string
		dest := []any{&c}
		for i := range v {
			dest = append(dest, &v[i])
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		x := cur(c)
		copy(x.Sold[:], v[0:5])
		copy(x.After[:], v[10:15])
		for i, r := range v[5:10] {
			x.Ref[i] = negate(r)
		}
		return nil
	})
	var products []string
	for _, col := range revenueCols {
		products = append(products, "CAST(CAST("+col+" AS DECIMAL(38, 6)) * CAST(fx_rate AS DECIMAL(38, 9)) AS VARCHAR)")
	}
	query(`SELECT status, fx_rate IS NOT NULL AND payout_currency = 'USD', `+strings.Join(products, ", ")+` FROM `+table("orders")+`
		WHERE merchant_code = '`+merchant+`' AND NOT is_test AND order_date `+month+` AND `+sale, func(r *sql.Rows) error {
		var status string
		var ok bool
		var v [5]sql.NullString
		if err := r.Scan(&status, &ok, &v[0], &v[1], &v[2], &v[3], &v[4]); err != nil {
			return err
		}
		if !ok {
			w.USDUnconverted++
			return nil
		}
		for i := range v {
			a, _, err := money.Parse(v[i].String)
			if err != nil {
				return err
			}
			w.USD[0][i] = w.USD[0][i].Add(a)
			if status == "REFUND" {
				w.USD[1][i] = w.USD[1][i].Add(a.Neg())
			} else {
				w.USD[2][i] = w.USD[2][i].Add(a)
			}
		}
		return nil
	})
	query(`SELECT count(*) FROM `+table("orders")+` WHERE merchant_code = '`+merchant+`' AND is_test AND order_date `+month,
		func(r *sql.Rows) error { return r.Scan(&w.TestOrders) })
	query(`SELECT currency, count(*), CAST(sum(order_amount) AS VARCHAR), CAST(sum(fee_amount) AS VARCHAR)
		FROM `+table("chargebacks")+` WHERE merchant_code = '`+merchant+`' AND opened_on `+month+` GROUP BY currency`, func(r *sql.Rows) error {
		var c string
		if err := r.Scan(&c, new(int64), new(string), new(string)); err != nil {
			return err
		}
		x := cur(c)
		if x.Gross == "" {
			x.Gross, x.Discounts, x.VAT, x.Net, x.Affiliate, x.Commission, x.Refunded = "0", "0", "0", "0", "0", "0", "0"
			x.Sold, x.Ref, x.After = zeros, zeros, zeros
		}
		return r.Scan(&c, &x.Disputes, &x.Disputed, &x.Fees)
	})
	query(`SELECT count(*), CAST(coalesce(sum(fee_amount), 0) AS VARCHAR) FROM `+table("chargebacks")+`
		WHERE merchant_code = '`+merchant+`' AND opened_on `+month, func(r *sql.Rows) error { return r.Scan(&w.Disputes, &w.Fees) })
	// The subscriptions are counted at the month's end, or at the latest
	// read of the month before it, from the versions valid then.
	query(`SELECT coalesce(CAST(least(max(business_date), DATE '2025-03-31') AS VARCHAR), '') FROM `+table("subscription_reads")+`
		WHERE merchant_code = '`+merchant+`' AND business_date >= DATE '2025-03-01'`, func(r *sql.Rows) error { return r.Scan(&w.Snapshot) })
	query(`WITH v AS (SELECT *, CAST(DATE '`+w.Snapshot+`' + 1 AS TIMESTAMPTZ) AS month_end FROM `+table("subscription_history")+`
			WHERE merchant_code = '`+merchant+`' AND NOT is_test AND valid_from <= DATE '`+w.Snapshot+`' AND valid_to > DATE '`+w.Snapshot+`'),
		a AS (SELECT *, start_ts < month_end AND CASE WHEN lifetime OR expiration_ts IS NULL THEN subscription_enabled
			ELSE expiration_ts >= month_end AND (subscription_enabled OR (valid_from = CAST(start_ts AS DATE) AND expiration_ts <= extracted_at)) END AS active FROM v)
		SELECT product_code,
		count(*) FILTER (WHERE active),
		count(*) FILTER (WHERE start_ts >= TIMESTAMPTZ '2025-03-01 00:00:00+00' AND start_ts < TIMESTAMPTZ '2025-04-01 00:00:00+00'),
		count(*) FILTER (WHERE NOT lifetime AND NOT subscription_enabled AND expiration_ts >= TIMESTAMPTZ '2025-03-01 00:00:00+00'
			AND expiration_ts < TIMESTAMPTZ '2025-04-01 00:00:00+00' AND expiration_ts < month_end),
		count(*) FILTER (WHERE active AND recurring_enabled),
		coalesce(sum(product_quantity) FILTER (WHERE active), 0)
		FROM a GROUP BY product_code`, func(r *sql.Rows) error {
		var code string
		var p productWant
		if err := r.Scan(&code, &p.Active, &p.New, &p.Expired, &p.AutoRenewing, &p.Units); err != nil {
			return err
		}
		w.Products[code] = p
		return nil
	})
	query(`SELECT strftime(month, '%Y-%m'), CAST(rate AS VARCHAR) FROM `+table("chargeback_rates")+`
		WHERE merchant_code = '`+merchant+`' AND month BETWEEN DATE '2024-04-01' AND DATE '2025-03-01'`, func(r *sql.Rows) error {
		var m, rate string
		if err := r.Scan(&m, &rate); err != nil {
			return err
		}
		w.Rates[m] = rate
		return nil
	})
	if len(w.Currencies) < 3 || w.Disputes < 5 || w.OrderRows < 1000 || len(w.Products) < 3 || len(w.Rates) < 3 {
		t.Fatalf("the sandbox month is too thin to test: %+v", w)
	}
	return w
}

var zeros = [5]string{"0", "0", "0", "0", "0"}

// negate returns -x of a decimal text, exactly.
func negate(x string) string {
	a, _, err := money.Parse(x)
	if err != nil {
		panic(err)
	}
	return a.Neg().String()
}

// pythonWithOpenpyxl returns a python3 that can import openpyxl. Without
// one the test is skipped, except under CI, where it fails.
func pythonWithOpenpyxl(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p := os.Getenv("LEDGERLINE_PYTHON"); p != "" {
		candidates = append(candidates, p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, p := range candidates {
		if exec.Command(p, "-c", "import openpyxl").Run() == nil {
			return p
		}
	}
	msg := "no python3 with openpyxl (Debian: apt-get install python3-openpyxl); tried " + strings.Join(candidates, ", ")
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// readBackScript reads a workbook with openpyxl, an independent reader, and
// prints what the test checks as JSON. Numbers are summed as Decimals of
// their shortest repr, which is the cell's text.
const readBackScript = `
import json, sys, datetime
from decimal import Decimal
import openpyxl

path, statuses = sys.argv[1], sys.argv[2].split(",")
wb = openpyxl.load_workbook(path)                  # formulas
wv = openpyxl.load_workbook(path, data_only=True)  # cached values

def dec(v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SystemExit("not a number: %r" % (v,))
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)

def s(d):
    return None if d is None else format(d, "f")

out = {"sheets": wb.sheetnames, "freeze": {}, "filter": {}, "widths": {}, "charts": {}, "print": {}}
for ws in wb:
    ps = ws.page_setup
    out["print"][ws.title] = {"titles": ws.print_title_rows or "", "orientation": ps.orientation or "",
        "title_cols": ws.print_title_cols or "", "fit_width": ps.fitToWidth, "fit_height": ps.fitToHeight, "fit": bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)}
    out["freeze"][ws.title] = ws.freeze_panes
    out["filter"][ws.title] = (ws.auto_filter.ref or "").replace("$", "")
    out["widths"][ws.title] = {k: v.width for k, v in ws.column_dimensions.items() if v.width}
    out["charts"][ws.title] = len(ws._charts)

# Orders: every row, summed by currency.
ws = wb["Orders"]
money_cols = {"F": "gross", "G": "discount", "H": "paid", "I": "vat", "J": "net", "K": "affiliate", "L": "commission"}
orders = {"rows": 0, "currencies": {}, "formats": {}, "date_formats": [], "dates": True, "header": [c.value for c in ws[1]]}
for row in ws.iter_rows(min_row=2):
    r = {c.column_letter: c for c in row}
    cur = r["D"].value
    if not cur or r["A"].value == "Total":
        continue
    orders["rows"] += 1
    c = orders["currencies"].setdefault(cur, {"sales": 0, "refunds": 0, "refunded": Decimal(0), **{k: Decimal(0) for k in money_cols.values()}})
    for col in money_cols:
        fmt = orders["formats"].setdefault(cur, set())
        fmt.add(r[col].number_format)
    orders["dates"] &= isinstance(r["B"].value, datetime.datetime)
    if r["B"].number_format not in orders["date_formats"]:
        orders["date_formats"].append(r["B"].number_format)
    if r["C"].value in statuses:
        c["sales"] += 1
        for col, name in money_cols.items():
            c[name] += dec(r[col].value)
    if r["C"].value == "REFUND":
        c["refunds"] += 1
        c["refunded"] += dec(r["H"].value)
for cur, c in orders["currencies"].items():
    for k, v in c.items():
        if isinstance(v, Decimal):
            c[k] = s(v)
orders["formats"] = {k: sorted(v) for k, v in orders["formats"].items()}
out["orders"] = orders

# Chargeback fees: detail rows by currency, and the total.
ws, wsv = wb["Chargeback fees"], wv["Chargeback fees"]
fees = {"rows": 0, "currencies": {}, "sum": Decimal(0), "total": None, "total_formula": None, "formats": [], "fee_formats": []}
for row, rowv in zip(ws.iter_rows(min_row=2), wsv.iter_rows(min_row=2)):
    r = {c.column_letter: c for c in row}
    if r["A"].value == "Total chargeback fee":
        fees["total"] = s(dec(rowv[8].value))
        fees["total_formula"] = r["I"].value
        fees["total_format"] = r["I"].number_format
        continue
    if not r["J"].value:
        continue
    fees["rows"] += 1
    c = fees["currencies"].setdefault(r["H"].value, {"n": 0, "amount": Decimal(0), "fees": Decimal(0)})
    c["n"] += 1
    c["amount"] += dec(r["G"].value)
    c["fees"] += dec(r["I"].value)
    fees["sum"] += dec(r["I"].value)
    fees["formats"].append([r["H"].value, r["G"].number_format])
    fees["fee_formats"].append(r["I"].number_format)
    if not isinstance(r["C"].value, datetime.datetime):
        raise SystemExit("opened on is not a date")
fees["sum"] = s(fees["sum"])
for c in fees["currencies"].values():
    c["amount"], c["fees"] = s(c["amount"]), s(c["fees"])
out["fees"] = fees

# Summary: the per-currency block and the fee block, cached values and
# formulas.
ws, wsv = wb["Summary"], wv["Summary"]
summary = {"lines": {}, "formulas": {}, "formats": {}, "labels": {}, "account": {}, "account_formulas": {}, "account_formats": {}, "account_headers": []}
rows = list(ws.iter_rows())
rowsv = list(wsv.iter_rows())
header = None
for row, rowv in zip(rows, rowsv):
    label = row[0].value
    if label is None:
        header = None if header is not None and not any(c.value for c in row) else header
        continue
    summary["labels"][label] = [c.value if not isinstance(c.value, datetime.datetime) else c.value.isoformat() for c in rowv[1:3]]
    if label in ("Total chargeback fee", "Disputes opened"):
        summary["lines"][label] = {"*": s(dec(rowv[1].value))}
        summary["formulas"][label] = {"*": row[1].value}
        summary["formats"][label] = {"*": row[1].number_format}
        continue
    if label == "By currency":
        header = [c.value for c in row]
        continue
    if header:
        # Currency columns are headed by a code; the account-currency
        # columns ("March 2025 in USD") may hold text ("no data ...").
        cur = [i for i in range(1, len(header)) if header[i] and len(header[i]) == 3]
        acct = [i for i in range(1, len(header)) if header[i] and len(header[i]) != 3]
        summary["lines"][label] = {header[i]: s(dec(rowv[i].value)) for i in cur}
        summary["formulas"][label] = {header[i]: row[i].value for i in cur}
        summary["formats"][label] = {header[i]: row[i].number_format for i in cur}
        summary["account"][label] = {header[i]: rowv[i].value if isinstance(rowv[i].value, str) else s(dec(rowv[i].value)) for i in acct}
        summary["account_formulas"][label] = {header[i]: str(row[i].value) if row[i].value is not None else None for i in acct}
        summary["account_formats"][label] = {header[i]: row[i].number_format for i in acct}
        summary["account_headers"] = [header[i] for i in acct]
out["summary"] = summary
out["summary_dates"] = {r[0].value: r[1].number_format for r in rows if r[0].value in ("Month", "From", "To", "Generated (UTC)")}

# Revenue split.
ws, wsv = wb["Revenue split"], wv["Revenue split"]
split = {"header": [c.value for c in ws[1]], "currencies": {}, "total": None}
for row, rowv in zip(ws.iter_rows(min_row=2), wsv.iter_rows(min_row=2)):
    if row[0].value == "Total":
        split["total"] = [s(dec(c.value)) if c.value is not None else None for c in rowv[2:9]]
        split["total_formulas"] = [c.value for c in row[2:9]]
        continue
    split["currencies"][row[1].value] = {"values": [s(dec(c.value)) for c in rowv[2:9]],
        "formulas": [c.value for c in row[2:9]], "formats": [c.number_format for c in row[2:9]],
        "month": row[0].number_format}
out["split"] = split

# Subscriptions.
ws, wsv = wb["Subscriptions"], wv["Subscriptions"]
subs = {"title": ws["A1"].value, "header": [c.value for c in ws[3]], "products": {}, "total": None}
for row, rowv in zip(ws.iter_rows(min_row=4), wsv.iter_rows(min_row=4)):
    if row[0].value == "Total":
        subs["total"] = [int(c.value) for c in rowv[2:7]]
        subs["total_formulas"] = [c.value for c in row[2:7]]
    elif row[0].value and rowv[2].value is not None:  # a month without a snapshot says so in words
        subs["products"][row[0].value] = [int(c.value) for c in rowv[2:7]]
out["subs"] = subs

# Chargeback rate.
ws = wb["Chargeback rate"]
rates = {"header": [c.value for c in ws[1]], "months": {}}
for row in ws.iter_rows(min_row=2):
    if isinstance(row[0].value, datetime.datetime):
        rates["months"][row[0].value.strftime("%Y-%m")] = {"rate": s(dec(row[3].value)), "format": row[3].number_format,
            "month_format": row[0].number_format}
out["rates"] = rates
json.dump(out, sys.stdout)
`

type readBack struct {
	Sheets []string
	Freeze map[string]*string
	Filter map[string]string
	Widths map[string]map[string]float64
	Charts map[string]int
	Print  map[string]struct {
		Titles, Orientation string
		TitleCols           string `json:"title_cols"`
		FitWidth            *int   `json:"fit_width"`
		FitHeight           *int   `json:"fit_height"`
		Fit                 bool
	}
	Orders struct {
		Rows        int64
		Header      []string
		Currencies  map[string]map[string]any
		Formats     map[string][]string
		DateFormats []string `json:"date_formats"`
		Dates       bool
	}
	Fees struct {
		Rows       int64
		Currencies map[string]struct {
			N            int64
			Amount, Fees string
		}
		Sum, Total   string
		TotalFormula string `json:"total_formula"`
		TotalFormat  string `json:"total_format"`
		Formats      [][2]string
		FeeFormats   []string `json:"fee_formats"`
	}
	Summary struct {
		Lines    map[string]map[string]string
		Formulas map[string]map[string]string
		Formats  map[string]map[string]string
		Labels   map[string][]any
		// The account-currency columns by header: values (decimal
		// text, or the cell's text), formulas (a value cell's is its
		// value) and formats.
		Account         map[string]map[string]*string
		AccountFormulas map[string]map[string]*string `json:"account_formulas"`
		AccountFormats  map[string]map[string]string  `json:"account_formats"`
		AccountHeaders  []string                      `json:"account_headers"`
	}
	SummaryDates map[string]string `json:"summary_dates"`
	Split        struct {
		Header     []string
		Currencies map[string]struct {
			Values, Formulas, Formats []string
			Month                     string
		}
		Total         []*string
		TotalFormulas []*string `json:"total_formulas"`
	}
	Subs struct {
		Title         string
		Header        []string
		Products      map[string][]int64
		Total         []int64
		TotalFormulas []string `json:"total_formulas"`
	}
	Rates struct {
		Header []string
		Months map[string]struct {
			Rate, Format string
			MonthFormat  string `json:"month_format"`
		}
	}
}

// textOf returns *s, or "(blank)".
func textOf(s *string) string {
	if s == nil {
		return "(blank)"
	}
	return *s
}

// equalAmounts compares decimal texts as exact amounts.
func equalAmounts(t *testing.T, a, b string) bool {
	t.Helper()
	x, _, err1 := money.Parse(a)
	y, _, err2 := money.Parse(b)
	if err1 != nil || err2 != nil {
		t.Errorf("amounts %q, %q: %v %v", a, b, err1, err2)
		return false
	}
	return x == y
}

// openpyxlReadBack reads workbook with readBackScript, through openpyxl.
func openpyxlReadBack(t *testing.T, python, workbook string) readBack {
	t.Helper()
	script := filepath.Join(t.TempDir(), "readback.py")
	if err := os.WriteFile(script, []byte(readBackScript), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, workbook, "COMPLETE,REFUND")
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	var got readBack
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return got
}

// summaryTable reads the Summary's "By currency" table from f as excelize
// gives the cached values: its header row, each line's values by column
// header, and the notes below it.
func summaryTable(t *testing.T, f *excelize.File) (header []string, cached map[string]map[string]string, notes []string) {
	t.Helper()
	rows, err := f.GetRows(reports.SheetSummary, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	cached = map[string]map[string]string{} // label -> column header -> value
	for _, r := range rows {
		switch {
		case len(r) == 0:
		case r[0] == "By currency":
			header = r
		case header != nil && len(r) > 1:
			cached[r[0]] = map[string]string{}
			for i := 1; i < len(r) && i < len(header); i++ {
				cached[r[0]][header[i]] = r[i]
			}
		case header != nil:
			notes = append(notes, r[0])
		}
	}
	return header, cached, notes
}

// TestWorkbookReadBack builds the report of a sandbox month and reads it
// with openpyxl: sheet names, number formats, dates, frozen panes, filters,
// widths and the chart; every detail sum and every total (the values cached
// in the formula cells) must equal the month recomputed by DuckDB from the
// warehouse Parquet, and every total must be a formula.
func TestWorkbookReadBack(t *testing.T) {
	python := pythonWithOpenpyxl(t)
	fx := sandboxWarehouse(t)
	want := recompute(t, fx)
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: fx.month, RunID: "report-test", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := openpyxlReadBack(t, python, rep.Workbook)

	if strings.Join(got.Sheets, ",") != strings.Join(reports.Sheets(), ",") {
		t.Errorf("sheets %q", got.Sheets)
	}
	ordersLast := want.OrderRows + 1
	feesLast := want.Disputes + 1
	for sheet, w := range map[string]struct{ freeze, filter string }{
		"Orders":          {"B2", fmt.Sprintf("A1:V%d", ordersLast)},
		"Chargeback fees": {"B2", fmt.Sprintf("A1:M%d", feesLast)},
		"Chargeback rate": {"A2", fmt.Sprintf("A1:H%d", len(want.Rates)+1)},
		"Revenue split":   {"A2", fmt.Sprintf("A1:I%d", len(want.Currencies)+1)},
		"Subscriptions":   {"A4", fmt.Sprintf("A3:G%d", len(want.Products)+3)},
	} {
		if f := got.Freeze[sheet]; f == nil || *f != w.freeze {
			t.Errorf("%s: frozen at %v, want %s", sheet, f, w.freeze)
		}
		if got.Filter[sheet] != w.filter {
			t.Errorf("%s: filter %q, want %q", sheet, got.Filter[sheet], w.filter)
		}
		if len(got.Widths[sheet]) < 5 {
			t.Errorf("%s: column widths %v", sheet, got.Widths[sheet])
		}
	}
	// Every sheet prints its header rows on every page, one page wide (the
	// Orders sheet's 22 columns two, each repeating the order reference)
	// and as many pages high as it takes (issue 14, finding 8).
	for sheet, titles := range map[string]string{"Summary": "$1:$1", "Orders": "$1:$1", "Chargeback fees": "$1:$1", "Chargeback rate": "$1:$1",
		"Revenue split": "$1:$1", "Subscriptions": "$1:$3"} {
		p := got.Print[sheet]
		wide, cols := 1, ""
		if sheet == "Orders" {
			wide, cols = 2, "$A:$A"
		}
		if p.Titles != titles || p.TitleCols != cols || !p.Fit || p.FitWidth == nil || *p.FitWidth != wide || p.FitHeight == nil || *p.FitHeight != 0 || p.Orientation != "landscape" {
			t.Errorf("%s prints %+v (fit width %v, height %v), want titles %s %s, %d page(s) wide, landscape", sheet, p, deref(p.FitWidth), deref(p.FitHeight), cols, titles, wide)
		}
	}
	if got.Charts["Chargeback rate"] != 1 {
		t.Errorf("charts: %v", got.Charts)
	}

	// Orders: the rows and their sums.
	if got.Orders.Rows != want.OrderRows {
		t.Errorf("Orders: %d rows, warehouse %d non-test orders", got.Orders.Rows, want.OrderRows)
	}
	if !got.Orders.Dates || strings.Join(got.Orders.DateFormats, ",") != "yyyy-mm-dd" {
		t.Errorf("Orders dates: real %v, formats %q", got.Orders.Dates, got.Orders.DateFormats)
	}
	for c, w := range want.Currencies {
		fmtWant := `#,##0.00 "` + c + `"`
		if c == "JPY" {
			fmtWant = `#,##0 "JPY"`
		}
		if w.Sales > 0 && strings.Join(got.Orders.Formats[c], "|") != fmtWant {
			t.Errorf("Orders %s amounts formatted %q, want %q", c, got.Orders.Formats[c], fmtWant)
		}
		o := got.Orders.Currencies[c]
		if w.Sales == 0 {
			continue
		}
		if o == nil {
			t.Errorf("Orders: no %s rows", c)
			continue
		}
		if int64(o["sales"].(float64)) != w.Sales || int64(o["refunds"].(float64)) != w.Refunds {
			t.Errorf("Orders %s: %v sales, %v refunds; warehouse %d, %d", c, o["sales"], o["refunds"], w.Sales, w.Refunds)
		}
		for name, v := range map[string]string{"gross": w.Gross, "discount": w.Discounts, "vat": w.VAT, "net": w.Net,
			"affiliate": w.Affiliate, "commission": w.Commission, "refunded": w.Refunded} {
			if !equalAmounts(t, o[name].(string), v) {
				t.Errorf("Orders %s %s sums to %s, warehouse %s", c, name, o[name], v)
			}
		}
	}

	// Chargeback fees: the rows, their sums and the total.
	if got.Fees.Rows != want.Disputes || !equalAmounts(t, got.Fees.Sum, want.Fees) || !equalAmounts(t, got.Fees.Total, want.Fees) {
		t.Errorf("Chargeback fees: %d rows, sum %s, total %s; warehouse %d disputes, %s", got.Fees.Rows, got.Fees.Sum, got.Fees.Total, want.Disputes, want.Fees)
	}
	// The fees sheet's amounts leave their currency to the Currency column
	// to their right, so that the two never run together (499.00 USDUSD).
	if wantF := fmt.Sprintf("=SUM('Chargeback fees'!$I$2:$I$%d)", feesLast); got.Fees.TotalFormula != wantF || got.Fees.TotalFormat != `#,##0.00` {
		t.Errorf("Chargeback fees total: %q formatted %q, want %q formatted #,##0.00", got.Fees.TotalFormula, got.Fees.TotalFormat, wantF)
	}
	for _, f := range got.Fees.Formats {
		if want := map[bool]string{true: "#,##0", false: "#,##0.00"}[f[0] == "JPY"]; f[1] != want {
			t.Errorf("dispute amount in %s formatted %q, want %q", f[0], f[1], want)
		}
	}
	for c, w := range want.Currencies {
		g := got.Fees.Currencies[c]
		if w.Disputes == 0 {
			continue
		}
		if g.N != w.Disputes || !equalAmounts(t, g.Amount, w.Disputed) || !equalAmounts(t, g.Fees, w.Fees) {
			t.Errorf("Chargeback fees %s: %+v, warehouse %+v", c, g, w)
		}
	}

	// Summary: every total a formula whose cached value is the warehouse's.
	lines := map[string]func(*currencyWant) string{
		"Sales (orders with status COMPLETE or REFUND)": func(w *currencyWant) string { return fmt.Sprint(w.Sales) },
		"Gross (incl. VAT, before discounts)":           func(w *currencyWant) string { return w.Gross },
		"Discounts":                                     func(w *currencyWant) string { return w.Discounts },
		"Refunded orders":                               func(w *currencyWant) string { return fmt.Sprint(w.Refunds) },
		"Chargebacks opened":                            func(w *currencyWant) string { return fmt.Sprint(w.Disputes) },
		"Disputed amount":                               func(w *currencyWant) string { return w.Disputed },
		"Total chargeback fee (USD)":                    func(w *currencyWant) string { return w.Fees },
	}
	for label, f := range revenueWants() {
		lines[label] = f
	}
	for label, f := range lines {
		vals := got.Summary.Lines[label]
		if len(vals) != len(want.Currencies) {
			t.Errorf("Summary %q: %v, want %d currencies", label, vals, len(want.Currencies))
		}
		for c, w := range want.Currencies {
			if !equalAmounts(t, vals[c], f(w)) {
				t.Errorf("Summary %q %s = %s, warehouse %s", label, c, vals[c], f(w))
			}
			if fm := got.Summary.Formulas[label][c]; !strings.HasPrefix(fm, "=") {
				t.Errorf("Summary %q %s is no formula: %q", label, c, fm)
			}
			format := got.Summary.Formats[label][c]
			switch {
			case strings.Contains(label, "chargeback fee"):
				if format != `#,##0.00 "USD"` {
					t.Errorf("Summary %q %s formatted %q", label, c, format)
				}
			case strings.HasPrefix(label, "Sales (orders") || strings.HasSuffix(label, "orders") || strings.HasSuffix(label, "opened"):
				if format != "#,##0" {
					t.Errorf("Summary %q %s formatted %q", label, c, format)
				}
			case !strings.HasSuffix(format, `"`+c+`"`):
				t.Errorf("Summary %q %s formatted %q", label, c, format)
			}
		}
	}
	if v := got.Summary.Lines["Total chargeback fee"]["*"]; !equalAmounts(t, v, want.Fees) ||
		got.Summary.Formulas["Total chargeback fee"]["*"] != fmt.Sprintf("='Chargeback fees'!$I$%d", feesLast+1) ||
		got.Summary.Formats["Total chargeback fee"]["*"] != `#,##0.00 "USD"` {
		t.Errorf("Summary Total chargeback fee %s (%q, %q), warehouse %s", v, got.Summary.Formulas["Total chargeback fee"]["*"], got.Summary.Formats["Total chargeback fee"]["*"], want.Fees)
	}
	if v := got.Summary.Lines["Disputes opened"]["*"]; v != fmt.Sprint(want.Disputes) {
		t.Errorf("Summary Disputes opened %s, warehouse %d", v, want.Disputes)
	}
	for label, format := range map[string]string{"Month": "mmmm yyyy", "From": "yyyy-mm-dd", "To": "yyyy-mm-dd", "Generated (UTC)": "yyyy-mm-dd hh:mm:ss"} {
		if got.SummaryDates[label] != format {
			t.Errorf("Summary %s formatted %q, want %q", label, got.SummaryDates[label], format)
		}
	}
	if c := fmt.Sprint(got.Summary.Labels["Data complete"][0]); !strings.HasPrefix(c, "yes: run run-LLDEMO-2025-03-31 (business date 2025-03-31)") {
		t.Errorf("Summary Data complete %q", c)
	}
	for _, label := range []string{"Report run id", "Warehouse run ids", "Account"} {
		if len(got.Summary.Labels[label]) == 0 || got.Summary.Labels[label][0] == nil {
			t.Errorf("Summary has no %s", label)
		}
	}
	if runs := fmt.Sprint(got.Summary.Labels["Warehouse run ids"][0]); !strings.Contains(runs, "run-LLDEMO-2025-03-31") || strings.Contains(runs, "LLOTHER") {
		t.Errorf("Summary warehouse runs %q", runs)
	}

	// The Summary's column in USD: DuckDB's exact products, rounded per
	// order; the sandbox converts every order.
	usdHdr := "March 2025 in USD"
	if want.USDUnconverted != 0 || len(got.Summary.AccountHeaders) != 2 || got.Summary.AccountHeaders[0] != usdHdr {
		t.Errorf("Summary USD columns %q; warehouse %d sales not converted", got.Summary.AccountHeaders, want.USDUnconverted)
	}
	for i, l := range revenueLabels() {
		for k := range 3 {
			v := got.Summary.Account[l[k]][usdHdr]
			if v == nil || !equalAmounts(t, *v, want.USD[k][i].String()) {
				t.Errorf("Summary %q %s = %s, warehouse %s", l[k], usdHdr, textOf(v), want.USD[k][i])
			}
		}
	}
	if v := got.Summary.Account["Orders not converted (no usable FX rate)"][usdHdr]; v == nil || *v != "0" {
		t.Errorf("Summary orders not converted %s, warehouse 0", textOf(v))
	}

	// Revenue split.
	var orders, disputes int64
	for c, w := range want.Currencies {
		g, ok := got.Split.Currencies[c]
		if !ok {
			t.Errorf("Revenue split has no %s", c)
			continue
		}
		wantVals := []string{fmt.Sprint(w.Sales), w.After[1], w.After[3], w.After[2], w.After[4], w.Fees, fmt.Sprint(w.Disputes)}
		for i := range wantVals {
			if !equalAmounts(t, g.Values[i], wantVals[i]) || !strings.HasPrefix(g.Formulas[i], "=") {
				t.Errorf("Revenue split %s %s = %s (%s), warehouse %s", c, got.Split.Header[i+2], g.Values[i], g.Formulas[i], wantVals[i])
			}
		}
		if g.Formats[1] != fmt.Sprint(`#,##0`, map[bool]string{true: "", false: ".00"}[c == "JPY"], ` "`, c, `"`) || g.Formats[5] != `#,##0.00 "USD"` || g.Month != "mmmm yyyy" {
			t.Errorf("Revenue split %s formats %q, month %q", c, g.Formats, g.Month)
		}
		orders += w.Sales
		disputes += w.Disputes
	}
	if tot := got.Split.Total; len(tot) != 7 || tot[0] == nil || *tot[0] != fmt.Sprint(orders) || tot[5] == nil || !equalAmounts(t, *tot[5], want.Fees) || tot[6] == nil || *tot[6] != fmt.Sprint(disputes) {
		t.Errorf("Revenue split total %v", tot)
	}

	// Subscriptions.
	if !strings.Contains(got.Subs.Title, want.Snapshot) {
		t.Errorf("Subscriptions title %q, snapshot %s", got.Subs.Title, want.Snapshot)
	}
	var sums [5]int64
	for code, w := range want.Products {
		g := got.Subs.Products[code]
		if fmt.Sprint(g) != fmt.Sprint([]int64{w.Active, w.New, w.Expired, w.AutoRenewing, w.Units}) {
			t.Errorf("Subscriptions %s = %v, warehouse %+v", code, g, w)
		}
		for i, v := range []int64{w.Active, w.New, w.Expired, w.AutoRenewing, w.Units} {
			sums[i] += v
		}
	}
	if fmt.Sprint(got.Subs.Total) != fmt.Sprint(sums[:]) || len(got.Subs.TotalFormulas) != 5 || !strings.HasPrefix(got.Subs.TotalFormulas[0], "=SUM(") {
		t.Errorf("Subscriptions total %v (%q), want %v", got.Subs.Total, got.Subs.TotalFormulas, sums)
	}
	if len(got.Subs.Products) != len(want.Products) {
		t.Errorf("Subscriptions products %v, warehouse %v", got.Subs.Products, want.Products)
	}

	// Chargeback rate.
	if len(got.Rates.Months) != len(want.Rates) || got.Rates.Header[4] != "Threshold 0.65%" {
		t.Errorf("Chargeback rate months %v (header %q), warehouse %v", got.Rates.Months, got.Rates.Header, want.Rates)
	}
	for m, rate := range want.Rates {
		g := got.Rates.Months[m]
		if !equalAmounts(t, g.Rate, strings.TrimRight(rate, "0")+"0") || g.Format != "0.00##%" || g.MonthFormat != "mmmm yyyy" {
			t.Errorf("Chargeback rate %s = %+v, warehouse %s", m, g, rate)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// revenueWants are the Summary's revenue lines and their warehouse figures:
// gross sales, refunds and after refunds of each measure.
func revenueWants() map[string]func(*currencyWant) string {
	labels := revenueLabels()
	m := map[string]func(*currencyWant) string{}
	for i, l := range labels {
		m[l[0]] = func(w *currencyWant) string { return w.Sold[i] }
		m[l[1]] = func(w *currencyWant) string { return w.Ref[i] }
		m[l[2]] = func(w *currencyWant) string { return w.After[i] }
	}
	return m
}
