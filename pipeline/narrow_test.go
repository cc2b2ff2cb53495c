package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/hostile"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/transport"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
	"golang.org/x/time/rate"
)

// table returns the summary of table name in s, zero if s has none.
func table(s pipeline.Summary, name string) pipeline.TableSummary {
	for _, t := range s.Tables {
		if t.Table == name {
			return t
		}
	}
	return pipeline.TableSummary{}
}

// TestEmptiedCountsOnlyCommittedPartitions: a day of the window without
// orders is emptied, but counted as emptied only when it held rows; the
// rejected_rows partition of a run without rejects, which never existed,
// is not counted (and not listed) either.
func TestEmptiedCountsOnlyCommittedPartitions(t *testing.T) {
	root := t.TempDir()
	acct, job := testAccount(t), testJob(3)
	job.Streams = []string{"orders"}
	// Trading starts on 22 March: 1 to 21 March (and maybe 22, by time
	// zone) have no orders, and no partitions.
	acct.Sandbox.Since = civil.Date{Year: 2025, Month: 3, Day: 22}
	s := run(t, root, job, acct, businessDate)
	before := map[civil.Date]bool{}
	for _, o := range readOrders(t, root) {
		before[o.OrderDate] = true
	}
	if o := table(s, "orders"); o.Emptied != 0 || o.Files != len(before) || len(before) < 9 {
		t.Errorf("first run: orders %+v, %d dates with orders", o, len(before))
	}
	if rr := table(s, "rejected_rows"); rr != (pipeline.TableSummary{}) {
		t.Errorf("first run lists rejected_rows: %+v", rr)
	}
	// Now the merchant starts on 26 March: the days before that held rows.
	acct.Sandbox.Since = civil.Date{Year: 2025, Month: 3, Day: 26}
	s = run(t, root, job, acct, businessDate)
	after := map[civil.Date]bool{}
	for _, o := range readOrders(t, root) {
		after[o.OrderDate] = true
	}
	vanished := 0
	for d := range before {
		if !after[d] {
			vanished++
		}
	}
	if o := table(s, "orders"); vanished < 3 || o.Emptied != vanished || o.Files != len(after) {
		t.Errorf("second run: orders %+v; %d dates vanished, %d remain", o, vanished, len(after))
	}
	if oi := table(s, "order_items"); oi.Emptied != vanished {
		t.Errorf("second run: order_items %+v, want %d emptied", oi, vanished)
	}
}

// hostileRunStreams runs job's streams for hostileDate from a hostile
// server with behaviour b into the warehouse at root, as run id.
func hostileRunStreams(t *testing.T, root, id string, b hostile.Behaviour, streams ...string) pipeline.Summary {
	t.Helper()
	s := hostile.Start(hostile.Config{Behaviour: b})
	t.Cleanup(s.Close)
	acct, job := testAccount(t), testJob(3)
	acct.API = "jsonrpc"
	job.Streams = streams
	job.MaxRejected = big.NewRat(1, 2)
	src, err := jsonrpc.New(jsonrpc.Config{Account: acct.Name, Endpoint: s.URL(), MerchantCode: acct.MerchantCode,
		SecretKey: "k", Transport: transport.Config{Rate: rate.Inf, Policy: transport.Policy{MaxAttempts: 3,
			Sleep: func(ctx context.Context, _ time.Duration) error { return context.Cause(ctx) }}}})
	if err != nil {
		t.Fatal(err)
	}
	dest, err := local.Open(root, acct.MerchantCode, id)
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Run{ID: id, Job: job, Account: acct, Date: hostileDate, Source: src, Destination: dest,
		Warehouse: dest, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sum, err := r.Execute(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestNarrowedRunKeepsOtherStreamsRejects: rejected_rows has one partition
// per run date for every stream; a run of subscriptions only (etl run
// --stream subscriptions) keeps the orders' rejects that a full run of the
// date quarantined, and leaves the orders as they were.
func TestNarrowedRunKeepsOtherStreamsRejects(t *testing.T) {
	root := t.TempDir()
	full := hostileRunStreams(t, root, "full", hostile.MissingNetPrice, "orders", "subscriptions")
	rejects := func() map[string]string {
		out := map[string]string{}
		eachRow(t, root, schemas.RejectedRows(), func(_ civil.Date, row any) {
			rr := row.(*schemas.RejectedRow)
			out[*rr.RecordKey] = rr.RunID + "/" + rr.Stream
		})
		return out
	}
	before, orders := rejects(), len(readOrders(t, root))
	// 34 API days, each with one bad order (TestMissingAmountOrItemsRejected).
	if len(before) != 34 || table(full, "rejected_rows").Read != 34 || orders != 31*4 {
		t.Fatalf("full run: %d rejected rows, summary %+v, %d orders", len(before), table(full, "rejected_rows"), orders)
	}
	narrow := hostileRunStreams(t, root, "narrow", hostile.MissingNetPrice, "subscriptions")
	after := rejects()
	if len(after) != len(before) {
		t.Fatalf("after the subscriptions run: %d rejected rows, want %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v || v != "full/orders" {
			t.Errorf("reject %s: %s, was %s", k, after[k], v)
		}
	}
	if n := len(readOrders(t, root)); n != orders {
		t.Errorf("%d orders after the subscriptions run, want %d", n, orders)
	}
	if rr := table(narrow, "rejected_rows"); rr.Read != 0 || rr.Rows != 34 || rr.Files != 1 || rr.Emptied != 0 {
		t.Errorf("narrowed run: rejected_rows %+v, want 0 read, the 34 kept rows written", rr)
	}
	if o := table(narrow, "orders"); o != (pipeline.TableSummary{}) || !narrow.Window[0].IsZero() {
		t.Errorf("narrowed run: orders %+v, window %v", o, narrow.Window)
	}
}
