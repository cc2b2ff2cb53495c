package extracttest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/legacy"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// TestAPIsAgree extracts one merchant's window through the three APIs:
// REST reads exactly the orders JSON-RPC reads, and the legacy API the
// legacy projection of them, with faults and without.
func TestAPIsAgree(t *testing.T) {
	w := extract.Window{From: extracttest.Since.AddDays(2), To: extracttest.Since.AddDays(20)} // up to today
	for _, tt := range []struct {
		name   string
		faults sandbox.Faults
	}{
		{"no faults", sandbox.Faults{}},
		// Inserted orders would make the extractions differ: each sees
		// those the ones before it inserted.
		{"faults", sandbox.Faults{TooManyRequests: 0.05, ServerError: 0.05, Slow: 0.02, SlowDelay: 50 * time.Millisecond,
			Truncate: 0.05, Malformed: 0.05, Expire: 0.05, Seed: 11}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := extracttest.NewSetup(t, tt.faults)
			s.PageSize = 100
			read := func(name string, src extract.Source) []extract.Order {
				t.Helper()
				orders, _, err := extracttest.CollectOrders(t.Context(), src, w)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return orders
			}
			rpc := read("jsonrpc", newJSONRPC(t, s))
			rst := read("rest", newREST(t, s))
			leg := read("legacy", newLegacy(t, s))
			if len(rpc) < 400 {
				t.Fatalf("only %d orders", len(rpc))
			}
			t.Logf("%d orders; faults %+v", len(rpc), s.Merchant.FaultStats())

			t.Run("rest equals jsonrpc", func(t *testing.T) {
				extracttest.EqualOrders(t, rst, rpc)
			})
			t.Run("legacy equals the legacy projection of jsonrpc", func(t *testing.T) {
				want := make([]extract.Order, len(rpc))
				for i, o := range rpc {
					want[i] = legacy.Project(o)
				}
				extracttest.EqualOrders(t, leg, want)
			})
			t.Run("subscriptions: rest equals jsonrpc", func(t *testing.T) {
				a, _, err := extracttest.CollectSubscriptions(t.Context(), newJSONRPC(t, s))
				if err != nil {
					t.Fatal(err)
				}
				b, _, err := extracttest.CollectSubscriptions(t.Context(), newREST(t, s))
				if err != nil {
					t.Fatal(err)
				}
				if len(a) == 0 || !reflect.DeepEqual(a, b) {
					t.Errorf("REST read %d subscriptions, JSON-RPC %d, or they differ", len(b), len(a))
				}
			})
		})
	}
}
