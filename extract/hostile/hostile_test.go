package hostile_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/hostile"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

var day = civil.Date{Year: 2026, Month: 10, Day: 31}

// fast is a transport that retries at once, so that tests of failures
// spend no time waiting.
func fast() transport.Config {
	return transport.Config{Rate: rate.Inf, Policy: transport.Policy{MaxAttempts: 3,
		Sleep: func(ctx context.Context, _ time.Duration) error { return context.Cause(ctx) }}}
}

// open returns a client of api reading s.
func open(t *testing.T, api string, s *hostile.Server, tc transport.Config, pageSize int, log *slog.Logger) extract.Source {
	t.Helper()
	cfg := jsonrpc.Config{Account: "hostile", MerchantCode: "HOSTILE", SecretKey: "k", PageSize: pageSize, Transport: tc, Logger: log}
	var (
		src extract.Source
		err error
	)
	switch api {
	case "jsonrpc":
		cfg.Endpoint = s.URL()
		src, err = jsonrpc.New(cfg)
	case "rest":
		cfg.Endpoint = s.RESTURL()
		src, err = rest.New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// read reads the orders of w and returns their RefNos.
func read(ctx context.Context, src extract.Source, w extract.Window) ([]string, error) {
	var refs []string
	err := src.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		for _, o := range p.Items {
			refs = append(refs, o.RefNo)
		}
		return nil
	})
	return refs, err
}

var apis = []string{"jsonrpc", "rest"}

// TestEmptyOrNullResultFailsThePage is F3: a result that is null or
// missing, or whose Items are null or missing, fails the page like a
// malformed body, never reads as a day without orders (which would clear
// the day's committed rows).
func TestEmptyOrNullResultFailsThePage(t *testing.T) {
	for _, b := range []hostile.Behaviour{hostile.NullResult, hostile.MissingResult, hostile.NullItems, hostile.MissingItems} {
		for _, api := range apis {
			t.Run(string(b)+"/"+api, func(t *testing.T) {
				s := hostile.Start(hostile.Config{Behaviour: b})
				defer s.Close()
				refs, err := read(t.Context(), open(t, api, s, fast(), 0, nil), extract.Window{From: day, To: day})
				if err == nil {
					t.Fatalf("no error; read %d orders", len(refs))
				}
				for _, want := range []string{"account hostile", "stream orders", "page 1"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if len(refs) != 0 {
					t.Errorf("yielded %v", refs)
				}
			})
		}
	}
}

// TestHonestServer checks the hostile server's honest answers, so that the
// failures the other tests see are the behaviours'.
// TestHonestServer: a correct server's orders are read whole, also when
// it answers 201 Created instead of 200 (any 2xx is a success).
func TestHonestServer(t *testing.T) {
	for _, tc := range []struct {
		api string
		b   hostile.Behaviour
	}{{"jsonrpc", hostile.Honest}, {"rest", hostile.Honest}, {"jsonrpc", hostile.Created}, {"rest", hostile.Created}} {
		api := tc.api
		t.Run(api+" "+string(tc.b), func(t *testing.T) {
			s := hostile.Start(hostile.Config{PerDay: 7, Behaviour: tc.b})
			defer s.Close()
			refs, err := read(t.Context(), open(t, api, s, fast(), 3, nil), extract.Window{From: day.AddDays(-1), To: day})
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 14 || refs[0] != "20261030001" || refs[13] != "20261031007" {
				t.Errorf("read %v", refs)
			}
		})
	}
}

// TestUnderstatedCountFailsTheRun is F6 on loopback: a Count of 20 for a
// day of 25 orders fails the search with both numbers, in both APIs,
// instead of yielding 20 orders.
func TestUnderstatedCountFailsTheRun(t *testing.T) {
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			s := hostile.Start(hostile.Config{Behaviour: hostile.UnderstatedCount, PerDay: 25})
			defer s.Close()
			_, err := read(t.Context(), open(t, api, s, fast(), 10, nil), extract.Window{From: day, To: day})
			if err == nil || !strings.Contains(err.Error(), "read 25 distinct items, the API counts 20") {
				t.Fatalf("error %v, want one with 25 read and 20 counted", err)
			}
		})
	}
}

