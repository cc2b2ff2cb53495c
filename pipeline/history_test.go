package pipeline_test

import (
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
)

// TestOlderRunKeepsLaterHistory is issue 14's finding 2: a run for an
// earlier business date, after runs of later dates, sees the orders as
// they were then (the sandbox's clock is the date's night), without the
// disputes opened since. It must not remove those disputes, move them, or
// turn their resolutions back, and must not replace a month's complete
// rate with its month-to-date one. A run of the later date again then
// changes nothing.
func TestOlderRunKeepsLaterHistory(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(30)
	acct.Sandbox.OrdersPerDay = 150
	acct.ChargebackFees = config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.MustParse("25")}
	job.Streams = []string{"orders", "chargebacks"}
	early, late := civil.Date{Year: 2025, Month: 3, Day: 25}, civil.Date{Year: 2025, Month: 4, Day: 10}
	march := civil.Date{Year: 2025, Month: 3, Day: 1}

	run(t, root, job, acct, early)
	before := readChargebacks(t, root)
	run(t, root, job, acct, late)
	history := readChargebacks(t, root)
	rates := readRates(t, root)
	if !rates[march].Complete {
		t.Fatalf("March's rate after the run of %s is not complete: %+v", late, rates[march])
	}
	// The test shows something only if disputes appeared or were resolved
	// between the two dates.
	appeared, resolved := 0, 0
	for ref, c := range history {
		if c.AsOf == nil || *c.AsOf != late && *c.AsOf != early {
			t.Errorf("%s: as_of %v, want %s or %s", ref, c.AsOf, early, late)
		}
		old, ok := before[ref]
		switch {
		case !ok:
			appeared++
		case old.Resolution != c.Resolution:
			resolved++
		}
	}
	if appeared == 0 || resolved == 0 {
		t.Fatalf("%d disputes appeared and %d were resolved between %s and %s: the test shows nothing", appeared, resolved, early, late)
	}

	s := run(t, root, job, acct, early)
	after := readChargebacks(t, root)
	if len(after) != len(history) {
		t.Errorf("%d disputes after the run of %s, %d before it", len(after), early, len(history))
	}
	for ref, want := range history {
		got, ok := after[ref]
		switch {
		case !ok:
			t.Errorf("dispute %s (opened %s, as of %s) vanished", ref, want.OpenedOn, dateOf(want.AsOf))
		case got.OpenedOn != want.OpenedOn || got.OpenedOnBasis != want.OpenedOnBasis || got.Resolution != want.Resolution ||
			got.FeeAmount != want.FeeAmount || dateOf(got.AsOf) != dateOf(want.AsOf):
			t.Errorf("dispute %s changed by the run of %s:\n got %+v\nwant %+v", ref, early, got, want)
		}
	}
	for _, ts := range s.Tables {
		if ts.Table == "chargebacks" && ts.Emptied != 0 {
			t.Errorf("the run of %s cleared %d chargebacks partitions", early, ts.Emptied)
		}
	}
	if got := readRates(t, root)[march]; got != rates[march] {
		t.Errorf("March's rate after the run of %s:\n got %+v\nwant %+v", early, got, rates[march])
	}

	// The later date again: nothing to change.
	s = run(t, root, job, acct, late)
	if again := readChargebacks(t, root); len(again) != len(history) {
		t.Errorf("%d disputes after the rerun of %s, want %d", len(again), late, len(history))
	}
	for _, ts := range s.Tables {
		if ts.Table == "chargebacks" && ts.Files != 0 {
			t.Errorf("the rerun of %s rewrote %d chargebacks partitions", late, ts.Files)
		}
	}
}

// dateOf formats an optional date; NULL for none.
func dateOf(d *civil.Date) string {
	if d == nil {
		return "NULL"
	}
	return d.String()
}
