package rest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

const (
	merchantCode = "DEMO123"
	secretKey    = "s3cr3t-k3y-do-not-print"
)

var since = civil.Date{Year: 2025, Month: time.January, Day: 1}

// request is what the harness saw of one request.
type request struct {
	path, query, auth string
}

// harness is a sandbox merchant served on loopback behind a handler that
// records the requests made to it.
type harness struct {
	m    *sandbox.Merchant
	clk  *extracttest.Clock
	srv  *httptest.Server
	url  string // the REST endpoint
	logs *extracttest.SyncBuffer

	// after runs after the merchant has answered each request.
	after func(path string)

	mu       sync.Mutex
	requests []request
}

func newHarness(t *testing.T, now time.Time, edit func(*sandbox.Config)) *harness {
	t.Helper()
	h := &harness{clk: extracttest.NewClock(now), logs: &extracttest.SyncBuffer{}}
	cfg := sandbox.Config{MerchantCode: merchantCode, SecretKey: secretKey, Seed: 11, Since: since, Now: h.clk.Now}
	if edit != nil {
		edit(&cfg)
	}
	m, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	next := m.Handler()
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, request{r.URL.Path, r.URL.RawQuery, r.Header.Get(rest.AuthHeader)})
		h.mu.Unlock()
		next.ServeHTTP(w, r)
		if h.after != nil {
			h.after(r.URL.Path)
		}
	}))
	t.Cleanup(h.srv.Close)
	h.url = h.srv.URL + sandbox.RESTPath
	return h
}

// count returns the number of requests of path.
func (h *harness) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.requests {
		if r.path == path {
			n++
		}
	}
	return n
}

func (h *harness) client(t *testing.T, edit func(*rest.Config)) *rest.Client {
	t.Helper()
	cfg := rest.Config{
		Account:      "demo",
		Endpoint:     h.url,
		MerchantCode: merchantCode,
		SecretKey:    secretKey,
		Now:          h.clk.Now,
		Logger:       slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Transport:    fastTransport(),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := rest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if logs := h.logs.String(); strings.Contains(logs, secretKey) {
			t.Errorf("the secret key appears in the logs:\n%s", logs)
		}
	})
	return c
}

// fastTransport retries at once and does not limit the rate.
func fastTransport() transport.Config {
	return transport.Config{
		Rate: rate.Inf,
		Policy: transport.Policy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
			Sleep: func(ctx context.Context, _ time.Duration) error { return context.Cause(ctx) }},
	}
}

// jsonrpcClient reads the same merchant through JSON-RPC.
func (h *harness) jsonrpcClient(t *testing.T) *jsonrpc.Client {
	t.Helper()
	c, err := jsonrpc.New(jsonrpc.Config{Account: "demo", Endpoint: h.srv.URL + sandbox.Path,
		MerchantCode: merchantCode, SecretKey: secretKey, Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect reads a window of orders, copying every page.
func collect(ctx context.Context, s extract.Source, w extract.Window) ([]extract.Order, []extract.Page[extract.Order], error) {
	var orders []extract.Order
	var pages []extract.Page[extract.Order]
	err := s.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		orders = append(orders, p.Items...)
		pages = append(pages, extract.Page[extract.Order]{Number: p.Number, Count: p.Count, Items: make([]extract.Order, len(p.Items))})
		return nil
	})
	return orders, pages, err
}

func collectSubscriptions(ctx context.Context, s extract.Source) ([]extract.Subscription, int, error) {
	var subs []extract.Subscription
	pages := 0
	err := s.Subscriptions(ctx, extract.SubscriptionFilter{}, func(p extract.Page[extract.Subscription]) error {
		pages++
		if p.Number != pages {
			return errors.New("pages out of order")
		}
		subs = append(subs, p.Items...)
		return nil
	})
	return subs, pages, err
}

func ordersOn(m *sandbox.Merchant, w extract.Window) []extract.Order {
	var orders []extract.Order
	for d := w.From; !d.After(w.To); d = d.AddDays(1) {
		orders = append(orders, m.OrdersOn(d)...)
	}
	return orders
}

func refNos(orders []extract.Order) []string {
	refs := make([]string, len(orders))
	for i, o := range orders {
		refs[i] = o.RefNo
	}
	return refs
}

func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secretKey) {
		t.Errorf("the secret key appears in error %q", err)
	}
}

