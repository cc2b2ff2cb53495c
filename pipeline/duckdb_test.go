package pipeline_test

import (
	"database/sql"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"

	"cloud.google.com/go/civil"
	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/ledgerline/ledgerline/config"
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
	if len(want) != 3 || disputes < 10 {
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
	if rates != 3 {
		t.Errorf("%d chargeback_rates rows, want 3", rates)
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
	fees := map[string]string{"2025-02": "30.000000"}
	fees["2025-03"] = tierFee(want["2025-02"].opened, want["2025-02"].transactions)
	fees["2025-04"] = tierFee(want["2025-03"].opened, want["2025-03"].transactions)
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