// TestOversizedResponsesFail is F7: a body larger than MaxBody and a
// string longer than MaxString each fail the page, at once (neither is
// retried), with an error naming the page and, for the string, the record
// and the field; nothing is yielded.
func TestOversizedResponsesFail(t *testing.T) {
	for _, tt := range []struct {
		b    hostile.Behaviour
		size int
		tc   func(*transport.Config)
		want []string
	}{
		{hostile.HugeBody, 4 << 20, func(c *transport.Config) { c.MaxBody = 1 << 20 },
			[]string{"page 1", "response body is larger than the limit of 1048576 bytes"}},
		{hostile.LongString, 100 << 10, func(*transport.Config) {},
			[]string{"page 1", "record 1 (20261031001), field ExternalReference: a string of 102400 bytes, longer than the limit of 65536"}},
		{hostile.LongString, 2000, func(c *transport.Config) { c.MaxString = 1000 },
			[]string{"page 1", "field ExternalReference: a string of 2000 bytes, longer than the limit of 1000"}},
	} {
		for _, api := range apis {
			t.Run(string(tt.b)+"/"+api, func(t *testing.T) {
				s := hostile.Start(hostile.Config{Behaviour: tt.b, Size: tt.size})
				defer s.Close()
				tc := fast()
				tt.tc(&tc)
				refs, err := read(t.Context(), open(t, api, s, tc, 0, nil), extract.Window{From: day, To: day})
				if err == nil {
					t.Fatalf("no error; read %d orders", len(refs))
				}
				for _, want := range tt.want {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if len(refs) != 0 {
					t.Errorf("yielded %v", refs)
				}
				// A login, for JSON-RPC, and one search request.
				if n, want := s.Requests(), map[string]int64{"jsonrpc": 2, "rest": 1}[api]; n != want {
					t.Errorf("%d requests, want %d: the failure was retried", n, want)
				}
			})
		}
	}
}

// TestSlowLorisCostsSeconds is F8: a page whose body dribbles a byte at a
// time is cut by the attempt timeout, one that stalls by the idle
// timeout, and either gives up after MaxTimeouts timed-out attempts
// however many MaxAttempts allows, so a stalled page costs a bounded few
// timeouts. With the defaults that is at most about a minute and a half.
func TestSlowLorisCostsSeconds(t *testing.T) {
	if worst := transport.DefaultMaxTimeouts*transport.DefaultTimeout + 3*time.Second; worst > 2*time.Minute {
		t.Errorf("a stalled page may cost %v with the defaults", worst)
	}
	for _, tt := range []struct {
		name     string
		interval time.Duration
		timeout  time.Duration
		idle     time.Duration
		want     string
	}{
		{"dribbling", 20 * time.Millisecond, 300 * time.Millisecond, time.Second, "attempt timed out after 300ms"},
		{"stalled", 10 * time.Second, 10 * time.Second, 200 * time.Millisecond, "response body stalled: nothing received for 200ms"},
	} {
		for _, api := range apis {
			t.Run(tt.name+"/"+api, func(t *testing.T) {
				s := hostile.Start(hostile.Config{Behaviour: hostile.SlowLoris, Interval: tt.interval})
				defer s.Close()
				tc := fast()
				tc.Policy.MaxAttempts = 20
				tc.Timeout, tc.IdleTimeout = tt.timeout, tt.idle
				start := time.Now()
				_, err := read(t.Context(), open(t, api, s, tc, 0, nil), extract.Window{From: day, To: day})
				elapsed := time.Since(start)
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "page 1") {
					t.Fatalf("error %v, want one saying %q", err, tt.want)
				}
				if limit := 3*tt.timeout + time.Second; elapsed > limit && tt.name == "dribbling" || elapsed > 3*time.Second && tt.name == "stalled" {
					t.Errorf("gave up after %v", elapsed)
				}
				if n, want := s.Requests(), map[string]int64{"jsonrpc": 4, "rest": 3}[api]; n != want {
					t.Errorf("%d requests, want %d (3 timed-out attempts)", n, want)
				}
			})
		}
	}
}

// TestErrorsAndRetriesNameTheCall is F13: a page error names the account,
// the stream, the API day (or the window), the call, the page and the
// cause; retries are logged at INFO with the attempt, the status, the
// wait and the same names.
func TestErrorsAndRetriesNameTheCall(t *testing.T) {
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			for _, tt := range []struct {
				w    extract.Window
				want string
			}{
				{extract.Window{From: day, To: day}, ", API day 2026-10-31, "},
				{extract.Window{From: day.AddDays(-2), To: day}, ", API days 2026-10-29..2026-10-31, "},
			} {
				s := hostile.Start(hostile.Config{Behaviour: hostile.NullItems})
				_, err := read(t.Context(), open(t, api, s, fast(), 0, nil), tt.w)
				s.Close()
				method := map[string]string{"jsonrpc": "searchOrders", "rest": "GET /orders/"}[api]
				want := "account hostile, stream orders" + tt.want + method + ", page 1: giving up after 3 attempts: " +
					"decoding response: the search result has no Items (missing or null)"
				if err == nil || err.Error() != want {
					t.Errorf("error\n%v\nwant\n%s", err, want)
				}
			}

			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
			s := hostile.Start(hostile.Config{Behaviour: hostile.Throttle, PerDay: 3})
			defer s.Close()
			refs, err := read(t.Context(), open(t, api, s, fast(), 0, log), extract.Window{From: day, To: day})
			if err != nil || len(refs) != 3 {
				t.Fatalf("%d orders, error %v", len(refs), err)
			}
			for _, want := range []string{"level=INFO msg=retrying", "account=hostile", "window=2026-10-31..2026-10-31",
				"stream=orders", "page=1", "attempt=1", "status=429", "wait=1s"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the logs lack %q:\n%s", want, logs.String())
				}
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
