package legacy_test

import (
	"bytes"
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
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/legacy"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"github.com/ledgerline/ledgerline/money"
	"golang.org/x/time/rate"
)

const (
	merchantCode = "DEMO123"
	password     = "s3cr3t-k3y-do-not-print"
	user         = "api-reports"
)

var since = civil.Date{Year: 2025, Month: time.January, Day: 1}

// request is what the harness saw of one request.
type request struct {
	method string // sales/list_sales or sales/detail_sale
	query  string
}

// harness is a sandbox merchant served on loopback behind a handler that
// records the requests made to it, and can rewrite its responses.
type harness struct {
	m    *sandbox.Merchant
	now  time.Time
	srv  *httptest.Server
	logs *extracttest.SyncBuffer

	// rewrite, if set, may replace the status and body of each response.
	rewrite func(method string, r *http.Request, status int, body []byte) (int, []byte)
	// delay, if set, holds each detail_sale response that long.
	delay time.Duration

	mu       sync.Mutex
	requests []request
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func newHarness(t *testing.T, now time.Time, edit func(*sandbox.Config)) *harness {
	t.Helper()
	h := &harness{now: now, logs: &extracttest.SyncBuffer{}}
	cfg := sandbox.Config{MerchantCode: merchantCode, SecretKey: password, LegacyUser: user, Seed: 11, Since: since,
		Now: func() time.Time { return h.now }}
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
		method := strings.TrimPrefix(r.URL.Path, sandbox.LegacyPath)
		h.mu.Lock()
		h.requests = append(h.requests, request{method, r.URL.RawQuery})
		h.mu.Unlock()
		if method == "sales/detail_sale" {
			n := h.inFlight.Add(1)
			defer h.inFlight.Add(-1)
			for {
				m := h.maxIn.Load()
				if n <= m || h.maxIn.CompareAndSwap(m, n) {
					break
				}
			}
			if h.delay > 0 {
				time.Sleep(h.delay)
			}
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		status, body := rec.Code, rec.Body.Bytes()
		if h.rewrite != nil {
			status, body = h.rewrite(method, r, status, body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// count returns the number of requests of method.
func (h *harness) count(method string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.requests {
		if r.method == method {
			n++
		}
	}
	return n
}

func (h *harness) client(t *testing.T, edit func(*legacy.Config)) *legacy.Client {
	t.Helper()
	cfg := legacy.Config{
		Account:   "demo",
		Endpoint:  h.srv.URL + sandbox.LegacyPath,
		User:      user,
		Password:  password,
		Currency:  "USD",
		Logger:    slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Transport: fastTransport(),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := legacy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if logs := h.logs.String(); strings.Contains(logs, password) {
			t.Errorf("the password appears in the logs:\n%s", logs)
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

// jsonrpcOrders reads the window through JSON-RPC from the same merchant.
func (h *harness) jsonrpcOrders(t *testing.T, w extract.Window) []extract.Order {
	t.Helper()
	c, err := jsonrpc.New(jsonrpc.Config{Account: "demo", Endpoint: h.srv.URL + sandbox.Path,
		MerchantCode: merchantCode, SecretKey: password, Now: func() time.Time { return h.now }, Transport: fastTransport()})
	if err != nil {
		t.Fatal(err)
	}
	orders, _, err := collect(t.Context(), c, w)
	if err != nil {
		t.Fatal(err)
	}
	return orders
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

func noPassword(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), password) {
		t.Errorf("the password appears in error %q", err)
	}
}

// legacyStatus is the status the legacy API can tell an order has.
var legacyStatus = map[string]string{
	"AUTHRECEIVED": "PENDING",
	"PENDING":      "PENDING",
	"COMPLETE":     "COMPLETE",
	"CANCELED":     "CANCELED",
	"REFUND":       "REFUND",
	"REVERSED":     "REFUND",
}

// sameAmount reports whether two decimal numbers are equal.
func sameAmount(a, b string) bool {
	x, _, err1 := money.Parse(a)
	y, _, err2 := money.Parse(b)
	return err1 == nil && err2 == nil && x == y
}

// compare checks a legacy order against the JSON-RPC order it stands for:
// the fields the legacy API carries are equal, the others empty. The
// legacy API has no test flag, and a line per unit.
func compare(t *testing.T, got, want *extract.Order) {
	t.Helper()
	if got.RefNo != want.RefNo || got.OrderDate != want.OrderDate || got.Currency != want.Currency ||
		got.TestOrder || got.CustomerReference != want.CustomerReference ||
		got.ExternalReference != want.ExternalReference || got.BillingDetails.CountryCode != strings.ToUpper(want.BillingDetails.CountryCode) {
		t.Fatalf("order\n legacy %+v\njsonrpc %+v", got, want)
	}
	if got.Status != legacyStatus[want.Status] {
		t.Errorf("order %s: status %s, JSON-RPC %s", got.RefNo, got.Status, want.Status)
	}
	for _, a := range []struct {
		name      string
		got, want string
	}{
		{"GrossPrice", got.GrossPrice.String(), want.GrossPrice.String()},
		{"Discount", got.Discount.String(), want.Discount.String()},
		{"GrossDiscountedPrice", got.GrossDiscountedPrice.String(), want.GrossDiscountedPrice.String()},
	} {
		if !sameAmount(a.got, a.want) {
			t.Errorf("order %s: %s %s, JSON-RPC %s", got.RefNo, a.name, a.got, a.want)
		}
	}
	units := 0
	for _, it := range want.Items {
		n, err := strconv.Atoi(it.Quantity.String())
		if err != nil {
			t.Fatalf("order %s: JSON-RPC quantity %s", want.RefNo, it.Quantity)
		}
		units += n
	}
	wantItems := legacy.Project(*want).Items
	if len(got.Items) != units || len(wantItems) != units {
		t.Fatalf("order %s: %d items, JSON-RPC %d units (%d projected)", got.RefNo, len(got.Items), units, len(wantItems))
	}
	for i := range wantItems {
		g, w := &got.Items[i], &wantItems[i]
		if g.Code != w.Code || g.ProductDetails != w.ProductDetails || g.Quantity != w.Quantity ||
			!strings.EqualFold(g.Price.Currency, w.Price.Currency) || !sameAmount(g.Price.GrossPrice.String(), w.Price.GrossPrice.String()) {
			t.Errorf("order %s item %d:\n legacy %+v\njsonrpc %+v", got.RefNo, i, g, w)
		}
		if g.SKU != "" || g.Price.NetPrice != "" || g.Price.VAT != "" || g.Price.UnitGrossPrice != "" {
			t.Errorf("order %s item %d has fields the legacy API does not carry: %+v", got.RefNo, i, g)
		}
	}
	if got.OrderNo != "" || got.ApproveStatus != "" || got.FinishDate != "" || got.Affiliate != nil ||
		got.NetPrice != "" || got.VAT != "" || got.AvangateCommission != "" || got.ChargebackResolution != nil {
		t.Errorf("order %s has fields the legacy API does not carry: %+v", got.RefNo, got)
	}
}

func TestOrdersMatchJSONRPC(t *testing.T) {
	h := newHarness(t, since.AddDays(45).In(time.UTC).Add(13*time.Hour), func(c *sandbox.Config) { c.OrdersPerDay = 60 })
	today := civil.DateOf(h.now.In(h.m.Location()))
	tests := []struct {
		name     string
		w        extract.Window
		pageSize int
	}{
		{"three weeks", extract.Window{From: since.AddDays(15), To: since.AddDays(35)}, 0},
		{"last days, odd page size", extract.Window{From: today.AddDays(-3), To: today}, 37},
		{"before the first day", extract.Window{From: since.AddDays(-10), To: since.AddDays(-1)}, 0},
	}
	statuses := map[string]int{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client(t, func(cfg *legacy.Config) { cfg.PageSize = tt.pageSize })
			got, pages, err := collect(t.Context(), c, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			want := h.jsonrpcOrders(t, tt.w)
			if !reflect.DeepEqual(refNos(got), refNos(want)) {
				t.Fatalf("read %d sales, want JSON-RPC's %d orders in order", len(got), len(want))
			}
			for i := range want {
				compare(t, &got[i], &want[i])
				if pw := legacy.Project(want[i]); !reflect.DeepEqual(got[i], pw) {
					t.Errorf("order %s:\n legacy %+v\nprojected jsonrpc %+v", got[i].RefNo, got[i], pw)
				} else if !reflect.DeepEqual(legacy.Project(got[i]), got[i]) {
					t.Errorf("order %s: Project is not idempotent", got[i].RefNo)
				}
				statuses[want[i].Status+" "+got[i].Status]++
			}
			size := cmp(tt.pageSize, legacy.DefaultPageSize)
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
	t.Logf("statuses (JSON-RPC legacy): %v", statuses)
	for st, lst := range legacyStatus {
		if statuses[st+" "+lst] == 0 {
			t.Errorf("no %s order read", st)
		}
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
			h.now = at
			break
		}
		n -= len(orders)
	}
	c := h.client(t, nil)
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
		t.Errorf("read %d sales, want the %d of the sandbox in order", len(got), len(want))
	}
	if n, d := h.count("sales/list_sales"), h.count("sales/detail_sale"); n != 11 || d != 1037 {
		t.Errorf("%d list_sales and %d detail_sale calls, want 11 and 1037", n, d)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	page := 0
	for _, r := range h.requests {
		if r.method == "sales/list_sales" {
			page++
			want := "cur_page=" + strconv.Itoa(page) + "&pagesize=100&sale_date_begin=2025-01-01&sale_date_end=2025-03-02"
			if r.query != want {
				t.Errorf("list_sales %s, want %s", r.query, want)
			}
		}
	}
}

func TestConcurrency(t *testing.T) {
	tests := []struct {
		concurrency, pageSize, want int
	}{
		{1, 0, 1},
		{3, 0, 3},
		{0, 0, legacy.DefaultConcurrency},
		{16, 5, 5}, // no more in flight than a page has sales
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.concurrency), func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), func(c *sandbox.Config) { c.OrdersPerDay = 40 })
			h.delay = 2 * time.Millisecond
			c := h.client(t, func(cfg *legacy.Config) {
				cfg.Concurrency = tt.concurrency
				cfg.PageSize = tt.pageSize
			})
			w := extract.Window{From: since, To: since}
			got, _, err := collect(t.Context(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			if want := refNos(ordersOn(h.m, w)); !reflect.DeepEqual(refNos(got), want) {
				t.Errorf("read %v, want %v", refNos(got), want)
			}
			if n := h.maxIn.Load(); n != int64(tt.want) {
				t.Errorf("%d detail_sale calls in flight at most, want %d", n, tt.want)
			}
		})
	}
}

func TestAuthenticationFailed(t *testing.T) {
	tests := []struct {
		name string
		edit func(*legacy.Config)
	}{
		{"wrong password", func(c *legacy.Config) { c.Password = password + "x" }},
		{"wrong user", func(c *legacy.Config) { c.User = "admin" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
			c := h.client(t, tt.edit)
			_, _, err := collect(t.Context(), c, extract.Window{From: since, To: since})
			if !errors.Is(err, extract.ErrAuthentication) {
				t.Fatalf("error %v, want ErrAuthentication", err)
			}
			reqErr, ok := errors.AsType[*extract.RequestError](err)
			if !ok || reqErr.Account != "demo" || reqErr.Stream != extract.StreamOrders || reqErr.Method != "GET sales/list_sales" || reqErr.Page != 1 {
				t.Errorf("RequestError %+v", reqErr)
			}
			if httpErr, ok := errors.AsType[*transport.StatusError](err); !ok || httpErr.StatusCode != http.StatusUnauthorized {
				t.Errorf("StatusError %+v", httpErr)
			}
			const want = "account demo, stream orders, API day 2025-01-01, GET sales/list_sales, page 1: HTTP 401 Unauthorized: authentication failed: 300: Unauthorized"
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			noPassword(t, err)
			if n := h.count("sales/detail_sale"); n != 0 {
				t.Errorf("%d detail calls after a refused list", n)
			}
			if n := h.count("sales/list_sales"); n != 1 {
				t.Errorf("%d list calls; a refused request is not retried", n)
			}
		})
	}
}

func TestPageSizeOutOfRange(t *testing.T) {
	h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
	c := h.client(t, func(cfg *legacy.Config) { cfg.PageSize = 101 })
	_, _, err := collect(t.Context(), c, extract.Window{From: since, To: since})
	const want = "account demo, stream orders, API day 2025-01-01, GET sales/list_sales, page 1: HTTP 400 Bad Request: " +
		"PARAMETER_INVALID: Invalid value for parameter: pagesize (must be an integer from 1 to 100)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "PARAMETER_INVALID" {
		t.Errorf("APIError %+v", apiErr)
	}
	if errors.Is(err, extract.ErrAuthentication) {
		t.Error("a parameter error is an authentication error")
	}
}

// TestResponseErrors breaks one response of an extraction of two pages of
// 20 sales in various ways.
func TestResponseErrors(t *testing.T) {
	const errors200 = `{"errors":[{"code":"PARAMETER_INVALID","message":"Invalid value for parameter: cur_page","parameter":"cur_page"}]}`
	tests := []struct {
		name    string
		method  string // the method whose response breaks
		nth     int    // which of its calls, from 1
		rewrite func(body []byte) (int, []byte)
		want    string // the error's text after "account demo, stream orders, API day 2025-01-01, "
		check   func(t *testing.T, err error)
	}{
		{"errors[] with 200 from list_sales", "sales/list_sales", 2, func([]byte) (int, []byte) {
			return 200, []byte(errors200)
		}, "GET sales/list_sales, page 2: PARAMETER_INVALID: Invalid value for parameter: cur_page", func(t *testing.T, err error) {
			if _, ok := errors.AsType[*transport.StatusError](err); ok {
				t.Error("a StatusError for a 200")
			}
		}},
		{"errors[] with 200 from detail_sale, two of them", "sales/detail_sale", 5, func([]byte) (int, []byte) {
			return 200, []byte(`{"response_code":"OK","errors":[{"code":"FORBIDDEN","message":"Access denied to sale"},{"code":"X","message":"y"}]}`)
		}, "GET sales/detail_sale, page 1: sale %s: FORBIDDEN: Access denied to sale (and 1 more errors)", nil},
		{"response_code not OK", "sales/detail_sale", 3, func([]byte) (int, []byte) {
			return 200, []byte(`{"response_code":"NOTOK","response_message":"Sale locked"}`)
		}, "GET sales/detail_sale, page 1: sale %s: NOTOK: Sale locked", nil},
		{"errors[] with 400", "sales/detail_sale", 1, func([]byte) (int, []byte) {
			return 400, []byte(`{"errors":[{"code":"PARAMETER_MISSING","message":"Required parameter missing: sale_id","parameter":"sale_id"}]}`)
		}, "GET sales/detail_sale, page 1: sale %s: HTTP 400 Bad Request: PARAMETER_MISSING: Required parameter missing: sale_id", func(t *testing.T, err error) {
			if httpErr, ok := errors.AsType[*transport.StatusError](err); !ok || httpErr.StatusCode != 400 {
				t.Errorf("StatusError %+v", httpErr)
			}
		}},
		{"404 record not found", "sales/detail_sale", 21, func([]byte) (int, []byte) {
			return 404, []byte(`{"errors":[{"code":"RECORD_NOT_FOUND","message":"Unable to find record."}]}`)
		}, "GET sales/detail_sale, page 2: sale %s: HTTP 404 Not Found: RECORD_NOT_FOUND: Unable to find record.", nil},
		{"500 with HTML", "sales/detail_sale", 2, func([]byte) (int, []byte) {
			return 500, []byte(`<html>oops</html>`)
		}, "", nil}, // retried
		{"500 with HTML, every time", "sales/detail_sale", -2, func([]byte) (int, []byte) {
			return 500, []byte(`<html>oops</html>`)
		}, "GET sales/detail_sale, page 1: sale %s: giving up after 3 attempts: HTTP 500 Internal Server Error", nil},
		{"403 with errors[]", "sales/detail_sale", 3, func([]byte) (int, []byte) {
			return 403, []byte(`{"errors":[{"code":"FORBIDDEN","message":"Access denied to sale"}]}`)
		}, "GET sales/detail_sale, page 1: sale %s: HTTP 403 Forbidden: authentication failed: FORBIDDEN: Access denied to sale", func(t *testing.T, err error) {
			if !errors.Is(err, extract.ErrAuthentication) {
				t.Errorf("error %v, want ErrAuthentication", err)
			}
		}},
		{"truncated detail", "sales/detail_sale", 4, func(b []byte) (int, []byte) {
			return 200, b[:len(b)/2]
		}, "", nil}, // retried
		{"truncated detail, every time", "sales/detail_sale", -4, func(b []byte) (int, []byte) {
			return 200, b[:len(b)/2]
		}, "", func(t *testing.T, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "giving up after 3 attempts: decoding response: unexpected EOF") {
				t.Errorf("error %v, want unexpected EOF after 3 attempts", err)
			}
		}},
		{"malformed list", "sales/list_sales", 2, func(b []byte) (int, []byte) {
			return 200, append([]byte("\x00"), b...)
		}, "", nil}, // retried
		{"another sale", "sales/detail_sale", 6, func(b []byte) (int, []byte) {
			return 200, regexp.MustCompile(`"sale_id":"\d+"`).ReplaceAll(b, []byte(`"sale_id":"42"`))
		}, `GET sales/detail_sale, page 1: sale %s: response is for sale "42"`, nil},
		{"no invoices", "sales/detail_sale", 6, func(b []byte) (int, []byte) {
			return 200, regexp.MustCompile(`"invoices":\[.*\]`).ReplaceAll(b, []byte(`"invoices":[]`))
		}, "GET sales/detail_sale, page 1: sale %s: sale has no invoices", nil},
		{"amount not a number", "sales/detail_sale", 6, func(b []byte) (int, []byte) {
			return 200, regexp.MustCompile(`"customer_total":"[^"]*"`).ReplaceAll(b, []byte(`"customer_total":"12,50"`))
		}, "", func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "customer_total") {
				t.Errorf("error %v does not name the field", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
			var (
				calls  atomic.Int64
				broken atomic.Value // the sale_id whose call broke
				query  atomic.Value // the query of the broken call
			)
			nth := int64(tt.nth)
			h.rewrite = func(method string, r *http.Request, status int, body []byte) (int, []byte) {
				if method != tt.method {
					return status, body
				}
				n := calls.Add(1)
				// A negative nth breaks the -nth call and every later call
				// with the same query: a fault that persists.
				if n == nth || n == -nth || nth < 0 && n > -nth && query.Load() == r.URL.RawQuery {
					broken.Store(r.URL.Query().Get("sale_id"))
					query.Store(r.URL.RawQuery)
					return tt.rewrite(body)
				}
				return status, body
			}
			c := h.client(t, func(cfg *legacy.Config) {
				cfg.PageSize = 20
				cfg.Concurrency = 1 // so that the nth call is the nth sale
			})
			w := extract.Window{From: since, To: since}
			got, _, err := collect(t.Context(), c, w)
			if tt.want == "" && tt.check == nil {
				// The fault is retried.
				if err != nil {
					t.Fatal(err)
				}
				if want := refNos(ordersOn(h.m, w)); !reflect.DeepEqual(refNos(got), want) {
					t.Errorf("read %d sales, want the %d of the sandbox", len(got), len(want))
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			noPassword(t, err)
			if tt.want != "" {
				want := "account demo, stream orders, API day 2025-01-01, " + strings.ReplaceAll(tt.want, "%s", broken.Load().(string))
				if err.Error() != want {
					t.Errorf("error\n%s\nwant\n%s", err, want)
				}
			}
			if _, ok := errors.AsType[*extract.RequestError](err); !ok {
				t.Errorf("error %v is not a RequestError", err)
			}
			if errors.Is(err, extract.ErrAuthentication) != strings.Contains(tt.name, "403") {
				t.Errorf("error %v: authentication error %v", err, errors.Is(err, extract.ErrAuthentication))
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

// TestWireVariants checks that numbers the API sends as JSON numbers
// rather than strings, and nulls, read the same.
func TestWireVariants(t *testing.T) {
	w := extract.Window{From: since.AddDays(1), To: since.AddDays(2)}
	h := newHarness(t, since.AddDays(20).In(time.UTC), func(c *sandbox.Config) { c.OrdersPerDay = 30 })
	want, _, err := collect(t.Context(), h.client(t, nil), w)
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile(`"(sale_id|customer_id|customer_total|customer_amount|quantity|cur_page|last_page|total_entries)":"(-?[0-9.]+)"`)
	h.rewrite = func(method string, r *http.Request, status int, body []byte) (int, []byte) {
		body = quoted.ReplaceAll(body, []byte(`"$1":$2`))
		body = bytes.ReplaceAll(body, []byte(`"product_id":null`), []byte(`"product_id":null,"warnings":null`))
		return status, body
	}
	got, _, err := collect(t.Context(), h.client(t, nil), w)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d orders, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("order %d:\n numbers %+v\n strings %+v", i, got[i], want[i])
		}
	}
}

func TestSubscriptionsUnsupported(t *testing.T) {
	h := newHarness(t, since.AddDays(3).In(time.UTC), nil)
	c := h.client(t, nil)
	called := false
	err := c.Subscriptions(t.Context(), extract.SubscriptionFilter{}, func(extract.Page[extract.Subscription]) error {
		called = true
		return nil
	})
	if !errors.Is(err, extract.ErrUnsupported) || called {
		t.Errorf("error %v, yield called %v; want ErrUnsupported and no yield", err, called)
	}
	const want = "account demo, stream subscriptions: the legacy Admin API has no subscription search: not supported by this API"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	if len(h.requests) != 0 {
		t.Errorf("%d requests", len(h.requests))
	}
}

// TestCancelDuringDetails checks that an extraction canceled while it
// fetches the details of a list page makes no further detail calls.
// (Stopping at an error from yield and cancellation between pages are
// the conformance suite's YieldError and Cancel.)
func TestCancelDuringDetails(t *testing.T) {
	h := newHarness(t, since.AddDays(10).In(time.UTC), func(c *sandbox.Config) { c.OrdersPerDay = 40 })
	c := h.client(t, func(cfg *legacy.Config) { cfg.PageSize = 30 })
	w := extract.Window{From: since, To: since.AddDays(3)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var details atomic.Int64
	h.rewrite = func(method string, r *http.Request, status int, body []byte) (int, []byte) {
		if method == "sales/detail_sale" && details.Add(1) == 5 {
			cancel()
		}
		return status, body
	}
	before := h.count("sales/detail_sale")
	_, _, err := collect(ctx, c, w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if reqErr, ok := errors.AsType[*extract.RequestError](err); !ok || reqErr.Page != 1 || reqErr.Method != "GET sales/detail_sale" {
		t.Errorf("RequestError %+v, want one for detail_sale on page 1", reqErr)
	}
	if n := h.count("sales/detail_sale") - before; n > 5+legacy.DefaultConcurrency {
		t.Errorf("%d detail calls after the cancellation at the 5th", n)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := legacy.New(legacy.Config{Account: "demo", Endpoint: "http://" + addr + sandbox.LegacyPath, User: user, Password: password,
		Currency: "USD", Transport: fastTransport()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = collect(t.Context(), c, extract.Window{From: since, To: since})
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("error %v, want a *net.OpError", err)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "account demo, stream orders, API day 2025-01-01, GET sales/list_sales, page 1: giving up after 3 attempts: dial tcp ") {
		t.Errorf("error %v", err)
	}
	noPassword(t, err)
}

func TestNew(t *testing.T) {
	valid := legacy.Config{User: user, Password: password, Currency: "eur"}
	tests := []struct {
		name string
		edit func(*legacy.Config)
		want string // in the error; empty for success
	}{
		{"valid", func(*legacy.Config) {}, ""},
		{"endpoint without a trailing slash", func(c *legacy.Config) { c.Endpoint = "https://example.com/api" }, ""},
		{"no user", func(c *legacy.Config) { c.User = "" }, "User"},
		{"no password", func(c *legacy.Config) { c.Password = "" }, "Password"},
		{"no currency", func(c *legacy.Config) { c.Currency = "" }, `Currency "" is not an ISO 4217 code`},
		{"relative endpoint", func(c *legacy.Config) { c.Endpoint = "/api/" }, "endpoint"},
		{"endpoint with credentials", func(c *legacy.Config) { c.Endpoint = "https://" + user + ":" + password + "@example.com/api/" }, "endpoint"},
		{"negative page size", func(c *legacy.Config) { c.PageSize = -1 }, "PageSize"},
		{"negative concurrency", func(c *legacy.Config) { c.Concurrency = -1 }, "Concurrency"},
		{"negative max passes", func(c *legacy.Config) { c.MaxPasses = -1 }, "MaxPasses"},
		{"negative timeout", func(c *legacy.Config) { c.Transport.Timeout = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			c, err := legacy.New(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			case err == nil && c.API() != "legacy":
				t.Errorf("API() = %q", c.API())
			}
			noPassword(t, err)
		})
	}
}
