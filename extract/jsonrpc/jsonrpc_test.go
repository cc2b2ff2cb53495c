package jsonrpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

const (
	merchantCode = "DEMO123"
	secretKey    = "s3cr3t-k3y-do-not-print"
)

var since = civil.Date{Year: 2025, Month: time.January, Day: 1}

// harness is a sandbox merchant served on loopback behind a handler that
// records the calls made to it.
type harness struct {
	m    *sandbox.Merchant
	clk  *extracttest.Clock
	url  string
	logs *extracttest.SyncBuffer

	// after runs after the merchant has answered each request, with its
	// method; rewrite, if set, edits each response body.
	after   func(method string)
	rewrite func([]byte) []byte

	mu      sync.Mutex
	methods []string // of every request, in order
	invalid int      // INVALID_SESSION responses
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
	srv := httptest.NewServer(h.wrap(m.Handler()))
	t.Cleanup(srv.Close)
	h.url = srv.URL + sandbox.Path
	return h
}

func (h *harness) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req struct{ Method string }
		json.Unmarshal(body, &req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if h.after != nil {
			h.after(req.Method)
		}
		out := rec.Body.Bytes()
		h.mu.Lock()
		h.methods = append(h.methods, req.Method)
		if bytes.Contains(out, []byte(`"INVALID_SESSION"`)) {
			h.invalid++
		}
		h.mu.Unlock()
		if h.rewrite != nil {
			out = h.rewrite(out)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(out)
	})
}

func (h *harness) count(method string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.methods {
		if m == method {
			n++
		}
	}
	return n
}

// fastTransport retries at once and does not limit the rate.
var fastTransport = transport.Config{
	Timeout: 5 * time.Second,
	Policy:  transport.Policy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, Rand: transport.NewRand(1)},
	Rate:    rate.Inf,
}

func (h *harness) client(t *testing.T, edit func(*jsonrpc.Config)) *jsonrpc.Client {
	t.Helper()
	cfg := jsonrpc.Config{
		Account:      "demo",
		Endpoint:     h.url,
		MerchantCode: merchantCode,
		SecretKey:    secretKey,
		Now:          h.clk.Now,
		Logger:       slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Transport:    fastTransport,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := jsonrpc.New(cfg)
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

// collect reads a window of orders, copying every page.
func collect(ctx context.Context, c *jsonrpc.Client, w extract.Window) ([]extract.Order, []extract.Page[extract.Order], error) {
	var orders []extract.Order
	var pages []extract.Page[extract.Order]
	err := c.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		orders = append(orders, p.Items...)
		pages = append(pages, extract.Page[extract.Order]{Number: p.Number, Count: p.Count, Items: make([]extract.Order, len(p.Items))})
		return nil
	})
	return orders, pages, err
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

func TestOrdersEqualSandbox(t *testing.T) {
	h := newHarness(t, since.AddDays(45).In(time.UTC).Add(13*time.Hour), nil)
	today := civil.DateOf(h.clk.Now().In(h.m.Location()))
	tests := []struct {
		name     string
		w        extract.Window
		pageSize int
	}{
		{"one day", extract.Window{From: since.AddDays(5), To: since.AddDays(5)}, 0},
		{"a week, odd page size", extract.Window{From: since.AddDays(20), To: since.AddDays(26)}, 37},
		{"today, partly over", extract.Window{From: today, To: today}, 50},
		{"before the first day", extract.Window{From: since.AddDays(-10), To: since.AddDays(-1)}, 0},
		{"the future", extract.Window{From: today.AddDays(1), To: today.AddDays(3)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = tt.pageSize })
			got, pages, err := collect(t.Context(), c, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			want := ordersOn(h.m, tt.w)
			if len(got) != len(want) {
				t.Fatalf("read %d orders, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("order %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
			size := cmpOr(tt.pageSize, jsonrpc.DefaultPageSize)
			wantPages := max(1, (len(want)+size-1)/size)
			if len(pages) != wantPages {
				t.Errorf("%d pages, want %d", len(pages), wantPages)
			}
			for i, p := range pages {
				if p.Number != i+1 || p.Count != len(want) {
					t.Errorf("page %d: Number %d, Count %d; want %d, %d", i, p.Number, p.Count, i+1, len(want))
				}
			}
		})
	}
	if n := h.count("login"); n != 1*len(tests) {
		t.Errorf("%d logins for %d clients", n, len(tests))
	}
}

func cmpOr(a, b int) int {
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
	c := h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = 100 })
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
	seen := map[string]bool{}
	for _, o := range got {
		if seen[o.RefNo] {
			t.Errorf("RefNo %s read twice", o.RefNo)
		}
		seen[o.RefNo] = true
	}
	if want := refNos(ordersOn(h.m, w)); !reflect.DeepEqual(refNos(got), want) {
		t.Errorf("read %d orders, want the %d of the sandbox in order", len(got), len(want))
	}
	if n := h.count("searchOrders"); n != 11 {
		t.Errorf("%d searchOrders calls, want 11", n)
	}
}

