package pipeline_test

import (
	"database/sql"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/money"
)

// TestChargebackTotalsFromOrdersParquet recomputes the chargebacks and
// chargeback_rates tables of a sandbox run from the orders Parquet alone,
// with DuckDB and integer arithmetic, independently of the transform code.
func TestChargebackTotalsFromOrdersParquet(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(60)
	acct.Sandbox.OrdersPerDay = 120
	acct.ChargebackFees = config.ChargebackFees{Model: config.FeeModelThreshold, Tiers: []config.Tier{
		{Below: big.NewRat(13, 2000), BelowText: "0.65%", Fee: money.FromInt(30)},
		{Fee: money.FromInt(50)},
	}}
	job.Streams = []string{"orders", "chargebacks"}
	date := civil.Date{Year: 2025, Month: 4, Day: 10}
	run(t, root, job, acct, date)

	// Lookback 60 days from 10 April starts in February; January is read
	// too, for February's fee tier (issue 14, finding 1).
	checkChargebackTotals(t, root, 4)
}

// TestShippedNightlyChargebackTotals runs the nightly job of the shipped
// jobs.yaml (what make run runs) for a fixed date and recomputes its
// chargeback tables from its orders Parquet.
func TestShippedNightlyChargebackTotals(t *testing.T) {
	f, err := config.Load("../jobs.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	job, _ := f.Job("nightly")
	acct, _ := f.Account(job.Accounts[0])
	job.Streams = []string{"orders", "chargebacks"} // subscriptions play no part
	root := t.TempDir()
	run(t, root, job, acct, civil.Date{Year: 2025, Month: 6, Day: 30})
	// March to June, and February for March's fee tier.
	// March to June, and February for March's fee tier.
	checkChargebackTotals(t, root, 5)
}

// checkChargebackTotals recomputes the chargebacks and chargeback_rates
// tables of a first run into root from its orders Parquet alone, with
// DuckDB and integer arithmetic, for the seed's fee example (below 0.65%
// 30, otherwise 50).
func checkChargebackTotals(t *testing.T, root string, months int) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := func(name string) string {
		return fmt.Sprintf("read_parquet('%s')", filepath.Join(root, name, "*", "*.parquet"))
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

	// Transactions per month, from orders.
	type monthly struct{ transactions, opened int64 }
	want := map[string]*monthly{}
	query(`SELECT strftime(order_date, '%Y-%m'), count(*) FROM `+table("orders")+`
		WHERE NOT is_test AND status IN ('COMPLETE', 'REFUND') GROUP BY 1`, func(r *sql.Rows) error {
		var m string
		var n int64
		err := r.Scan(&m, &n)
		want[m] = &monthly{transactions: n}
		return err
	})
	// Disputes opened per month. On a first run every dispute is dated by
	// its order, so this too comes from orders alone.
	var disputes int64
	query(`SELECT strftime(order_date, '%Y-%m'), count(*) FROM `+table("orders")+`
		WHERE chargeback_resolution <> 'NONE' GROUP BY 1`, func(r *sql.Rows) error {
		var m string
		var n int64
		err := r.Scan(&m, &n)
		want[m].opened = n
		disputes += n
		return err
	})
	if len(want) != months || disputes < 10 {
		t.Fatalf("sandbox months %v with %d disputes: not enough to test", want, disputes)
	}

	// chargeback_rates: counts, the rate rounded half to even at 9
	// decimals, and the next month's fee by exact comparison.
	rates := 0
	query(`SELECT strftime(month, '%Y-%m'), transactions, chargebacks_opened, CAST(rate AS VARCHAR),
		CAST(next_month_fee AS VARCHAR), fee_currency FROM `+table("chargeback_rates"), func(r *sql.Rows) error {
		var m, rate, fee, cur string
		var tx, opened int64
		if err := r.Scan(&m, &tx, &opened, &rate, &fee, &cur); err != nil {
			return err
		}
		rates++
		w := want[m]
		if w == nil || tx != w.transactions || opened != w.opened {
			return fmt.Errorf("%s: %d transactions, %d opened; orders say %+v", m, tx, opened, w)
		}
		if wantRate := rateHalfEven(opened, tx); rate != wantRate {
			return fmt.Errorf("%s: rate %s, want %s", m, rate, wantRate)
		}
		if wantFee := tierFee(opened, tx); fee != wantFee || cur != "USD" {
			return fmt.Errorf("%s: next month fee %s %s, want %s USD", m, fee, cur, wantFee)
		}
		return nil
	})
	if rates != months {
		t.Errorf("%d chargeback_rates rows, want %d", rates, months)
	}

	// chargebacks: one row per disputed order, amounts equal to the
	// orders', fees by the previous month's rate (the lowest tier for
	// February, whose previous month is not in the data).
	query(`SELECT count(*), CAST(sum(c.order_amount) AS VARCHAR), CAST(sum(o.gross_price) AS VARCHAR),
		count(*) FILTER (WHERE c.opened_on <> o.order_date OR c.opened_on_basis <> 'order_date'),
		count(*) FILTER (WHERE c.resolution <> o.chargeback_resolution)
		FROM `+table("chargebacks")+` c JOIN `+table("orders")+` o USING (merchant_code, ref_no)`, func(r *sql.Rows) error {
		var n, misdated, stale int64
		var sumCB, sumOrders string
		if err := r.Scan(&n, &sumCB, &sumOrders, &misdated, &stale); err != nil {
			return err
		}
		if n != disputes || sumCB != sumOrders || misdated != 0 || stale != 0 {
			return fmt.Errorf("chargebacks: %d rows (want %d), amounts %s vs %s, %d misdated, %d stale", n, disputes, sumCB, sumOrders, misdated, stale)
		}
		return nil
	})
	// The first month's previous month is not in the data: lowest tier.
	fees := map[string]string{}
	for m := range want {
		d, err := civil.ParseDate(m + "-01")
		if err != nil {
			t.Fatal(err)
		}
		prev := d.AddDays(-1).String()[:7]
		if w, ok := want[prev]; ok {
			fees[m] = tierFee(w.opened, w.transactions)
		} else {
			fees[m] = "30.000000"
		}
	}
	query(`SELECT strftime(opened_on, '%Y-%m'), CAST(fee_amount AS VARCHAR), fee_currency, rate_month, count(*)
		FROM `+table("chargebacks")+` GROUP BY ALL`, func(r *sql.Rows) error {
		var m, fee, cur, rateMonth string
		var n int64
		if err := r.Scan(&m, &fee, &cur, &rateMonth, &n); err != nil {
			return err
		}
		if fee != fees[m] || cur != "USD" || n != want[m].opened {
			return fmt.Errorf("disputes opened %s: %d at %s %s (rate month %s), want %d at %s USD", m, n, fee, cur, rateMonth, want[m].opened, fees[m])
		}
		return nil
	})
}

// rateHalfEven returns opened/tx as DECIMAL(18,9) text, rounded half to even
// with integer arithmetic.
func rateHalfEven(opened, tx int64) string {
	if tx == 0 {
		return "0.000000000"
	}
	num := opened * 1_000_000_000
	q, rem := num/tx, num%tx
	if 2*rem > tx || (2*rem == tx && q%2 == 1) {
		q++
	}
	return fmt.Sprintf("%d.%09d", q/1_000_000_000, q%1_000_000_000)
}

// tierFee is the seed's example: below 0.65% (13 in 2,000) the fee is 30,
// otherwise 50; compared as integers.
func tierFee(opened, tx int64) string {
	if opened*2000 < 13*tx {
		return "30.000000"
	}
	return "50.000000"
}

// TestSandboxOrdersReadByDuckDB reads the orders a run wrote with DuckDB and
// checks the column types and the exact values of known sandbox orders.
func TestSandboxOrdersReadByDuckDB(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(3)
	job.Streams = []string{"orders"}
	run(t, root, job, acct, businessDate)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files := fmt.Sprintf("'%s'", filepath.Join(root, "orders", "*", "*.parquet"))

	// Types as DuckDB sees them, and as stored.
	types := columnTypes(t, db, "read_parquet("+files+")")
	for col, want := range map[string]string{"gross_price": "DECIMAL(18,6)", "vat": "DECIMAL(18,6)",
		"order_ts": "TIMESTAMP WITH TIME ZONE", "finish_ts": "TIMESTAMP WITH TIME ZONE", "order_date": "DATE", "order_no": "BIGINT"} {
		if types[col] != want {
			t.Errorf("%s is %s, want %s", col, types[col], want)
		}
	}
	var physical string
	if err := db.QueryRow(`SELECT DISTINCT type FROM parquet_schema(` + files + `) WHERE name = 'gross_price'`).Scan(&physical); err != nil || physical != "INT64" {
		t.Errorf("gross_price stored as %q (%v), want INT64", physical, err)
	}

	// Known orders, straight from the sandbox, against DuckDB's reading.
	m, err := sandbox.New(sandbox.Config{MerchantCode: acct.MerchantCode, SecretKey: "x", Seed: acct.Sandbox.Seed,
		OrdersPerDay: acct.Sandbox.OrdersPerDay, Since: acct.Sandbox.Since, Location: acct.SourceTimezone,
		Now: func() time.Time { return time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, o := range m.OrdersOn(civil.Date{Year: 2025, Month: 3, Day: 15}) {
		var gross, vat, cur, date string
		var micros int64
		err := db.QueryRow(`SELECT CAST(gross_price AS VARCHAR), CAST(vat AS VARCHAR), currency,
			epoch_us(order_ts), CAST(order_date AS VARCHAR) FROM read_parquet(`+files+`) WHERE ref_no = ?`, o.RefNo).
			Scan(&gross, &vat, &cur, &micros, &date)
		if err != nil {
			t.Fatalf("order %s: %v", o.RefNo, err)
		}
		local, err := time.ParseInLocation("2006-01-02 15:04:05", o.OrderDate, acct.SourceTimezone)
		if err != nil {
			t.Fatal(err)
		}
		if gross != money.MustParse(o.GrossPrice.String()).String() || vat != money.MustParse(o.VAT.String()).String() ||
			cur != o.Currency || micros != local.UnixMicro() || date != local.UTC().Format("2006-01-02") {
			t.Errorf("order %s: DuckDB %s %s %s %d %s; API %s %s %s %s", o.RefNo, gross, vat, cur, micros, date,
				o.GrossPrice, o.VAT, o.Currency, o.OrderDate)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("checked %d orders", checked)
	}
}

// columnTypes returns the DuckDB type of every column of the relation from
// (a read_parquet(...) call), by name.
func columnTypes(t *testing.T, db *sql.DB, from string) map[string]string {
	t.Helper()
	types := map[string]string{}
	rows, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ` + from + `)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, ty string
		if err := rows.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		types[n] = ty
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return types
}
