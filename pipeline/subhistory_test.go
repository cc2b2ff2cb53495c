package pipeline_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

// apiSubscriptions returns the account's subscriptions as the sandbox
// serves them on the night after date, converted as the job converts them,
// by reference: what the history's current versions must hold.
func apiSubscriptions(t *testing.T, acct config.Account, date civil.Date) map[string]schemas.Subscription {
	t.Helper()
	at := date.AddDays(1).In(time.UTC).Add(2 * time.Hour)
	m, err := sandbox.New(sandbox.Config{MerchantCode: acct.MerchantCode, SecretKey: "x", Seed: acct.Sandbox.Seed,
		OrdersPerDay: acct.Sandbox.OrdersPerDay, Since: acct.Sandbox.Since, Location: acct.SourceTimezone,
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	conv := &transform.Converter{MerchantCode: acct.MerchantCode, Source: acct.SourceTimezone, Reporting: acct.ReportingTimezone}
	out := map[string]schemas.Subscription{}
	for raw := range m.Subscriptions() {
		var row schemas.Subscription
		if err := conv.Subscription(&raw, &row); err != nil {
			t.Fatal(err)
		}
		out[row.SubscriptionReference] = row
	}
	return out
}

// version is a subscription's attributes, without when or by which run.
func version(t *testing.T, s schemas.Subscription) string {
	t.Helper()
	s.ValidFrom, s.ValidTo, s.RunID, s.ExtractedAt = civil.Date{}, civil.Date{}, "", time.Time{}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// history reads subscription_history: every version, by reference, in
// valid_from order.
func history(t *testing.T, root string) map[string][]schemas.Subscription {
	t.Helper()
	out := map[string][]schemas.Subscription{}
	eachRow(t, root, schemas.SubscriptionHistory(), func(part civil.Date, row any) {
		s := *row.(*schemas.Subscription)
		if part != s.ValidTo {
			t.Errorf("%s valid to %s in partition %s", s.SubscriptionReference, s.ValidTo, part)
		}
		out[s.SubscriptionReference] = append(out[s.SubscriptionReference], s)
	})
	for ref, vs := range out {
		for i := 1; i < len(vs); i++ {
			for j := i; j > 0 && vs[j].ValidFrom.Before(vs[j-1].ValidFrom); j-- {
				vs[j], vs[j-1] = vs[j-1], vs[j]
			}
		}
		for i := 1; i < len(vs); i++ {
			if vs[i-1].ValidTo != vs[i].ValidFrom {
				t.Errorf("%s: version %d valid to %s, the next valid from %s", ref, i, vs[i-1].ValidTo, vs[i].ValidFrom)
			}
		}
		if last := vs[len(vs)-1]; last.ValidTo != schemas.OpenValidTo() {
			t.Errorf("%s: the last version is valid to %s", ref, last.ValidTo)
		}
	}
	return out
}

func subscriptionReads(t *testing.T, root string) []schemas.SubscriptionRead {
	t.Helper()
	var out []schemas.SubscriptionRead
	eachRow(t, root, schemas.SubscriptionReads(), func(_ civil.Date, row any) { out = append(out, *row.(*schemas.SubscriptionRead)) })
	return out
}

// mismatches counts the references whose current version is not the
// API's subscription, either way.
func mismatches(t *testing.T, hist map[string][]schemas.Subscription, api map[string]schemas.Subscription) int {
	t.Helper()
	n := 0
	for ref, s := range api {
		vs := hist[ref]
		if len(vs) == 0 || version(t, vs[len(vs)-1]) != version(t, s) {
			n++
		}
	}
	for ref := range hist {
		if _, ok := api[ref]; !ok {
			n++
		}
	}
	return n
}

// TestSubscriptionHistory runs the subscriptions stream on three nights
// five weeks apart: a first full read, then two reads of the changes only
// (ModifiedAfter the day before the previous read). After each, the
// current versions equal what the API serves that night, exactly; a
// subscription that changed between each pair of nights has three
// versions, dated by the runs that saw the changes; one that never changed
// has one row, valid from its start. Changes-only reads return a fraction
// of the subscriptions. A rerun of the last night changes nothing, and a
// run for an earlier night leaves the history alone.
func TestSubscriptionHistory(t *testing.T) {
	root := filepath.Join(t.TempDir(), "warehouse")
	acct, job := testAccount(t), testJob(1)
	job.Streams, job.FullRefreshEvery = []string{"subscriptions"}, 90
	job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
	nights := []civil.Date{{Year: 2025, Month: 3, Day: 1}, {Year: 2025, Month: 4, Day: 5}, {Year: 2025, Month: 5, Day: 10}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var api []map[string]schemas.Subscription
	for i, d := range nights {
		if _, err := pipeline.RunAccount(t.Context(), job, acct, d, nightOpts(d, log)); err != nil {
			t.Fatalf("night %s: %v", d, err)
		}
		api = append(api, apiSubscriptions(t, acct, d))
		if n := mismatches(t, history(t, root), api[i]); n != 0 {
			t.Errorf("night %s: %d subscriptions differ from the API's", d, n)
		}
	}
	reads := subscriptionReads(t, root)
	if len(reads) != 3 || !reads[0].Full || reads[1].Full || reads[2].Full {
		t.Fatalf("subscription_reads %+v, want a full read, then two of changes", reads)
	}
	for i, r := range reads[1:] {
		if want := nights[i]; r.ModifiedAfter == nil || *r.ModifiedAfter != want {
			t.Errorf("read of %s: modified_after %v, want %s", r.BusinessDate, r.ModifiedAfter, want)
		}
		if r.Read >= int64(len(api[i+1])) {
			t.Errorf("read of %s returned %d of %d subscriptions", r.BusinessDate, r.Read, len(api[i+1]))
		}
	}

	hist := history(t, root)
	twice, never := 0, 0
	for ref, now := range api[2] {
		was, before := api[1][ref], api[0][ref]
		vs := hist[ref]
		_, old := api[0][ref]
		switch {
		case old && version(t, before) != version(t, was) && version(t, was) != version(t, now):
			twice++
			if len(vs) != 3 || vs[1].ValidFrom != nights[1] || vs[2].ValidFrom != nights[2] || version(t, vs[0]) != version(t, before) {
				t.Errorf("%s changed twice: %d versions %v", ref, len(vs), vs)
			}
		case old && version(t, before) == version(t, was) && version(t, was) == version(t, now):
			never++
			if len(vs) != 1 || vs[0].ValidFrom != civil.DateOf(now.StartTS) {
				t.Errorf("%s never changed: %d versions %v", ref, len(vs), vs)
			}
		}
	}
	t.Logf("%d subscriptions; %d changed on both nights, %d never; reads %+v", len(api[2]), twice, never, reads)
	if twice < 10 || never < 10 {
		t.Fatalf("%d changed twice, %d never: the case tests nothing", twice, never)
	}

	// Rerun the last night: the same history. Then an earlier night.
	for _, d := range []civil.Date{nights[2], nights[1]} {
		if _, err := pipeline.RunAccount(t.Context(), job, acct, d, nightOpts(d, log)); err != nil {
			t.Fatal(err)
		}
		if again := history(t, root); len(again) != len(hist) || mismatches(t, again, api[2]) != 0 || versions(again) != versions(hist) {
			t.Errorf("after a run of %s: %d subscriptions, %d versions; want %d, %d", d, len(again), versions(again), len(hist), versions(hist))
		}
	}

	// The next night reads a small share, and adds a version per change.
	next := nights[2].AddDays(1)
	if _, err := pipeline.RunAccount(t.Context(), job, acct, next, nightOpts(next, log)); err != nil {
		t.Fatal(err)
	}
	now := apiSubscriptions(t, acct, next)
	after := history(t, root)
	if n := mismatches(t, after, now); n != 0 {
		t.Errorf("night %s: %d subscriptions differ from the API's", next, n)
	}
	changes := 0
	for ref, s := range now {
		if was, ok := api[2][ref]; !ok || version(t, was) != version(t, s) {
			changes++
		}
	}
	last := subscriptionReads(t, root)
	r := last[len(last)-1]
	t.Logf("night %s: read %d of %d, %d changes, versions %d -> %d", next, r.Read, len(now), changes, versions(hist), versions(after))
	if r.BusinessDate != next || r.Read*10 > int64(len(now)) || versions(after)-versions(hist) != changes || r.NewVersions != int64(changes) {
		t.Errorf("night %s: read %+v; %d changes, versions %d -> %d", next, r, changes, versions(hist), versions(after))
	}
}

// nightOpts runs at 02:00 UTC on the night after date, the sandbox's
// clock.
func nightOpts(date civil.Date, log *slog.Logger) pipeline.Options {
	at := date.AddDays(1).In(time.UTC).Add(2 * time.Hour)
	return pipeline.Options{Logger: log, Now: func() time.Time { return at }}
}

func versions(h map[string][]schemas.Subscription) int {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	return n
}

// TestModifiedAfterMissRepairedByFullRefresh: under modifiedafter-miss the
// changes-only read misses expiries, so the history's current versions
// differ from the API's; the next full refresh (here --full-refresh)
// makes them equal again.
func TestModifiedAfterMissRepairedByFullRefresh(t *testing.T) {
	root := filepath.Join(t.TempDir(), "warehouse")
	acct, job := testAccount(t), testJob(1)
	acct.Sandbox.Dialect = dialect.Of(dialect.ModifiedAfterMiss)
	job.Streams, job.FullRefreshEvery = []string{"subscriptions"}, 90
	job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, second := civil.Date{Year: 2025, Month: 3, Day: 1}, civil.Date{Year: 2025, Month: 4, Day: 5}
	for _, d := range []civil.Date{first, second} {
		if _, err := pipeline.RunAccount(t.Context(), job, acct, d, nightOpts(d, log)); err != nil {
			t.Fatal(err)
		}
	}
	api := apiSubscriptions(t, acct, second)
	missed := mismatches(t, history(t, root), api)
	if missed == 0 {
		t.Fatal("the changes-only read missed nothing: the case tests nothing")
	}
	if _, err := pipeline.RunAccount(t.Context(), job, acct, second, pipeline.Options{Logger: log, Now: nightOpts(second, log).Now, FullRefresh: true}); err != nil {
		t.Fatal(err)
	}
	if n := mismatches(t, history(t, root), api); n != 0 {
		t.Errorf("after the full refresh %d subscriptions differ from the API's (%d before)", n, missed)
	}
	t.Logf("%d of %d subscriptions missed, repaired", missed, len(api))
}
