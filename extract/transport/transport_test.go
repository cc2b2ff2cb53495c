package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// sleeper records the waits of a policy instead of sleeping.
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
	return append([]time.Duration(nil), s.delays...)
}

// reply is one canned response.
type reply struct {
	status     int
	retryAfter string
	body       string
}

// script is a server that answers with replies in turn, then with the last
// one, and records the request bodies.
type script struct {
	replies []reply
	mu      sync.Mutex
	bodies  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	rp := s.replies[min(n, len(s.replies)-1)]
	if rp.retryAfter != "" {
		w.Header().Set("Retry-After", rp.retryAfter)
	}
	w.WriteHeader(rp.status)
	io.WriteString(w, rp.body)
}

func (s *script) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func newTransport(t *testing.T, cfg transport.Config) *transport.Transport {
	t.Helper()
	if cfg.Rate == 0 {
		cfg.Rate = rate.Inf
	}
	tr, err := transport.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func post(ctx context.Context, t *testing.T, c *http.Client, url, body string, idempotent bool) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if idempotent {
		transport.MarkIdempotent(req)
	}
	return c.Do(req)
}

func repeat(r reply, n int) []reply {
	out := make([]reply, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestRoundTripRetries(t *testing.T) {
	tests := []struct {
		name       string
		replies    []reply
		idempotent bool
		wantStatus int    // 0: an error
		wantErr    string // in the error
		wantCalls  int
	}{
		{"success", []reply{{200, "", "ok"}}, true, 200, "", 1},
		{"500 then success", []reply{{500, "", ""}, {200, "", "ok"}}, true, 200, "", 2},
		{"429, 502, 503, 504 then success", []reply{{429, "0", ""}, {502, "", ""}, {503, "", ""}, {504, "", ""}, {200, "", "ok"}}, true, 200, "", 5},
		{"408 then success", []reply{{408, "", ""}, {200, "", "ok"}}, true, 200, "", 2},
		{"400 is final", []reply{{400, "", "bad"}}, true, 400, "", 1},
		{"404 is final", []reply{{404, "", ""}}, true, 404, "", 1},
		{"501 is final", []reply{{501, "", ""}}, true, 501, "", 1},
		{"persistent 500", []reply{{500, "", "boom"}}, true, 0, "giving up after 10 attempts: HTTP 500 Internal Server Error", 10},
		{"persistent 429", []reply{{429, "1", ""}}, true, 0, "giving up after 30 attempts: HTTP 429 Too Many Requests (Retry-After: 1)", 30},
		{"20 429s then success: 429s have their own budget", append(repeat(reply{429, "0", ""}, 20), reply{200, "", "ok"}), true, 200, "", 21},
		{"9 500s and 20 429s then success", append(append(repeat(reply{500, "", ""}, 9), repeat(reply{429, "0", ""}, 20)...), reply{200, "", "ok"}), true, 200, "", 30},
		{"429s do not lengthen the 500 budget", append(repeat(reply{429, "0", ""}, 5), repeat(reply{500, "", "boom"}, 20)...), true, 0, "giving up after 15 attempts: HTTP 500", 15},
		{"POST not marked is not retried", []reply{{503, "", ""}}, false, 503, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &script{replies: tt.replies}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			sl := &sleeper{}
			tr := newTransport(t, transport.Config{Policy: transport.Policy{Sleep: sl.Sleep, Rand: transport.NewRand(1)}})
			c := &http.Client{Transport: tr}
			resp, err := post(t.Context(), t, c, ts.URL, `{"method":"searchOrders"}`, tt.idempotent)
			if tt.wantStatus != 0 {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				terr, ok := errors.AsType[*transport.Error](err)
				if !ok || terr.Attempts != tt.wantCalls {
					t.Errorf("Error %+v, want %d attempts", terr, tt.wantCalls)
				}
				last := tt.replies[len(tt.replies)-1]
				if serr, ok := errors.AsType[*transport.StatusError](err); !ok || serr.StatusCode != last.status || string(serr.Body) != last.body {
					t.Errorf("StatusError %+v", serr)
				}
			}
			bodies := srv.requests()
			if len(bodies) != tt.wantCalls {
				t.Errorf("%d requests, want %d", len(bodies), tt.wantCalls)
			}
			for i, b := range bodies {
				if b != `{"method":"searchOrders"}` {
					t.Errorf("request %d body %q: not replayed", i+1, b)
				}
			}
			if n := len(sl.Delays()); n != max(0, tt.wantCalls-1) {
				t.Errorf("%d waits for %d requests", n, tt.wantCalls)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		cap        time.Duration
		want       time.Duration // the first wait; 0: the back-off, under 10ms
	}{
		{"seconds", "2", 0, 2 * time.Second},
		{"zero", "0", 0, 0},
		{"HTTP date", now.Add(3 * time.Second).Format(http.TimeFormat), 0, 3 * time.Second},
		{"HTTP date past", now.Add(-time.Minute).Format(http.TimeFormat), 0, 0},
		{"capped", "100", 5 * time.Second, 5 * time.Second},
		{"capped date", now.Add(time.Hour).Format(http.TimeFormat), 7 * time.Second, 7 * time.Second},
		{"garbage", "soon", 0, 0},
		{"negative", "-3", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(&script{replies: []reply{{503, tt.retryAfter, ""}, {200, "", ""}}})
			defer ts.Close()
			sl := &sleeper{}
			tr := newTransport(t, transport.Config{Policy: transport.Policy{
				BaseDelay: 10 * time.Millisecond, MaxRetryAfter: tt.cap, Sleep: sl.Sleep, Now: func() time.Time { return now },
			}})
			resp, err := (&http.Client{Transport: tr}).Get(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			d := sl.Delays()
			if len(d) != 1 {
				t.Fatalf("waits %v, want one", d)
			}
			if tt.want == 0 {
				if d[0] < 5*time.Millisecond || d[0] >= 10*time.Millisecond {
					t.Errorf("wait %v, want the back-off, 5ms to 10ms", d[0])
				}
			} else if d[0] != tt.want {
				t.Errorf("wait %v, want %v", d[0], tt.want)
			}
		})
	}
}

func TestTooManyRequestsStorm(t *testing.T) {
	// Six 429s asking for 2s, then success: every wait honours
	// Retry-After, or its cap.
	for _, cap := range []time.Duration{0, 1500 * time.Millisecond} {
		t.Run(fmt.Sprint("cap ", cap), func(t *testing.T) {
			replies := make([]reply, 7)
			for i := range 6 {
				replies[i] = reply{429, "2", ""}
			}
			replies[6] = reply{200, "", "ok"}
			srv := &script{replies: replies}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			sl := &sleeper{}
			tr := newTransport(t, transport.Config{Policy: transport.Policy{
				MaxAttempts: 10, BaseDelay: time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxRetryAfter: cap, Sleep: sl.Sleep,
			}})
			resp, err := (&http.Client{Transport: tr}).Get(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := 2 * time.Second
			if cap != 0 {
				want = cap
			}
			d := sl.Delays()
			if len(d) != 6 {
				t.Fatalf("%d waits, want 6", len(d))
			}
			for i, w := range d {
				if w != want {
					t.Errorf("wait %d: %v, want %v", i+1, w, want)
				}
			}
		})
	}
}

func TestDelay(t *testing.T) {
	p := transport.Policy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Rand: transport.NewRand(42)}
	q := p
	q.Rand = transport.NewRand(42)
	for n := 1; n <= 40; n++ {
		d := min(time.Second, 100*time.Millisecond<<min(n-1, 20))
		got := p.Delay(n, -1)
		if got < d/2 || got >= d {
			t.Errorf("Delay(%d) = %v, want within [%v, %v)", n, got, d/2, d)
		}
		if again := q.Delay(n, -1); again != got {
			t.Errorf("Delay(%d) = %v and %v with the same seed", n, got, again)
		}
	}
	if got := p.Delay(1, 3*time.Second); got != 3*time.Second {
		t.Errorf("Delay with Retry-After 3s = %v", got)
	}
	if got := p.Delay(1, 10*time.Minute); got != transport.DefaultMaxRetryAfter {
		t.Errorf("Delay with Retry-After 10m = %v, want the default cap", got)
	}
}

func TestAttemptTimeout(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path == "/slow" || n == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		if r.URL.Path == "/stall" {
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "12345")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "ok")
	}))
	defer ts.Close()
	sl := &sleeper{}
	tr := newTransport(t, transport.Config{Timeout: 50 * time.Millisecond, Policy: transport.Policy{MaxAttempts: 3, Sleep: sl.Sleep}})
	c := &http.Client{Transport: tr}

	resp, err := c.Get(ts.URL + "/first")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "ok" || calls.Load() != 2 {
		t.Errorf("body %q, error %v after %d calls; want ok after 2", body, err, calls.Load())
	}

	_, err = c.Get(ts.URL + "/slow")
	if _, ok := errors.AsType[*transport.TimeoutError](err); !ok || !strings.Contains(fmt.Sprint(err), "giving up after 3 attempts: attempt timed out after 50ms") {
		t.Errorf("error %v, want a timeout after 3 attempts", err)
	}

	// The timeout covers reading the body.
	resp, err = c.Get(ts.URL + "/stall")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, ok := errors.AsType[*transport.TimeoutError](err); !ok {
		t.Errorf("reading a stalled body: %v, want a TimeoutError", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sl := &sleeper{}
	tr := newTransport(t, transport.Config{Policy: transport.Policy{MaxAttempts: 3, Sleep: sl.Sleep}})
	_, err = (&http.Client{Transport: tr}).Get("http://" + addr + "/")
	if _, ok := errors.AsType[*net.OpError](err); !ok || !strings.Contains(fmt.Sprint(err), "giving up after 3 attempts: dial tcp") {
		t.Errorf("error %v, want a dial error after 3 attempts", err)
	}
	if len(sl.Delays()) != 2 {
		t.Errorf("waits %v, want 2", sl.Delays())
	}
}

func TestConcurrencyCap(t *testing.T) {
	var inFlight, peak atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	defer ts.Close()
	tr := newTransport(t, transport.Config{MaxConcurrent: 3})
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			resp, err := c.Get(ts.URL)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 3 {
		t.Errorf("%d requests in flight at most, want 3", p)
	}
}

func TestRateLimit(t *testing.T) {
	ts := httptest.NewServer(&script{replies: []reply{{200, "", ""}}})
	defer ts.Close()
	tr := newTransport(t, transport.Config{Rate: 100, Burst: 1})
	c := &http.Client{Transport: tr}
	start := time.Now()
	for range 11 {
		resp, err := c.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("11 requests at 100/s took %v, want at least 100ms", d)
	}
}

func TestCancellation(t *testing.T) {
	ts := httptest.NewServer(&script{replies: []reply{{503, "30", ""}}})
	defer ts.Close()
	tests := []struct {
		name string
		cfg  transport.Config
		busy bool // hold a response open first
	}{
		{"during back-off", transport.Config{}, false},
		{"waiting for the rate limit", transport.Config{Rate: 0.01, Burst: 1}, true},
		{"waiting for a slot", transport.Config{MaxConcurrent: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTransport(t, tt.cfg)
			c := &http.Client{Transport: tr}
			if tt.busy {
				ts := httptest.NewServer(&script{replies: []reply{{200, "", "ok"}}})
				defer ts.Close()
				resp, err := c.Get(ts.URL)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			_, err := post(ctx, t, c, ts.URL, "{}", true)
			if d := time.Since(start); d > time.Second {
				t.Errorf("returned %v after the cancellation", d)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	bad := errors.New("truncated")
	t.Run("retryable errors", func(t *testing.T) {
		sl := &sleeper{}
		p := transport.Policy{MaxAttempts: 4, Sleep: sl.Sleep}
		calls := 0
		err := transport.Retry(t.Context(), p, func(context.Context) error {
			calls++
			if calls < 3 {
				return transport.Retryable(bad)
			}
			return nil
		})
		if err != nil || calls != 3 || len(sl.Delays()) != 2 {
			t.Errorf("error %v after %d calls and %d waits; want nil after 3 and 2", err, calls, len(sl.Delays()))
		}
	})
	t.Run("other errors are final", func(t *testing.T) {
		calls := 0
		err := transport.Retry(t.Context(), transport.Policy{}, func(context.Context) error {
			calls++
			return bad
		})
		if err != bad || calls != 1 {
			t.Errorf("error %v after %d calls", err, calls)
		}
	})
	t.Run("spent", func(t *testing.T) {
		sl := &sleeper{}
		err := transport.Retry(t.Context(), transport.Policy{MaxAttempts: 3, Sleep: sl.Sleep}, func(context.Context) error {
			return transport.Retryable(bad)
		})
		if !errors.Is(err, bad) || err.Error() != "giving up after 3 attempts: truncated" {
			t.Errorf("error %v", err)
		}
	})
	t.Run("shares the transport's budget", func(t *testing.T) {
		// A 500, then bodies that do not parse: three attempts in all.
		srv := &script{replies: []reply{{500, "", ""}, {200, "", "bad"}}}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		sl := &sleeper{}
		tr := newTransport(t, transport.Config{Policy: transport.Policy{MaxAttempts: 3, Sleep: sl.Sleep}})
		c := &http.Client{Transport: tr}
		err := tr.Retry(t.Context(), func(ctx context.Context) error {
			resp, err := post(ctx, t, c, ts.URL, "{}", true)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if string(body) == "bad" {
				return transport.Retryable(bad)
			}
			return nil
		})
		if n := len(srv.requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
		if terr, ok := errors.AsType[*transport.Error](err); !ok || terr.Attempts != 3 || !errors.Is(err, bad) {
			t.Errorf("error %v, want the bad body after 3 attempts", err)
		}
		if len(sl.Delays()) != 2 {
			t.Errorf("waits %v, want 2", sl.Delays())
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		err := transport.Retry(ctx, transport.Policy{BaseDelay: time.Minute, MaxDelay: time.Minute}, func(context.Context) error {
			return transport.Retryable(bad)
		})
		if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
			t.Errorf("error %v after %v", err, time.Since(start))
		}
	})
}

func TestLogsHoldNoSecrets(t *testing.T) {
	const secret = "top-secret-key-123"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewServer(&script{replies: []reply{{503, "0", secret}}})
	defer ts.Close()
	sl := &sleeper{}
	tr := newTransport(t, transport.Config{Policy: transport.Policy{MaxAttempts: 3, Sleep: sl.Sleep, Logger: log}})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/orders/?token="+secret, strings.NewReader(secret))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Avangate-Authentication", `code="C" date="D" hash="`+secret+`"`)
	req.SetBasicAuth("user", secret)
	_, err = (&http.Client{Transport: tr}).Do(req)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the secret appears in the logs:\n%s", logs.String())
	}
	// http.Client's *url.Error quotes the URL; the transport's error holds
	// neither the URL nor headers nor the request body.
	if terr, ok := errors.AsType[*transport.Error](err); !ok || strings.Contains(terr.Error(), secret) {
		t.Errorf("error %v", terr)
	}
	for _, want := range []string{"level=INFO msg=retrying", "attempt=1", "wait=", "level=WARN msg=\"giving up\"", "attempt=3", "/orders/"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %q:\n%s", want, logs.String())
		}
	}
}

func TestNew(t *testing.T) {
	tests := []transport.Config{
		{Timeout: -1},
		{Rate: -1},
		{Burst: -1},
		{MaxConcurrent: -1},
		{Policy: transport.Policy{MaxAttempts: -1}},
		{Policy: transport.Policy{BaseDelay: -1}},
	}
	for i, cfg := range tests {
		if _, err := transport.New(cfg); err == nil {
			t.Errorf("config %d: no error", i)
		}
	}
	tr, err := transport.New(transport.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p := tr.Policy(); p.MaxAttempts != transport.DefaultMaxAttempts || p.BaseDelay != transport.DefaultBaseDelay {
		t.Errorf("defaults %+v", p)
	}
}

func TestMarkIdempotentSendsNoHeader(t *testing.T) {
	var got atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(strconv.Quote(r.Header.Get("Idempotency-Key")))
	}))
	defer ts.Close()
	resp, err := post(t.Context(), t, &http.Client{Transport: newTransport(t, transport.Config{})}, ts.URL, "{}", true)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Load() != `""` {
		t.Errorf("Idempotency-Key %v sent", got.Load())
	}
}