func TestOrdersEqualJSONRPC(t *testing.T) {
	h := newHarness(t, since.AddDays(45).In(time.UTC).Add(13*time.Hour), nil)
	today := civil.DateOf(h.clk.Now().In(h.m.Location()))
	rpc := h.jsonrpcClient(t)
	tests := []struct {
		name     string
		w        extract.Window
		pageSize int
	}{
		{"one day", extract.Window{From: since.AddDays(5), To: since.AddDays(5)}, 0},
		{"a week, odd page size", extract.Window{From: since.AddDays(20), To: since.AddDays(26)}, 37},
		{"today, partly over", extract.Window{From: today, To: today}, 50},
		{"before the first day", extract.Window{From: since.AddDays(-10), To: since.AddDays(-1)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client(t, func(cfg *rest.Config) { cfg.PageSize = tt.pageSize })
			got, pages, err := collect(t.Context(), c, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := collect(t.Context(), rpc, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d orders, JSON-RPC %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("order %d:\n  REST %+v\nJSON-RPC %+v", i, got[i], want[i])
				}
			}
			if sb := ordersOn(h.m, tt.w); !reflect.DeepEqual(got, sb) && len(sb)+len(got) > 0 {
				t.Errorf("read %d orders, want the sandbox's %d", len(got), len(sb))
			}
			size := cmp(tt.pageSize, rest.DefaultPageSize)
			if wantPages := max(1, (len(want)+size-1)/size); len(pages) != wantPages {
				t.Errorf("%d pages, want %d", len(pages), wantPages)
			}
			for i, p := range pages {
				if p.Number != i+1 || p.Count != len(want) {
					t.Errorf("page %d: Number %d, Count %d; want %d, %d", i, p.Number, p.Count, i+1, len(want))
				}
			}
		})
	}
}

