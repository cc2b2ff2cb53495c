package jsonrpc_test

import (
	"encoding/json"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// TestSubscriptionsModifiedAfter reads every subscription, lets a week
// pass, and reads them all again and with ModifiedAfter the first read's
// day. By default the filtered search returns every subscription that
// changed or appeared between the reads, as the second full read has it,
// and far fewer than all. Under modifiedafter-miss it misses changes, and
// only expiries.
func TestSubscriptionsModifiedAfter(t *testing.T) {
	loc, err := time.LoadLocation(sandbox.DefaultLocation)
	if err != nil {
		t.Fatal(err)
	}
	first := since.AddDays(200).In(loc).Add(13 * time.Hour)
	for _, tc := range []struct {
		dialect string
		misses  bool
	}{{"", false}, {dialect.ModifiedAfterMiss, true}} {
		t.Run("dialect "+tc.dialect, func(t *testing.T) {
			h := newHarness(t, first, func(cfg *sandbox.Config) { cfg.Dialect = dialect.Of(tc.dialect); cfg.OrdersPerDay = 20 })
			c := h.client(t, nil)
			before, _, err := extracttest.CollectSubscriptions(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			h.clk.Add(7 * 24 * time.Hour)
			after, _, err := extracttest.CollectSubscriptions(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := extracttest.CollectSubscriptionsOf(t.Context(), c, extract.SubscriptionFilter{ModifiedAfter: civil.DateOf(first)})
			if err != nil {
				t.Fatal(err)
			}
			was := map[string]string{}
			for _, s := range before {
				was[s.SubscriptionReference] = encode(t, s)
			}
			now := map[string]string{}
			for _, s := range after {
				now[s.SubscriptionReference] = encode(t, s)
			}
			found := map[string]bool{}
			for _, s := range got {
				ref := s.SubscriptionReference
				if found[ref] {
					t.Errorf("%s returned twice", ref)
				}
				found[ref] = true
				if encode(t, s) != now[ref] {
					t.Errorf("%s returned as %s, the full read has %s", ref, encode(t, s), now[ref])
				}
			}
			changed, missed := 0, 0
			for _, s := range after {
				ref := s.SubscriptionReference
				if was[ref] == now[ref] {
					continue
				}
				changed++
				if found[ref] {
					continue
				}
				missed++
				expired := !s.SubscriptionEnabled && s.ExpirationDate != "" && s.ExpirationDate < h.clk.Now().In(loc).Format(extract.DateLayout)
				if !tc.misses || !expired {
					t.Errorf("changed subscription %s missed (was %s, is %s)", ref, was[ref], now[ref])
				}
			}
			t.Logf("%d subscriptions, %d changed or new, %d returned, %d missed", len(after), changed, len(got), missed)
			if changed < 20 || len(got) >= len(after)*2/3 {
				t.Errorf("%d changed, %d returned of %d: the case tests nothing", changed, len(got), len(after))
			}
			if tc.misses && missed == 0 {
				t.Error("modifiedafter-miss missed no change")
			}
		})
	}
}

func encode(t *testing.T, s extract.Subscription) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
