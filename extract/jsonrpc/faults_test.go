package jsonrpc_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/paging"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// sleeper records the waits of a retry policy and returns at once.
type sleeper struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return context.Cause(ctx)
}

func (s *sleeper) Delays() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delays)
}

// policy retries quickly, waiting through sl.
func policy(sl *sleeper, attempts int) transport.Policy {
	return transport.Policy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Rand: transport.NewRand(1), Sleep: sl.Sleep}
}

func byRefNo(orders []extract.Order) []extract.Order {
	s := slices.Clone(orders)
	slices.SortFunc(s, func(a, b extract.Order) int { return cmp.Compare(a.RefNo, b.RefNo) })
	return s
}

func noDuplicates(t *testing.T, orders []extract.Order) {
	t.Helper()
	seen := map[string]bool{}
	for _, o := range orders {
		if seen[o.RefNo] {
			t.Errorf("order %s yielded twice", o.RefNo)
		}
		seen[o.RefNo] = true
	}
}

func subscriptions(ctx context.Context, c *jsonrpc.Client) ([]extract.Subscription, error) {
	var subs []extract.Subscription
	err := c.Subscriptions(ctx, extract.SubscriptionFilter{}, func(p extract.Page[extract.Subscription]) error {
		subs = append(subs, p.Items...)
		return nil
	})
	slices.SortFunc(subs, func(a, b extract.Subscription) int {
		return cmp.Compare(a.SubscriptionReference, b.SubscriptionReference)
	})
	return subs, err
}

// TestExtractionUnderFaults reads orders and subscriptions under every
// kind of fault and compares them with a read of the same merchant
// without faults.
func TestExtractionUnderFaults(t *testing.T) {
	faults, err := sandbox.ParseFaults("429=0.1:1s,500=0.05,slow=0.05:20ms,truncate=0.02,malformed=0.02,expire=0.01,insert=3,seed=4")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, since.AddDays(30).In(time.UTC), func(cfg *sandbox.Config) { cfg.Faults = faults })
	sl := &sleeper{}
	c := h.client(t, func(cfg *jsonrpc.Config) {
		cfg.PageSize = 25
		cfg.Transport.Policy = policy(sl, 8)
	})
	w := extract.Window{From: since.AddDays(10), To: since.AddDays(19)}
	got, _, err := collect(t.Context(), c, w)
	if err != nil {
		t.Fatal(err)
	}
	gotSubs, err := subscriptions(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	stats := h.m.FaultStats()
	t.Logf("%d orders, %d subscriptions; faults %+v", len(got), len(gotSubs), stats)
	if stats.TooManyRequests == 0 || stats.ServerErrors == 0 || stats.Slow == 0 || stats.Truncated == 0 ||
		stats.Malformed == 0 || stats.Expired == 0 || stats.Inserted != 3 {
		t.Errorf("not every kind of fault happened: %+v", stats)
	}

	// Every 429 was retried after its Retry-After of 1s; every other
	// retry after a short back-off.
	waits := 0
	for _, d := range sl.Delays() {
		switch {
		case d == time.Second:
			waits++
		case d >= 4*time.Millisecond:
			t.Errorf("waited %v", d)
		}
	}
	if waits != stats.TooManyRequests {
		t.Errorf("%d waits of 1s for %d responses 429", waits, stats.TooManyRequests)
	}

	h.m.SetFaults(sandbox.Faults{})
	clean := h.client(t, nil)
	want, _, err := collect(t.Context(), clean, w)
	if err != nil {
		t.Fatal(err)
	}
	wantSubs, err := subscriptions(t.Context(), clean)
	if err != nil {
		t.Fatal(err)
	}
	noDuplicates(t, got)
	if !reflect.DeepEqual(byRefNo(got), byRefNo(want)) {
		t.Errorf("read %d orders under faults, %d without", len(got), len(want))
	}
	if !reflect.DeepEqual(byRefNo(want), byRefNo(ordersOn(h.m, w))) {
		t.Errorf("read %d orders, the sandbox has %d", len(want), len(ordersOn(h.m, w)))
	}
	if !reflect.DeepEqual(gotSubs, wantSubs) {
		t.Errorf("read %d subscriptions under faults, %d without", len(gotSubs), len(wantSubs))
	}
	logs := h.logs.String()
	for _, want := range []string{"msg=retrying", "session rejected", "reading them again"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q", want)
		}
	}
}