func cmp(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func TestOrdersPaging(t *testing.T) {
	h := newHarness(t, since.AddDays(30).In(time.UTC), nil)
	// Stop the clock when the 1,037th order is placed.
	n := 1037
	for d := since; ; d = d.AddDays(1) {
		orders := h.m.OrdersOn(d)
		if n <= len(orders) {
			at, err := time.ParseInLocation(extract.DateLayout, orders[n-1].OrderDate, h.m.Location())
			if err != nil {
				t.Fatal(err)
			}
			h.clk.Set(at)
			break
		}
		n -= len(orders)
	}
	c := h.client(t, func(cfg *rest.Config) { cfg.PageSize = 100 })
	w := extract.Window{From: since, To: since.AddDays(60)}
	got, pages, err := collect(t.Context(), c, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 11 {
		t.Fatalf("%d pages, want 11", len(pages))
	}
	for i, p := range pages {
		want := 100
		if i == 10 {
			want = 37
		}
		if p.Number != i+1 || len(p.Items) != want || p.Count != 1037 {
			t.Errorf("page %d: Number %d, %d items, Count %d; want %d, %d, 1037", i+1, p.Number, len(p.Items), p.Count, i+1, want)
		}
	}
	if want := refNos(ordersOn(h.m, w)); !reflect.DeepEqual(refNos(got), want) {
		t.Errorf("read %d orders, want the %d of the sandbox in order", len(got), len(want))
	}
	if n := h.count(sandbox.RESTPath + "orders/"); n != 11 {
		t.Errorf("%d requests, want 11", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, r := range h.requests {
		want := "EndDate=2025-03-02&IncludeTestOrders=YES&Limit=100&Page=" + strconv.Itoa(i+1) + "&StartDate=2025-01-01"
		if r.query != want {
			t.Errorf("request %d: query %s, want %s", i+1, r.query, want)
		}
	}
}

// TestFreshSignature checks that every request is signed at its own time,
// so that a long extraction outlives the 15 minutes a signature is good
// for.
func TestFreshSignature(t *testing.T) {
	for _, algo := range []string{"", "sha256", "sha3-256", "md5"} {
		t.Run(algo, func(t *testing.T) {
			h := newHarness(t, since.AddDays(10).In(time.UTC), nil)
			h.after = func(string) { h.clk.Add(7 * time.Minute) }
			c := h.client(t, func(cfg *rest.Config) {
				cfg.HMAC = algo
				cfg.PageSize = 100
			})
			w := extract.Window{From: since, To: since.AddDays(2)}
			got, pages, err := collect(t.Context(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) < 4 || !reflect.DeepEqual(refNos(got), refNos(ordersOn(h.m, w))) {
				t.Fatalf("%d pages, %d orders", len(pages), len(got))
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			seen := map[string]bool{}
			// API 6.0 names sha256 and sha3-256 in algo; an MD5
			// signature is sent without it.
			wantEnd := `" algo="` + cmpStr(algo, "sha256") + `"`
			if algo == "md5" {
				wantEnd = `" hash="[0-9a-f]{32}"`
			}
			end := regexp.MustCompile(regexp.QuoteMeta(`" date="`) + `[^"]+` + strings.ReplaceAll(wantEnd, `" algo=`, `" hash="[0-9a-f]+" algo=`) + `$`)
			for _, r := range h.requests {
				if seen[r.auth] {
					t.Errorf("header %s sent twice", r.auth)
				}
				seen[r.auth] = true
				if !strings.HasPrefix(r.auth, `code="`+merchantCode+`" date="`) || !end.MatchString(r.auth) {
					t.Errorf("header %s, want it to end like %s", r.auth, end)
				}
			}
		})
	}
}

// TestFreshSignatureOnRetry checks that the transport's retries are
// signed afresh too: with the clock 7 minutes on after every response, a
// request retried twice with its first signature would be refused.
func TestFreshSignatureOnRetry(t *testing.T) {
	h := newHarness(t, since.AddDays(10).In(time.UTC), func(cfg *sandbox.Config) {
		cfg.Faults = sandbox.Faults{ServerError: 0.3, TooManyRequests: 0.3, Seed: 3}
	})
	h.after = func(string) { h.clk.Add(7 * time.Minute) }
	c := h.client(t, func(cfg *rest.Config) {
		cfg.PageSize = 50
		cfg.Transport.Policy.MaxAttempts = 20
	})
	w := extract.Window{From: since, To: since.AddDays(2)}
	got, _, err := collect(t.Context(), c, w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(refNos(got), refNos(ordersOn(h.m, w))) {
		t.Fatalf("%d orders, want %d", len(got), len(ordersOn(h.m, w)))
	}
	stats := h.m.FaultStats()
	if stats.ServerErrors+stats.TooManyRequests < 5 {
		t.Fatalf("only %+v faults", stats)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range h.requests {
		if seen[r.auth] {
			t.Errorf("header %s sent twice", r.auth)
		}
		seen[r.auth] = true
	}
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestAuthenticationFailed(t *testing.T) {
	tests := []struct {
		name string
		edit func(*rest.Config)
		skew time.Duration // of the client's clock
	}{
		{"wrong secret", func(c *rest.Config) { c.SecretKey = secretKey + "x" }, 0},
		{"wrong merchant", func(c *rest.Config) { c.MerchantCode = "OTHER" }, 0},
		{"clock skew", nil, 20 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
			c := h.client(t, func(cfg *rest.Config) {
				cfg.Now = func() time.Time { return h.clk.Now().Add(tt.skew) }
				if tt.edit != nil {
					tt.edit(cfg)
				}
			})
			for _, stream := range []string{extract.StreamOrders, extract.StreamSubscriptions} {
				var err error
				if stream == extract.StreamOrders {
					_, _, err = collect(t.Context(), c, extract.Window{From: since, To: since})
				} else {
					_, _, err = collectSubscriptions(t.Context(), c)
				}
				if !errors.Is(err, extract.ErrAuthentication) {
					t.Fatalf("error %v, want ErrAuthentication", err)
				}
				reqErr, ok := errors.AsType[*extract.RequestError](err)
				if !ok || reqErr.Account != "demo" || reqErr.Stream != stream || reqErr.Method != "GET /"+stream+"/" || reqErr.Page != 1 {
					t.Errorf("RequestError %+v", reqErr)
				}
				httpErr, ok := errors.AsType[*transport.StatusError](err)
				if !ok || httpErr.StatusCode != http.StatusUnauthorized {
					t.Errorf("StatusError %+v", httpErr)
				}
				if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "AUTHENTICATION_ERROR" {
					t.Errorf("APIError %+v", apiErr)
				}
				day := ""
				if stream == "orders" {
					day = ", API day 2025-01-01"
				}
				want := "account demo, stream " + stream + day + ", GET /" + stream + "/, page 1: HTTP 401 Unauthorized: authentication failed: AUTHENTICATION_ERROR: "
				if !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q, want it to start %q", err, want)
				}
				noSecret(t, err)
			}
			if n := len(h.requests); n != 2 {
				t.Errorf("%d requests, want 2: a refused request is not retried", n)
			}
		})
	}
}

func TestLimitTooLarge(t *testing.T) {
	h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
	c := h.client(t, func(cfg *rest.Config) { cfg.PageSize = 201 })
	_, _, err := collect(t.Context(), c, extract.Window{From: since, To: since})
	const want = "account demo, stream orders, API day 2025-01-01, GET /orders/, page 1: HTTP 400 Bad Request: INVALID_PARAMETER: Limit must be at most 200"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "INVALID_PARAMETER" {
		t.Errorf("APIError %+v", apiErr)
	}
	if errors.Is(err, extract.ErrAuthentication) {
		t.Error("a parameter error is an authentication error")
	}
}

func TestTransportErrors(t *testing.T) {
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
		check   func(t *testing.T, err error)
	}{
		{"503 with a JSON error", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error_code":"SERVICE_UNAVAILABLE","message":"try later"}`)
		}, func(t *testing.T, err error) {
			httpErr, ok := errors.AsType[*transport.StatusError](err)
			if !ok || httpErr.StatusCode != 503 {
				t.Errorf("StatusError %+v", httpErr)
			}
			const want = "account demo, stream orders, API day 2025-01-01, GET /orders/, page 1: giving up after 3 attempts: HTTP 503 Service Unavailable: SERVICE_UNAVAILABLE: try later"
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "SERVICE_UNAVAILABLE" {
				t.Errorf("APIError %+v", apiErr)
			}
			if errors.Is(err, extract.ErrAuthentication) {
				t.Error("a 503 is an authentication error")
			}
		}},
		{"502 with HTML", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `<html>bad gateway</html>`)
		}, func(t *testing.T, err error) {
			if !strings.HasSuffix(err.Error(), "page 1: giving up after 3 attempts: HTTP 502 Bad Gateway") {
				t.Errorf("error %q", err)
			}
		}},
		{"truncated body", func(w http.ResponseWriter) {
			io.WriteString(w, `{"Items":[{"RefNo":"1"`)
		}, func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v, want unexpected EOF", err)
			}
		}},
		{"empty body", func(w http.ResponseWriter) {}, func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v, want unexpected EOF", err)
			}
		}},
		{"HTML with 200", func(w http.ResponseWriter) {
			io.WriteString(w, `<html>maintenance</html>`)
		}, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "giving up after 3 attempts: decoding response: invalid character '<'") {
				t.Errorf("error %v", err)
			}
		}},
		{"404 with a JSON error", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error_code":"NOT_FOUND","message":"no such resource"}`)
		}, func(t *testing.T, err error) {
			const want = "account demo, stream orders, API day 2025-01-01, GET /orders/, page 1: HTTP 404 Not Found: NOT_FOUND: no such resource"
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		}},
		{"amount of the wrong type", func(w http.ResponseWriter) {
			io.WriteString(w, `{"Items":[{"RefNo":"1","NetPrice":true}],"Pagination":{"Page":1,"Limit":200,"Count":1}}`)
		}, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "NetPrice") {
				t.Errorf("error %v does not name the field", err)
			}
			if strings.Contains(err.Error(), "giving up") {
				t.Errorf("error %v: a value of the wrong type was retried", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.respond(w) }))
			defer srv.Close()
			c, err := rest.New(rest.Config{Account: "demo", Endpoint: srv.URL + sandbox.RESTPath, MerchantCode: merchantCode, SecretKey: secretKey,
				Transport: fastTransport()})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = collect(t.Context(), c, extract.Window{From: since, To: since})
			if err == nil {
				t.Fatal("no error")
			}
			reqErr, ok := errors.AsType[*extract.RequestError](err)
			if !ok || reqErr.Stream != extract.StreamOrders || reqErr.Method != "GET /orders/" || reqErr.Page != 1 {
				t.Errorf("RequestError %+v", reqErr)
			}
			noSecret(t, err)
			tt.check(t, err)
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := rest.New(rest.Config{Account: "demo", Endpoint: "http://" + addr + sandbox.RESTPath, MerchantCode: merchantCode, SecretKey: secretKey,
		Transport: fastTransport()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = collect(t.Context(), c, extract.Window{From: since, To: since})
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("error %v, want a *net.OpError", err)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "account demo, stream orders, API day 2025-01-01, GET /orders/, page 1: giving up after 3 attempts: dial tcp ") {
		t.Errorf("error %v", err)
	}
	noSecret(t, err)
}