func TestAlgorithms(t *testing.T) {
	for _, algo := range []string{"", "sha256", "sha3-256", "md5"} {
		t.Run(algo, func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
			c := h.client(t, func(cfg *jsonrpc.Config) { cfg.HMAC = algo })
			w := extract.Window{From: since, To: since}
			if _, _, err := collect(t.Context(), c, w); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAPIError(t *testing.T) {
	h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
	c := h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = 201 })
	_, _, err := collect(t.Context(), c, extract.Window{From: since, To: since})
	const want = "account demo, stream orders, API day 2025-01-01, searchOrders, page 1: INVALID_PARAMETER: Limit must be at most 200"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	reqErr, ok := errors.AsType[*extract.RequestError](err)
	if !ok || reqErr.Account != "demo" || reqErr.Stream != extract.StreamOrders || reqErr.Method != "searchOrders" || reqErr.Page != 1 {
		t.Errorf("RequestError %+v", reqErr)
	}
	apiErr, ok := errors.AsType[*extract.APIError](err)
	if !ok || apiErr.Code != "INVALID_PARAMETER" {
		t.Errorf("APIError %+v", apiErr)
	}
	if errors.Is(err, extract.ErrAuthentication) {
		t.Error("a parameter error is an authentication error")
	}
}

func TestAuthenticationFailed(t *testing.T) {
	tests := []struct {
		name string
		edit func(*jsonrpc.Config)
		skew time.Duration // of the client's clock
	}{
		{"wrong secret", func(c *jsonrpc.Config) { c.SecretKey = secretKey + "x" }, 0},
		{"wrong merchant", func(c *jsonrpc.Config) { c.MerchantCode = "OTHER" }, 0},
		{"clock skew", nil, 20 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
			c := h.client(t, func(cfg *jsonrpc.Config) {
				cfg.Now = func() time.Time { return h.clk.Now().Add(tt.skew) }
				if tt.edit != nil {
					tt.edit(cfg)
				}
			})
			_, _, err := collect(t.Context(), c, extract.Window{From: since, To: since})
			if !errors.Is(err, extract.ErrAuthentication) {
				t.Fatalf("error %v, want ErrAuthentication", err)
			}
			reqErr, ok := errors.AsType[*extract.RequestError](err)
			if !ok || reqErr.Method != "login for searchOrders" || reqErr.Account != "demo" || reqErr.Stream != extract.StreamOrders || reqErr.Page != 1 {
				t.Errorf("RequestError %+v, want one for login", reqErr)
			}
			if !strings.HasPrefix(err.Error(), "account demo, stream orders, API day 2025-01-01, login for searchOrders, page 1: AUTHENTICATION_FAILED: ") {
				t.Errorf("error %q", err)
			}
			noSecret(t, err)
			if n := h.count("searchOrders"); n != 0 {
				t.Errorf("%d searches after a failed login", n)
			}
		})
	}
}

