package jsonrpc_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// TestDefaultsRideOutStormAndExpiry is F12 and F14: with the default retry
// policy (only its waits recorded instead of slept), 30% of requests
// answered 429 with Retry-After 1s and 10% of sessions expired under the
// calls, a read of 60 days, 8 days at a time as the pipeline reads them,
// gives exactly the orders of a fault-free read; every wait honoured the
// Retry-After; re-logins have their own budget, apart from the page's
// attempts.
func TestDefaultsRideOutStormAndExpiry(t *testing.T) {
	for _, seed := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			faults, err := sandbox.ParseFaults(fmt.Sprintf("429=0.3:1s,expire=0.1,seed=%d", seed))
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, since.AddDays(70).In(time.UTC), func(cfg *sandbox.Config) { cfg.Faults = faults })
			sl := &sleeper{}
			c := h.client(t, func(cfg *jsonrpc.Config) {
				cfg.PageSize = 10
				cfg.Transport = transport.Config{Rate: rate.Inf, Policy: transport.Policy{Sleep: sl.Sleep}}
			})
			got, err := readDays(t, c, 60)
			if err != nil {
				t.Fatalf("%v (faults %+v)", err, h.m.FaultStats())
			}
			stats := h.m.FaultStats()
			if stats.TooManyRequests < 100 || stats.Expired < 30 {
				t.Errorf("too few faults: %+v", stats)
			}
			for _, d := range sl.Delays() {
				if d < time.Second {
					t.Errorf("waited %v after a 429 with Retry-After: 1", d)
				}
			}
			h.m.SetFaults(sandbox.Faults{})
			want, err := readDays(t, h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = 10 }), 60)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 600 || !reflect.DeepEqual(byRefNo(got), byRefNo(want)) {
				t.Errorf("read %d orders under faults, %d without", len(got), len(want))
			}
		})
	}
}

// readDays reads the orders of n days from since, one search a day, 8 at
// a time.
func readDays(t *testing.T, c *jsonrpc.Client, n int) ([]extract.Order, error) {
	var (
		mu       sync.Mutex
		all      []extract.Order
		firstErr error
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for i := range n {
		day := since.AddDays(i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			orders, _, err := collect(t.Context(), c, extract.Window{From: day, To: day})
			mu.Lock()
			defer mu.Unlock()
			all = append(all, orders...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	return all, firstErr
}
