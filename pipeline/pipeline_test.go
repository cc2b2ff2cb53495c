package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

var businessDate = civil.Date{Year: 2025, Month: 3, Day: 31}

func testAccount(t testing.TB) config.Account {
	t.Helper()
	src, err := time.LoadLocation("Etc/GMT-2")
	if err != nil {
		t.Fatal(err)
	}
	return config.Account{
		Name: "demo", MerchantCode: "LLTEST", SecretKey: "test-secret", API: config.APISandbox,
		HMAC: "sha256", SourceTimezone: src, ReportingTimezone: time.UTC, Currency: "USD", Concurrency: 4, TransactionStatuses: []string{"COMPLETE", "REFUND"},
		Sandbox: config.Sandbox{Seed: 7, OrdersPerDay: 40, Since: civil.Date{Year: 2025, Month: 1, Day: 1}},
	}
}

func testJob(lookback int) config.Job {
	return config.Job{Name: "nightly", Timezone: time.UTC, Accounts: []string{"demo"},
		Streams: []string{"orders", "subscriptions"}, LookbackDays: lookback}
}

// run executes one run into the warehouse at root and returns its summary.
func run(t *testing.T, root string, job config.Job, acct config.Account, date civil.Date) pipeline.Summary {
	t.Helper()
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, closeSrc, err := pipeline.OpenSource(ctx, acct, date, job.Timezone, log)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSrc()
	dest, err := local.Open(root, acct.MerchantCode, "run-"+date.String())
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Run{ID: "run-" + date.String(), Job: job, Account: acct, Date: date, Source: src, Destination: dest, Warehouse: dest, Logger: log}
	s, err := r.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eachRow calls fn with every committed row of tab in the warehouse at
// root, and the partition it is in.
func eachRow(t *testing.T, root string, tab schemas.Table, fn func(part civil.Date, row any)) {
	t.Helper()
	d, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	dates, err := d.Partitions(t.Context(), tab)
	if err != nil {
		t.Fatal(err)
	}
	for _, date := range dates {
		err := d.ReadPartition(t.Context(), tab, date, func(row any) error {
			fn(date, row)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func readOrders(t *testing.T, root string) map[string]schemas.Order {
	t.Helper()
	out := map[string]schemas.Order{}
	eachRow(t, root, schemas.Orders(), func(_ civil.Date, row any) {
		o := *row.(*schemas.Order)
		if _, dup := out[o.RefNo]; dup {
			t.Errorf("order %s twice", o.RefNo)
		}
		out[o.RefNo] = o
	})
	return out
}

func count(s pipeline.Summary, table string) int64 {
	for _, ts := range s.Tables {
		if ts.Table == table {
			return ts.Rows
		}
	}
	return 0
}

// TestRunWritesTheSandboxOrders checks the warehouse against the sandbox's
// own orders, converted independently of the pipeline, and that a rerun of
// the same date gives the same tables.
func TestRunWritesTheSandboxOrders(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(10)
	first := run(t, root, job, acct, businessDate)

	// What the sandbox says, as it is at the run's clock: 02:00 UTC the
	// next day.
	m, err := sandbox.New(sandbox.Config{MerchantCode: acct.MerchantCode, SecretKey: "x", Seed: acct.Sandbox.Seed,
		OrdersPerDay: acct.Sandbox.OrdersPerDay, Since: acct.Sandbox.Since, Location: acct.SourceTimezone,
		Now: func() time.Time { return time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	from, to := pipeline.Window(businessDate, job.LookbackDays)
	conv := &transform.Converter{Source: acct.SourceTimezone, Reporting: acct.ReportingTimezone}
	want := map[string]extract.Order{}
	var wantItems int64
	for d := from.AddDays(-1); !d.After(to.AddDays(1)); d = d.AddDays(1) {
		for _, o := range m.OrdersOn(d) {
			var row schemas.Order
			items, err := conv.Order(&o, &row, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !row.OrderDate.Before(from) && !row.OrderDate.After(to) {
				want[o.RefNo] = o
				wantItems += int64(len(items))
			}
		}
	}
	got := readOrders(t, root)
	if len(got) != len(want) || len(want) < 300 {
		t.Fatalf("warehouse has %d orders, sandbox %d in the window", len(got), len(want))
	}
	if n := count(first, "order_items"); n != wantItems {
		t.Errorf("order_items rows = %d, want %d", n, wantItems)
	}
	for ref, raw := range want {
		o, ok := got[ref]
		if !ok {
			t.Fatalf("order %s missing", ref)
		}
		// Amounts equal the API's decimal text exactly.
		for _, f := range []struct {
			name string
			got  money.Amount
			raw  string
		}{
			{"gross_price", o.GrossPrice, raw.GrossPrice.String()},
			{"net_price", o.NetPrice, raw.NetPrice.String()},
			{"vat", o.VAT, raw.VAT.String()},
			{"twocheckout_commission", o.TwoCheckoutCommission, raw.AvangateCommission.String()},
		} {
			if f.got != money.MustParse(f.raw) {
				t.Errorf("order %s %s = %s, API said %s", ref, f.name, f.got, f.raw)
			}
		}
		local, err := time.ParseInLocation("2006-01-02 15:04:05", raw.OrderDate, acct.SourceTimezone)
		if err != nil {
			t.Fatal(err)
		}
		if !o.OrderTS.Equal(local) || o.OrderTS.Location() != time.UTC || o.OrderDate != civil.DateOf(local.UTC()) {
			t.Errorf("order %s: ts %v date %v, API said %s at UTC+2", ref, o.OrderTS, o.OrderDate, raw.OrderDate)
		}
		if o.Currency != strings.ToUpper(raw.Currency) || o.MerchantCode != "LLTEST" || o.SourceAPI != "jsonrpc" {
			t.Errorf("order %s: %s %s %s", ref, o.Currency, o.MerchantCode, o.SourceAPI)
		}
	}

	second := run(t, root, job, acct, businessDate)
	for _, tab := range []string{"orders", "order_items", "subscription_history"} {
		if a, b := count(first, tab), count(second, tab); a != b || a == 0 {
			t.Errorf("%s: first run %d rows, rerun %d", tab, a, b)
		}
	}
	if again := readOrders(t, root); len(again) != len(got) {
		t.Errorf("after the rerun the warehouse has %d orders, want %d", len(again), len(got))
	}
}

// TestRunClearsVanishedDays shows that a day of the window with no orders
// any more is emptied, not left with an earlier run's rows.
func TestRunClearsVanishedDays(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(3)
	job.Streams = []string{"orders"}
	run(t, root, job, acct, businessDate)
	if n := len(readOrders(t, root)); n == 0 {
		t.Fatal("no orders written")
	}
	// The same merchant, but it only started trading after the window:
	// every day of the window is now empty.
	acct.Sandbox.Since = businessDate.AddDays(5)
	s := run(t, root, job, acct, businessDate)
	if n := len(readOrders(t, root)); n != 0 {
		t.Errorf("%d orders left after the API stopped returning them", n)
	}
	// Three days of look-back on 31 March widen to the whole of March.
	if from, to := pipeline.Window(businessDate, 3); from != (civil.Date{Year: 2025, Month: 3, Day: 1}) || to != businessDate {
		t.Errorf("window = %s..%s", from, to)
	}
	for _, ts := range s.Tables {
		if ts.Table == "orders" && ts.Emptied != 31 {
			t.Errorf("orders emptied = %d, want 31", ts.Emptied)
		}
	}
}

// TestRunFailureKeepsPreviousData: a run that fails half-way commits
// nothing, and the error names the account, stream, page and record.
func TestRunFailureKeepsPreviousData(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(3)
	job.Streams = []string{"orders"}
	job.MaxRejected = new(big.Rat) // no invalid record tolerated
	run(t, root, job, acct, businessDate)
	before := readOrders(t, root)

	// A proxy in front of the sandbox that corrupts one order's currency.
	src := corruptingSource(t, acct, `"Currency":"USD"`, `"Currency":"US$"`)
	dest, err := local.Open(root, acct.MerchantCode, "failing")
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Run{ID: "failing", Job: job, Account: acct, Date: businessDate, Source: src, Destination: dest,
		Warehouse: dest, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err = r.Execute(context.Background())
	var re *pipeline.RecordError
	var fe *transform.FieldError
	var tooMany *pipeline.TooManyRejectedError
	if !errors.As(err, &tooMany) || !errors.As(err, &re) || !errors.As(err, &fe) || fe.Field != "Currency" || re.Page != 1 || re.Stream != "orders" {
		t.Fatalf("err = %v, want too many rejects, the first on the Currency field of page 1", err)
	}
	for _, want := range []string{"stream orders: 33 of 1267 records (2.60%) failed validation", "max_rejected 0.00%", "account demo", "page 1", "record ", "field Currency", `"US$"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	after := readOrders(t, root)
	if len(after) != len(before) {
		t.Errorf("orders after a failed run = %d, before = %d", len(after), len(before))
	}
}

// corruptingSource returns a JSON-RPC client reading acct's sandbox through a
// proxy that replaces, in the first order of each API day that contains
// old, the first old with new. Which order that is does not depend on the
// search, so every response that carries it carries it corrupted, the
// way a record the API holds wrong comes back.
func corruptingSource(t *testing.T, acct config.Account, old, new string) extract.Source {
	t.Helper()
	clock := func() time.Time { return time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC) }
	m, err := sandbox.New(sandbox.Config{MerchantCode: acct.MerchantCode, SecretKey: "test-secret", Seed: acct.Sandbox.Seed,
		OrdersPerDay: acct.Sandbox.OrdersPerDay, Since: acct.Sandbox.Since, Location: acct.SourceTimezone, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	// chosen is the RefNo corrupted on each API day.
	chosen := map[civil.Date]string{}
	for d := acct.Sandbox.Since; d.Before(civil.Date{Year: 2025, Month: 4, Day: 3}); d = d.AddDays(1) {
		for _, o := range m.OrdersOn(d) {
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			if !o.TestOrder && strings.Contains(string(b), old) {
				chosen[d] = o.RefNo
				break
			}
		}
	}
	h := m.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", "application/json")
		w.Write(corruptItems(t, rec.Body.Bytes(), chosen, old, new))
	}))
	t.Cleanup(srv.Close)
	src, err := jsonrpc.New(jsonrpc.Config{Account: "demo", Endpoint: srv.URL + sandbox.Path, MerchantCode: acct.MerchantCode,
		SecretKey: "test-secret", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// corruptItems replaces the first old with new in the items of a JSON-RPC
// search response whose RefNo is one of chosen's.
func corruptItems(t *testing.T, body []byte, chosen map[civil.Date]string, old, new string) []byte {
	var resp map[string]json.RawMessage
	var result struct {
		Items      []json.RawMessage
		Pagination json.RawMessage
	}
	if json.Unmarshal(body, &resp) != nil || json.Unmarshal(resp["result"], &result) != nil || result.Items == nil {
		return body // a login, or an error
	}
	refs := map[string]bool{}
	for _, ref := range chosen {
		refs[ref] = true
	}
	for i, item := range result.Items {
		var o struct{ RefNo string }
		if err := json.Unmarshal(item, &o); err != nil {
			t.Error(err)
		}
		if refs[o.RefNo] {
			result.Items[i] = json.RawMessage(strings.Replace(string(item), old, new, 1))
		}
	}
	b, err := json.Marshal(result)
	if err != nil {
		t.Error(err)
	}
	resp["result"] = b
	out, err := json.Marshal(resp)
	if err != nil {
		t.Error(err)
	}
	return out
}

// TestRejectedRecordsAreQuarantined: within max_rejected, invalid records
// go to rejected_rows with what and where, and the rest loads.
func TestRejectedRecordsAreQuarantined(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(3)
	job.Streams = []string{"orders"}
	job.MaxRejected = big.NewRat(1, 10)
	// One order per API day gets a negative quantity on its first line.
	src := corruptingSource(t, acct, `"Quantity":`, `"Quantity":-`)
	dest, err := local.Open(root, acct.MerchantCode, "rejecting")
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Run{ID: "rejecting", Job: job, Account: acct, Date: businessDate, Source: src, Destination: dest,
		Warehouse: dest, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s, err := r.Execute(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var rejected []schemas.RejectedRow
	err = dest.ReadPartition(t.Context(), schemas.RejectedRows(), businessDate, func(row any) error {
		rejected = append(rejected, *row.(*schemas.RejectedRow))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rejected)) != s.Rejected["orders"] || len(rejected) < 20 {
		t.Fatalf("%d rejected rows, summary says %d", len(rejected), s.Rejected["orders"])
	}
	orders := readOrders(t, root)
	positions := map[int64]bool{}
	for _, rr := range rejected {
		if rr.Stream != "orders" || rr.Field == nil || *rr.Field != "Items[0].Quantity" || rr.Page < 1 || rr.Record < 1 ||
			rr.APIDay == nil || rr.RecordKey == nil || !strings.Contains(rr.Reason, "must not be negative") ||
			!strings.Contains(rr.Raw, `"Quantity":-`) || rr.RunID != "rejecting" || rr.RunDate != businessDate {
			t.Errorf("rejected row = %+v", rr)
		}
		if _, loaded := orders[*rr.RecordKey]; loaded {
			t.Errorf("rejected order %s was loaded", *rr.RecordKey)
		}
		if positions[rr.Position] {
			t.Errorf("position %d twice", rr.Position)
		}
		positions[rr.Position] = true
	}
}

func readChargebacks(t *testing.T, root string) map[string]schemas.Chargeback {
	t.Helper()
	out := map[string]schemas.Chargeback{}
	eachRow(t, root, schemas.Chargebacks(), func(date civil.Date, row any) {
		c := *row.(*schemas.Chargeback)
		if c.OpenedOn != date {
			t.Errorf("chargeback %s opened %s in partition %s", c.RefNo, c.OpenedOn, date)
		}
		if _, dup := out[c.RefNo]; dup {
			t.Errorf("chargeback %s twice", c.RefNo)
		}
		out[c.RefNo] = c
	})
	return out
}

// TestChargebackOpenedOnAcrossRuns: the first run dates the disputes it
// finds by their orders; a later run dates disputes that appeared since on
// orders it had loaded by its own date, leaves the earlier ones alone, and a
// rerun changes nothing.
func TestChargebackOpenedOnAcrossRuns(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(30)
	acct.Sandbox.OrdersPerDay = 150
	acct.ChargebackFees = config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.MustParse("25")}
	job.Streams = []string{"orders", "chargebacks"}
	d1, d2 := civil.Date{Year: 2025, Month: 3, Day: 31}, civil.Date{Year: 2025, Month: 4, Day: 10}

	run(t, root, job, acct, d1)
	first := readChargebacks(t, root)
	if len(first) < 5 {
		t.Fatalf("only %d disputes after the first run", len(first))
	}
	for _, c := range first {
		if c.OpenedOnBasis != transform.BasisOrderDate || c.OpenedOn != c.OrderDate {
			t.Errorf("first run: %s opened %s (%s), order date %s", c.RefNo, c.OpenedOn, c.OpenedOnBasis, c.OrderDate)
		}
		if c.FeeAmount != money.MustParse("25") || c.FeeCurrency != "USD" || c.Resolution == "NONE" {
			t.Errorf("first run: %+v", c)
		}
	}

	run(t, root, job, acct, d2)
	second := readChargebacks(t, root)
	observed := 0
	for ref, c := range second {
		old, ok := first[ref]
		switch {
		case ok:
			if c.OpenedOn != old.OpenedOn || c.OpenedOnBasis != old.OpenedOnBasis {
				t.Errorf("%s moved from %s to %s", ref, old.OpenedOn, c.OpenedOn)
			}
		case !c.OrderDate.After(d1):
			// Its order was loaded by the first run without a dispute.
			observed++
			if c.OpenedOn != d2 || c.OpenedOnBasis != transform.BasisObserved {
				t.Errorf("%s (order %s) opened %s (%s), want %s observed", ref, c.OrderDate, c.OpenedOn, c.OpenedOnBasis, d2)
			}
		default:
			if c.OpenedOn != c.OrderDate || c.OpenedOnBasis != transform.BasisOrderDate {
				t.Errorf("%s: an order first read by this run: opened %s (%s)", ref, c.OpenedOn, c.OpenedOnBasis)
			}
		}
	}
	for ref := range first {
		if _, ok := second[ref]; !ok {
			t.Errorf("dispute %s vanished", ref)
		}
	}
	if observed == 0 {
		t.Fatal("no dispute appeared between the runs: the test shows nothing")
	}
	// Resolutions are kept current: some disputes resolved between the runs.
	changed := 0
	for ref, old := range first {
		if second[ref].Resolution != old.Resolution {
			changed++
		}
	}
	t.Logf("%d disputes, %d observed by the second run, %d resolved since the first", len(second), observed, changed)

	rerun := run(t, root, job, acct, d2)
	if again := readChargebacks(t, root); fmt.Sprint(sortedRows(again)) != fmt.Sprint(sortedRows(second)) {
		t.Error("a rerun of the same date changed the chargebacks")
	}
	// Nothing changed, so no chargebacks partition was rewritten.
	openedOn := map[civil.Date]bool{}
	for _, c := range second {
		openedOn[c.OpenedOn] = true
	}
	for _, ts := range rerun.Tables {
		if ts.Table == "chargebacks" && (ts.Files != 0 || ts.Unchanged != len(openedOn)) {
			t.Errorf("rerun: chargebacks %+v, want 0 files and %d unchanged", ts, len(openedOn))
		}
	}
}

func sortedRows(m map[string]schemas.Chargeback) []string {
	var out []string
	for _, c := range m {
		rate := "NULL"
		if c.Rate != nil {
			rate = c.Rate.String()
		}
		out = append(out, fmt.Sprint(c.RefNo, c.OpenedOn, c.OpenedOnBasis, c.Resolution, c.FeeAmount, rate, c.FeeRule))
	}
	slices.Sort(out)
	return out
}

// TestThreeAPIsLoadTheSameOrders runs the same sandbox merchant through each
// API's client into its own warehouse: JSON-RPC and REST load identical
// orders; the legacy API loads the same orders with the fields it carries.
func TestThreeAPIsLoadTheSameOrders(t *testing.T) {
	job := testJob(3)
	job.Streams = []string{"orders", "subscriptions"}
	got := map[string]map[string]schemas.Order{}
	for _, api := range []string{"jsonrpc", "rest", "legacy"} {
		acct := testAccount(t)
		acct.Sandbox.Protocol = api
		root := t.TempDir()
		s := run(t, root, job, acct, businessDate)
		got[api] = readOrders(t, root)
		if api == "legacy" {
			if len(s.Unsupported) != 1 || s.Unsupported[0] != "subscriptions" || count(s, "subscription_history") != 0 {
				t.Errorf("legacy summary: %+v", s)
			}
		} else if count(s, "subscription_history") == 0 {
			t.Errorf("%s: no subscriptions", api)
		}
	}
	if len(got["jsonrpc"]) < 300 {
		t.Fatalf("only %d orders", len(got["jsonrpc"]))
	}
	for _, api := range []string{"rest", "legacy"} {
		if len(got[api]) != len(got["jsonrpc"]) {
			t.Errorf("%s loaded %d orders, jsonrpc %d", api, len(got[api]), len(got["jsonrpc"]))
		}
	}
	for ref, j := range got["jsonrpc"] {
		r, l := got["rest"][ref], got["legacy"][ref]
		if r.SourceAPI != "rest" || l.SourceAPI != "legacy" {
			t.Fatalf("source_api %q %q", r.SourceAPI, l.SourceAPI)
		}
		j.SourceAPI, j.ExtractedAt, r.SourceAPI, r.ExtractedAt = "", time.Time{}, "", time.Time{}
		if fmt.Sprintf("%+v", deref(j)) != fmt.Sprintf("%+v", deref(r)) {
			t.Errorf("order %s:\n jsonrpc %+v\n    rest %+v", ref, deref(j), deref(r))
		}
		if !l.OrderTS.Equal(j.OrderTS) || l.OrderDate != j.OrderDate || l.Currency != j.Currency ||
			l.GrossDiscountedPrice != j.GrossDiscountedPrice || l.IsTest { // recorded sales have no demo flag
			t.Errorf("order %s: legacy %+v, jsonrpc %+v", ref, deref(l), deref(j))
		}
	}
}

// deref renders an order's pointer fields by value, for comparison.
func deref(o schemas.Order) string {
	// JSON follows the pointers, so that equal values print equal.
	b, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestConcurrentJobsKeepEveryRunRecord: two jobs on one account commit to
// one warehouse at the same time; etl_runs keeps both runs' rows.
func TestConcurrentJobsKeepEveryRunRecord(t *testing.T) {
	root := t.TempDir()
	acct := testAccount(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	errs := make(chan error, 4)
	for _, name := range []string{"nightly", "monthly", "extra", "more"} {
		job := testJob(3)
		job.Name = name
		job.Streams = []string{"orders"}
		job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
		go func() {
			_, err := pipeline.RunAccount(t.Context(), job, acct, businessDate, pipeline.Options{Logger: log})
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	d, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]int{}
	dates, err := d.Partitions(t.Context(), schemas.Runs())
	if err != nil {
		t.Fatal(err)
	}
	for _, date := range dates {
		err := d.ReadPartition(t.Context(), schemas.Runs(), date, func(row any) error {
			jobs[row.(*schemas.Run).Job]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(jobs) != 4 || jobs["nightly"] != 1 || jobs["monthly"] != 1 || jobs["extra"] != 1 || jobs["more"] != 1 {
		t.Errorf("etl_runs rows by job = %v, want one for each of 4 jobs", jobs)
	}
}