func TestSessionRenewal(t *testing.T) {
	w := extract.Window{From: since, To: since.AddDays(9)}
	tests := []struct {
		name        string
		ttl         time.Duration
		step        time.Duration // the clock advances by step at every search
		expireAt    int           // page whose yield expires every session; 0 for none
		wantLogins  int           // -1: one at the start, then one every 10 minutes
		wantInvalid int           // -1: some
	}{
		// Renewed by age before the API expires it: sessions are used
		// until they are 8 minutes old; 9 minutes is too old.
		{"by age", 10 * time.Minute, 2 * time.Minute, 0, -1, 0},
		// Expired by the API early: renewed when refused.
		{"expired by the API", 3 * time.Minute, 2 * time.Minute, 0, 0, -1},
		{"expired mid-window", 10 * time.Minute, 0, 3, 2, 1},
		{"no renewal needed", 10 * time.Minute, 0, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(40).In(time.UTC), func(cfg *sandbox.Config) { cfg.SessionTTL = tt.ttl })
			h.after = func(method string) {
				if method == "searchOrders" {
					h.clk.Add(tt.step)
				}
			}
			want := refNos(ordersOn(h.m, w))
			c := h.client(t, func(cfg *jsonrpc.Config) { cfg.PageSize = 100 })
			var got []string
			err := c.Orders(t.Context(), w, func(p extract.Page[extract.Order]) error {
				got = append(got, refNos(p.Items)...)
				if p.Number == tt.expireAt {
					h.m.ExpireSessions()
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read %d orders, want %d", len(got), len(want))
			}
			logins, invalid := h.count("login"), h.invalid
			t.Logf("%d orders, %d searches, %d logins, %d refused", len(got), h.count("searchOrders"), logins, invalid)
			if tt.wantInvalid < 0 {
				// Every refusal costs one login and one repeated search.
				if invalid == 0 || logins != invalid+1 || h.count("searchOrders") != (len(want)+99)/100+invalid {
					t.Errorf("%d logins, %d refused sessions, %d searches", logins, invalid, h.count("searchOrders"))
				}
				return
			}
			if tt.wantLogins < 0 {
				tt.wantLogins = 1 + (h.count("searchOrders")-1)/5
			}
			if logins != tt.wantLogins || invalid != tt.wantInvalid {
				t.Errorf("%d logins and %d refused sessions, want %d and %d", logins, invalid, tt.wantLogins, tt.wantInvalid)
			}
		})
	}
}

