package pipeline_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/hostile"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/transport"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
	"golang.org/x/time/rate"
)

var hostileDate = civil.Date{Year: 2026, Month: 10, Day: 31}

// hostileRun runs the orders of hostileDate (the window is October, API
// days 30 September to 1 November) from a hostile server with behaviour b
// into a new warehouse, and returns the warehouse root and the result.
func hostileRun(t *testing.T, b hostile.Behaviour) (string, pipeline.Summary, error) {
	t.Helper()
	return hostileRunAt(t, t.TempDir(), "jsonrpc", b)
}

// hostileRunAt is hostileRun into the warehouse at root, through api
// (jsonrpc or rest).
func hostileRunAt(t *testing.T, root, api string, b hostile.Behaviour) (string, pipeline.Summary, error) {
	t.Helper()
	s := hostile.Start(hostile.Config{Behaviour: b})
	t.Cleanup(s.Close)
	acct, job := testAccount(t), testJob(3)
	acct.API = "jsonrpc"
	job.Streams = []string{"orders"}
	job.MaxRejected = big.NewRat(1, 2)
	cfg := jsonrpc.Config{Account: acct.Name, Endpoint: s.URL(), MerchantCode: acct.MerchantCode,
		SecretKey: "k", Transport: transport.Config{Rate: rate.Inf, Policy: transport.Policy{MaxAttempts: 3,
			Sleep: func(ctx context.Context, _ time.Duration) error { return context.Cause(ctx) }}}}
	var src extract.Source
	var err error
	if api == "rest" {
		cfg.Endpoint = s.RESTURL()
		src, err = rest.New(cfg)
	} else {
		src, err = jsonrpc.New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	dest, err := local.Open(root, acct.MerchantCode, "hostile-"+string(b))
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Run{ID: "hostile-" + string(b), Job: job, Account: acct, Date: hostileDate, Source: src, Destination: dest,
		Warehouse: dest, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sum, err := r.Execute(t.Context())
	return root, sum, err
}

// TestMissingAmountOrItemsRejected is F4 on loopback: the first order of
// every API day lacks NetPrice, or Items; each is quarantined in
// rejected_rows with the field named and none of them is loaded.
func TestMissingAmountOrItemsRejected(t *testing.T) {
	for _, tt := range []struct {
		b     hostile.Behaviour
		field string
	}{
		{hostile.MissingNetPrice, "NetPrice"},
		{hostile.NoItems, "Items"},
	} {
		t.Run(string(tt.b), func(t *testing.T) {
			root, s, err := hostileRun(t, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			dest, err := local.Open(root, "READER", "reader")
			if err != nil {
				t.Fatal(err)
			}
			var rejected []schemas.RejectedRow
			err = dest.ReadPartition(t.Context(), schemas.RejectedRows(), hostileDate, func(row any) error {
				rejected = append(rejected, *row.(*schemas.RejectedRow))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// 34 API days (30 September to 2 November: the search of 1
			// November reads 2 November too), each with one bad order.
			if len(rejected) != 34 || s.Rejected["orders"] != 34 {
				t.Fatalf("%d rejected rows, summary %d; want 34", len(rejected), s.Rejected["orders"])
			}
			orders := readOrders(t, root)
			for _, rr := range rejected {
				if rr.Field == nil || *rr.Field != tt.field || !strings.Contains(rr.Reason, "field "+tt.field+": required value missing") ||
					rr.RecordKey == nil || !strings.HasSuffix(*rr.RecordKey, "001") {
					t.Errorf("rejected row %+v", rr)
					continue
				}
				if _, ok := orders[*rr.RecordKey]; ok {
					t.Errorf("order %s loaded", *rr.RecordKey)
				}
			}
			// October's 31 days of 4 good orders each.
			if len(orders) != 31*4 {
				t.Errorf("%d orders loaded, want %d", len(orders), 31*4)
			}
		})
	}
}

// TestOrderReadTwiceIsStoredOnce: the API returns an order of one day on
// the next day's search too, and the day searches overlap; every order is
// stored once, on its own date, and the orders outside the window are
// counted once each.
func TestOrderReadTwiceIsStoredOnce(t *testing.T) {
	root, s, err := hostileRun(t, hostile.DuplicateAcrossDays)
	if err != nil {
		t.Fatal(err)
	}
	orders := readOrders(t, root) // fails on a RefNo twice
	if len(orders) != 31*5 || count(s, "orders") != 31*5 {
		t.Errorf("%d orders stored, summary %d; want %d", len(orders), count(s, "orders"), 31*5)
	}
	for ref, o := range orders {
		if want := ref[:4] + "-" + ref[4:6] + "-" + ref[6:8]; o.OrderDate.String() != want {
			t.Errorf("order %s on %s, want %s", ref, o.OrderDate, want)
		}
	}
	// API days 30 September, 1 and 2 November: 5 orders each, and the
	// first of 29 September, which 30 September's search repeats.
	if s.Skipped != 16 {
		t.Errorf("%d orders outside the window, want 16", s.Skipped)
	}
}

// TestRedatedRefNoFailsTheRun is F5: the API returns an order of one day
// again on the next day's search, dated on that day. The run fails naming
// the RefNo and both dates, and commits nothing.
func TestRedatedRefNoFailsTheRun(t *testing.T) {
	root, _, err := hostileRun(t, hostile.RedatedAcrossDays)
	var dup *pipeline.DuplicateKeyError
	if !errors.As(err, &dup) {
		t.Fatalf("error %v, want a DuplicateKeyError", err)
	}
	want := pipeline.DuplicateKeyError{Stream: "orders", Key: "20260930001",
		First: civil.Date{Year: 2026, Month: 9, Day: 30}, Second: civil.Date{Year: 2026, Month: 10, Day: 1}}
	if *dup != want {
		t.Errorf("error %+v, want %+v", *dup, want)
	}
	if !strings.Contains(err.Error(), "20260930001 dated 2026-09-30 and again dated 2026-10-01") {
		t.Errorf("error %q", err)
	}
	if orders := readOrders(t, root); len(orders) != 0 {
		t.Errorf("%d orders committed by a failed run", len(orders))
	}
}

// TestNullResultKeepsCommittedData is F3 in the pipeline: a rerun whose
// order pages come back with a null result, or null or missing Items,
// fails and leaves the committed orders as they were, instead of reading
// empty days and clearing their partitions.
func TestNullResultKeepsCommittedData(t *testing.T) {
	for _, tt := range []struct {
		api string
		b   hostile.Behaviour
	}{
		{"jsonrpc", hostile.NullResult}, {"jsonrpc", hostile.MissingResult}, {"jsonrpc", hostile.NullItems}, {"jsonrpc", hostile.MissingItems},
		{"rest", hostile.NullResult}, {"rest", hostile.MissingResult}, {"rest", hostile.NullItems}, {"rest", hostile.MissingItems},
	} {
		t.Run(tt.api+"/"+string(tt.b), func(t *testing.T) {
			root := t.TempDir()
			if _, _, err := hostileRunAt(t, root, tt.api, hostile.Honest); err != nil {
				t.Fatal(err)
			}
			before := readOrders(t, root)
			if len(before) != 31*5 {
				t.Fatalf("%d orders committed, want %d", len(before), 31*5)
			}
			_, _, err := hostileRunAt(t, root, tt.api, tt.b)
			if err == nil || !strings.Contains(err.Error(), "stream orders, API day") {
				t.Fatalf("error %v, want a page error", err)
			}
			if after := readOrders(t, root); len(after) != len(before) {
				t.Errorf("%d orders after the failed run, %d before", len(after), len(before))
			}
		})
	}
}
