package pipeline_test

import (
	"database/sql"
	"fmt"
	"maps"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/money"
)

// rate9 is an exact decimal as DECIMAL(18,9) text, computed with big.Rat
// independently of transform's parsing.
func rate9(t *testing.T, s string) string {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("rate %q", s)
	}
	v, rounded, err := money.RateFromRat(r)
	if err != nil || rounded {
		t.Fatalf("rate %q: %v, rounded %v", s, err, rounded)
	}
	return v.String()
}

// TestRealShapeColumnsReadByDuckDB runs the pipeline on the default
// sandbox (the real response shape) and reads every column that shape
// added back with DuckDB, for every order of ten days, against the facts
// the sandbox's generator drew for each RefNo.
func TestRealShapeColumnsReadByDuckDB(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(30)
	job.Streams = []string{"orders"}
	run(t, root, job, acct, businessDate)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orders := fmt.Sprintf("read_parquet('%s')", filepath.Join(root, "orders", "*", "*.parquet"))
	items := fmt.Sprintf("read_parquet('%s')", filepath.Join(root, "order_items", "*", "*.parquet"))

	types := columnTypes(t, db, orders)
	maps.Copy(types, columnTypes(t, db, items))
	for col, want := range map[string]string{"fx_rate": "DECIMAL(18,9)", "fx_markup": "DECIMAL(18,9)",
		"vat_percent": "DECIMAL(18,9)", "billing_country": "VARCHAR", "line_item_reference": "VARCHAR"} {
		if types[col] != want {
			t.Errorf("%s is %s, want %s", col, types[col], want)
		}
	}

	m, err := sandbox.New(sandbox.Config{MerchantCode: acct.MerchantCode, SecretKey: "x", Seed: acct.Sandbox.Seed,
		OrdersPerDay: acct.Sandbox.OrdersPerDay, Since: acct.Sandbox.Since, Location: acct.SourceTimezone,
		Now: func() time.Time { return time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	null := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return s
	}
	seen := map[string]int{}
	checked := 0
	for d := (civil.Date{Year: 2025, Month: 3, Day: 10}); d.Before(civil.Date{Year: 2025, Month: 3, Day: 20}); d = d.AddDays(1) {
		for _, o := range m.OrdersOn(d) {
			f, ok := m.FactsOf(d, o.RefNo)
			if !ok {
				t.Fatalf("no facts for order %s of %s", o.RefNo, d)
			}
			var country, billing, delivery, payType, card, fxRate, fxMarkup, payout, origin string
			err := db.QueryRow(`SELECT country, billing_country, delivery_country, payment_type, coalesce(card_type, 'NULL'),
				CAST(fx_rate AS VARCHAR), CAST(fx_markup AS VARCHAR), payout_currency, origin
				FROM `+orders+` WHERE ref_no = ?`, o.RefNo).
				Scan(&country, &billing, &delivery, &payType, &card, &fxRate, &fxMarkup, &payout, &origin)
			if err != nil {
				t.Fatalf("order %s: %v", o.RefNo, err)
			}
			want := []string{strings.ToUpper(f.BillingCountry), strings.ToUpper(f.BillingCountry), strings.ToUpper(f.DeliveryCountry),
				f.PaymentType, null(f.CardType), rate9(t, f.FxRate), rate9(t, f.FxMarkup), f.PayoutCurrency, f.Origin}
			got := []string{country, billing, delivery, payType, card, fxRate, fxMarkup, payout, origin}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("order %s: DuckDB %v, generator %v", o.RefNo, got, want)
			}
			seen["pay "+payType]++
			seen[fmt.Sprint("usd ", o.Currency == "USD")]++
			seen[fmt.Sprint("delivered elsewhere ", billing != delivery)]++
			rows, err := db.Query(`SELECT line_item_reference, purchase_type, CAST(vat_percent AS VARCHAR)
				FROM `+items+` WHERE ref_no = ? ORDER BY line_no`, o.RefNo)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for rows.Next() {
				var ref, pt, vat string
				if err := rows.Scan(&ref, &pt, &vat); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, ref+" "+pt+" "+vat)
			}
			rows.Close()
			var wantLines []string
			for _, l := range f.Lines {
				wantLines = append(wantLines, l.LineItemReference+" "+l.PurchaseType+" "+rate9(t, l.VATPercent))
			}
			if fmt.Sprint(lines) != fmt.Sprint(wantLines) {
				t.Errorf("order %s lines: DuckDB %v, generator %v", o.RefNo, lines, wantLines)
			}
			checked++
		}
	}
	// The days checked cover each kind of value, so that none is vacuous.
	for _, k := range []string{"pay CC", "pay PAYPAL", "usd true", "usd false", "delivered elsewhere true", "delivered elsewhere false"} {
		if seen[k] == 0 {
			t.Errorf("no order with %s among %d (%v)", k, checked, seen)
		}
	}
}