func TestConcurrentStreamsShareLogin(t *testing.T) {
	h := newHarness(t, since.AddDays(10).In(time.UTC), nil)
	c := h.client(t, nil)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			if i%2 == 0 {
				_, _, errs[i] = collect(t.Context(), c, extract.Window{From: since, To: since.AddDays(3)})
			} else {
				errs[i] = c.Subscriptions(t.Context(), extract.SubscriptionFilter{}, func(extract.Page[extract.Subscription]) error { return nil })
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := h.count("login"); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
}

func TestEnvelopeVariants(t *testing.T) {
	tests := []struct {
		name    string
		rewrite func([]byte) []byte
	}{
		{"response member, numeric jsonrpc", func(b []byte) []byte {
			b = bytes.Replace(b, []byte(`"result":`), []byte(`"response":`), 1)
			return bytes.Replace(b, []byte(`"jsonrpc":"2.0"`), []byte(`"jsonrpc":2.0`), 1)
		}},
		{"integer jsonrpc, result first, string id", func(b []byte) []byte {
			var r map[string]json.RawMessage
			if err := json.Unmarshal(b, &r); err != nil || r["result"] == nil {
				return b
			}
			return []byte(`{"result":` + string(r["result"]) + `,"id":"` + string(r["id"]) + `","jsonrpc":2}`)
		}},
		{"extra members", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`{"jsonrpc"`), []byte(`{"warnings":[{"a":1}],"error":null,"jsonrpc"`), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(10).In(time.UTC), nil)
			h.rewrite = tt.rewrite
			c := h.client(t, nil)
			w := extract.Window{From: since.AddDays(2), To: since.AddDays(3)}
			got, _, err := collect(t.Context(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			if want := ordersOn(h.m, w); !reflect.DeepEqual(got, want) {
				t.Errorf("read %d orders, want %d equal to the sandbox's", len(got), len(want))
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	// A handler that breaks searchOrders in various ways, after a real
	// login.
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
		check   func(t *testing.T, err error)
	}{
		{"503 with a JSON-RPC error", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"jsonrpc":"2.0","id":2,"error":{"code":"SERVICE_UNAVAILABLE","message":"try later"}}`)
		}, func(t *testing.T, err error) {
			httpErr, ok := errors.AsType[*transport.StatusError](err)
			if !ok || httpErr.StatusCode != 503 {
				t.Errorf("StatusError %+v", httpErr)
			}
			if !strings.HasSuffix(err.Error(), "page 1: giving up after 4 attempts: HTTP 503 Service Unavailable: SERVICE_UNAVAILABLE: try later") {
				t.Errorf("error %q", err)
			}
			if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "SERVICE_UNAVAILABLE" {
				t.Errorf("APIError %+v", apiErr)
			}
		}},
		{"502 with HTML", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, `<html>bad gateway</html>`)
		}, func(t *testing.T, err error) {
			if !strings.HasSuffix(err.Error(), "page 1: giving up after 4 attempts: HTTP 502 Bad Gateway") {
				t.Errorf("error %q", err)
			}
		}},
		{"truncated body", func(w http.ResponseWriter) {
			io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"Items":[{"RefNo":"1"`)
		}, func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v, want unexpected EOF", err)
			}
		}},
		{"amount of the wrong type", func(w http.ResponseWriter) {
			io.WriteString(w, `{"jsonrpc":"2.0","id":2,"result":{"Items":[{"RefNo":"1","NetPrice":true}],"Pagination":{"Page":1,"Limit":200,"Count":1}}}`)
		}, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "NetPrice") {
				t.Errorf("error %v does not name the field", err)
			}
		}},
		{"neither result nor error", func(w http.ResponseWriter) {
			io.WriteString(w, `{"jsonrpc":"2.0","id":2}`)
		}, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "neither result nor error") {
				t.Errorf("error %v", err)
			}
		}},
		{"wrong id", func(w http.ResponseWriter) {
			io.WriteString(w, `{"jsonrpc":"2.0","id":99,"result":{"Items":[],"Pagination":{"Page":1,"Limit":200,"Count":0}}}`)
		}, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "id 99") {
				t.Errorf("error %v", err)
			}
		}},
		{"numeric error code", func(w http.ResponseWriter) {
			io.WriteString(w, `{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}}`)
		}, func(t *testing.T, err error) {
			if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "-32601" {
				t.Errorf("APIError %+v", apiErr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
			merchant := h.m.Handler()
			srv := httptest.NewServer(h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				if bytes.Contains(body, []byte(`"searchOrders"`)) {
					tt.respond(w)
					return
				}
				merchant.ServeHTTP(w, r)
			})))
			defer srv.Close()
			c := h.client(t, func(cfg *jsonrpc.Config) { cfg.Endpoint = srv.URL + sandbox.Path })
			_, _, err := collect(t.Context(), c, extract.Window{From: since, To: since})
			if err == nil {
				t.Fatal("no error")
			}
			reqErr, ok := errors.AsType[*extract.RequestError](err)
			if !ok || reqErr.Stream != extract.StreamOrders || reqErr.Method != "searchOrders" || reqErr.Page != 1 {
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
	c, err := jsonrpc.New(jsonrpc.Config{Account: "demo", Endpoint: "http://" + addr + sandbox.Path, MerchantCode: merchantCode, SecretKey: secretKey, Transport: fastTransport})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = collect(t.Context(), c, extract.Window{From: since, To: since})
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("error %v, want a *net.OpError", err)
	}
	if !strings.HasPrefix(fmtErr(err), "account demo, stream orders, API day 2025-01-01, login for searchOrders, page 1: ") {
		t.Errorf("error %q", err)
	}
	noSecret(t, err)
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestNew(t *testing.T) {
	valid := jsonrpc.Config{MerchantCode: merchantCode, SecretKey: secretKey}
	tests := []struct {
		name string
		edit func(*jsonrpc.Config)
		want string // in the error; empty for success
	}{
		{"valid", func(*jsonrpc.Config) {}, ""},
		{"no merchant", func(c *jsonrpc.Config) { c.MerchantCode = "" }, "MerchantCode"},
		{"no secret", func(c *jsonrpc.Config) { c.SecretKey = "" }, "SecretKey"},
		{"unknown hmac", func(c *jsonrpc.Config) { c.HMAC = "sha1" }, "sha1"},
		{"relative endpoint", func(c *jsonrpc.Config) { c.Endpoint = "/rpc/6.0/" }, "endpoint"},
		{"ftp endpoint", func(c *jsonrpc.Config) { c.Endpoint = "ftp://example.com/" }, "endpoint"},
		{"negative page size", func(c *jsonrpc.Config) { c.PageSize = -1 }, "PageSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			c, err := jsonrpc.New(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			case err == nil && c.API() != "jsonrpc":
				t.Errorf("API() = %q", c.API())
			}
			noSecret(t, err)
		})
	}
}