func TestNew(t *testing.T) {
	valid := rest.Config{MerchantCode: merchantCode, SecretKey: secretKey}
	tests := []struct {
		name string
		edit func(*rest.Config)
		want string // in the error; empty for success
	}{
		{"valid", func(*rest.Config) {}, ""},
		{"endpoint without a trailing slash", func(c *rest.Config) { c.Endpoint = "https://api.example.com/rest/6.0" }, ""},
		{"no merchant", func(c *rest.Config) { c.MerchantCode = "" }, "MerchantCode"},
		{"no secret", func(c *rest.Config) { c.SecretKey = "" }, "SecretKey"},
		{"unknown hmac", func(c *rest.Config) { c.HMAC = "sha1" }, "sha1"},
		{"relative endpoint", func(c *rest.Config) { c.Endpoint = "/rest/6.0/" }, "endpoint"},
		{"ftp endpoint", func(c *rest.Config) { c.Endpoint = "ftp://example.com/" }, "endpoint"},
		{"endpoint with credentials", func(c *rest.Config) { c.Endpoint = "https://u:" + secretKey + "@example.com/" }, "endpoint"},
		{"negative page size", func(c *rest.Config) { c.PageSize = -1 }, "PageSize"},
		{"negative max passes", func(c *rest.Config) { c.MaxPasses = -1 }, "MaxPasses"},
		{"negative rate", func(c *rest.Config) { c.Transport.Rate = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.edit
			c := valid
			cfg(&c)
			client, err := rest.New(c)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			case err == nil && client.API() != "rest":
				t.Errorf("API() = %q", client.API())
			}
			noSecret(t, err)
		})
	}
}
