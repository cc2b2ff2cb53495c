package reports_test

import (
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/reports"
)

// TestSubscriptionsOfAMonthBeforeTheFirstRun builds January 2025 for the
// fixture's account "other", whose one run is of 31 March: there is no
// snapshot of January, and its Subscriptions figures come from the
// history's first versions. The subscriptions started in January are
// exactly those the sandbox had started by then; the active ones at most
// the sandbox's at 1 February, and all but the few cancelled since (a
// first version shows the state at its read).
func TestSubscriptionsOfAMonthBeforeTheFirstRun(t *testing.T) {
	fx := sandboxWarehouse(t)
	jan := civil.Date{Year: 2025, Month: 1, Day: 1}
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.other, Month: jan, RunID: "r", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	if want := (civil.Date{Year: 2025, Month: 1, Day: 31}); tot.Snapshot != want {
		t.Fatalf("subscriptions counted at %v, want %s", tot.Snapshot, want)
	}
	end := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	m, err := sandbox.New(sandbox.Config{MerchantCode: fx.other.MerchantCode, SecretKey: "x", Seed: fx.other.Sandbox.Seed,
		OrdersPerDay: fx.other.Sandbox.OrdersPerDay, Since: fx.other.Sandbox.Since, Location: fx.other.SourceTimezone,
		Now: func() time.Time { return end }})
	if err != nil {
		t.Fatal(err)
	}
	var wantNew, wantActive int64
	for s := range m.Subscriptions() {
		if s.TestSubscription {
			continue
		}
		if start, _ := time.ParseInLocation("2006-01-02 15:04:05", s.StartDate, fx.other.SourceTimezone); !start.Before(jan.In(time.UTC)) {
			wantNew++
		}
		if s.SubscriptionEnabled {
			wantActive++
		}
	}
	var gotNew, gotActive int64
	for _, p := range tot.Subscriptions {
		gotNew += int64(p.New)
		gotActive += int64(p.Active)
	}
	t.Logf("January from the history: %d new, %d active; the sandbox at 1 February: %d new, %d active", gotNew, gotActive, wantNew, wantActive)
	if gotNew != wantNew || wantNew == 0 {
		t.Errorf("%d new in January, the sandbox started %d", gotNew, wantNew)
	}
	if gotActive > wantActive || gotActive*20 < wantActive*19 {
		t.Errorf("%d active at the end of January, the sandbox had %d", gotActive, wantActive)
	}
}
