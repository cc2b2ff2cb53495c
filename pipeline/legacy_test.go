package pipeline_test

import (
	"testing"
)

// TestLegacyRecordedShape runs the job through the legacy API of the
// sandbox, which serves detail_sale as recorded: no cust_currency on a
// sale in the vendor's currency (USD), country_code alpha-3 beside
// country_code_2. Every order loads, none is rejected, and each has the
// currency and country the JSON-RPC run of the same merchant loads: the
// USD sales take the account's currency. Before the client read the
// recorded shape, every USD sale was quarantined for want of a currency
// and every country was NULL, while the run succeeded.
func TestLegacyRecordedShape(t *testing.T) {
	job := testJob(3)
	job.Streams = []string{"orders"}
	read := func(api string) (map[string]int64, map[string]string) {
		acct := testAccount(t)
		acct.Sandbox.Protocol = api
		root := t.TempDir()
		s := run(t, root, job, acct, businessDate)
		got := map[string]string{}
		for ref, o := range readOrders(t, root) {
			country := "NULL"
			if o.Country != nil {
				country = *o.Country
			}
			got[ref] = o.Currency + " " + country
		}
		return s.Rejected, got
	}
	_, want := read("jsonrpc")
	rejected, got := read("legacy")
	if n := rejected["orders"]; n != 0 {
		t.Errorf("legacy run rejected %d orders", n)
	}
	if len(got) != len(want) || len(want) < 300 {
		t.Fatalf("legacy loaded %d orders, JSON-RPC %d", len(got), len(want))
	}
	perCurrency := map[string]int{}
	for ref, w := range want {
		if got[ref] != w {
			t.Errorf("order %s: legacy currency and country %q, JSON-RPC %q", ref, got[ref], w)
		}
		perCurrency[w[:3]]++
	}
	for _, cur := range []string{"USD", "EUR", "JPY"} {
		if perCurrency[cur] == 0 {
			t.Errorf("no %s order: %v", cur, perCurrency)
		}
	}
	t.Logf("orders per currency: %v", perCurrency)
}