func TestTooManyRequestsStorm(t *testing.T) {
	tests := []struct {
		cap  time.Duration
		want time.Duration
	}{
		{0, 2 * time.Second},
		{1500 * time.Millisecond, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("cap ", tt.cap), func(t *testing.T) {
			h := newHarness(t, since.AddDays(5).In(time.UTC), func(cfg *sandbox.Config) {
				cfg.Faults = sandbox.Faults{TooManyRequests: 0.6, RetryAfter: 2 * time.Second, Seed: 2}
			})
			sl := &sleeper{}
			c := h.client(t, func(cfg *jsonrpc.Config) {
				cfg.PageSize = 20
				cfg.Transport.Policy = policy(sl, 20)
				cfg.Transport.Policy.MaxRetryAfter = tt.cap
			})
			w := extract.Window{From: since.AddDays(1), To: since.AddDays(1)}
			got, _, err := collect(t.Context(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, ordersOn(h.m, w)) {
				t.Errorf("read %d orders, want the sandbox's %d", len(got), len(ordersOn(h.m, w)))
			}
			stats := h.m.FaultStats()
			delays := sl.Delays()
			if len(delays) != stats.TooManyRequests || len(delays) < 10 {
				t.Errorf("%d waits for %d responses 429", len(delays), stats.TooManyRequests)
			}
			for i, d := range delays {
				if d != tt.want {
					t.Errorf("wait %d: %v, want %v", i+1, d, tt.want)
				}
			}
		})
	}
}

func TestOrdersInsertedWhilePaging(t *testing.T) {
	w := extract.Window{From: since.AddDays(2), To: since.AddDays(8)}
	t.Run("re-read", func(t *testing.T) {
		h := newHarness(t, since.AddDays(12).In(time.UTC), nil)
		before := ordersOn(h.m, w)
		h.m.SetFaults(sandbox.Faults{Insert: 4, Seed: 1})
		c := h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = 50 })
		got, _, err := collect(t.Context(), c, w)
		if err != nil {
			t.Fatal(err)
		}
		after := ordersOn(h.m, w)
		if h.m.FaultStats().Inserted != 4 || len(after) != len(before)+4 {
			t.Fatalf("%d orders before, %d after; want 4 inserted", len(before), len(after))
		}
		noDuplicates(t, got)
		if !reflect.DeepEqual(byRefNo(got), byRefNo(after)) {
			t.Errorf("read %d orders, the sandbox has %d", len(got), len(after))
		}
		onePass := (len(after) + 49) / 50
		if n := h.count("searchOrders"); n <= onePass {
			t.Errorf("%d searches; want the search read again", n)
		}
	})
	t.Run("one pass only", func(t *testing.T) {
		h := newHarness(t, since.AddDays(12).In(time.UTC), func(cfg *sandbox.Config) { cfg.Faults = sandbox.Faults{Insert: 4, Seed: 1} })
		c := h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = 50; cfg.MaxPasses = 1 })
		_, _, err := collect(t.Context(), c, w)
		reqErr, ok := errors.AsType[*extract.RequestError](err)
		if _, unsettled := errors.AsType[*paging.UnsettledError](err); !ok || !unsettled || reqErr.Stream != extract.StreamOrders || reqErr.Page == 0 {
			t.Fatalf("error %v, want an UnsettledError naming stream and page", err)
		}
		if !strings.Contains(err.Error(), "kept changing") {
			t.Errorf("error %q", err)
		}
	})
}

func TestCancelDuringBackoff(t *testing.T) {
	h := newHarness(t, since.AddDays(3).In(time.UTC), func(cfg *sandbox.Config) {
		cfg.Faults = sandbox.Faults{TooManyRequests: 1, RetryAfter: 30 * time.Second}
	})
	c := h.client(t, func(cfg *jsonrpc.Config) {
		cfg.Transport.Policy = transport.Policy{} // real sleeps
	})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := collect(ctx, c, extract.Window{From: since, To: since})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if !strings.HasPrefix(fmtErr(err), "account demo, stream orders, API day 2025-01-01, login for searchOrders, page 1: waiting to retry after attempt 1 (HTTP 429 Too Many Requests (Retry-After: 30)): ") {
		t.Errorf("error %q", err)
	}
	noSecret(t, err)
}
