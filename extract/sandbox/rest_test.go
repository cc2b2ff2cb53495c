package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// restAuth returns a valid authentication header for now.
func restAuth(t *testing.T, algo string, now time.Time) string {
	t.Helper()
	date, hash, err := extract.SignNow(algo, secretKey, merchantCode, now)
	if err != nil {
		t.Fatal(err)
	}
	h := `code="` + merchantCode + `" date="` + date + `" hash="` + hash + `"`
	if algo != "" && algo != "md5" {
		h += ` algo="` + algo + `"`
	}
	return h
}

// restError is the body of a REST error response.
type restError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// restGet makes one request and returns its status and body.
func restGet(t *testing.T, method, u string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, u, ct)
	}
	return resp.StatusCode, body
}

func TestRESTOrdersMatchJSONRPC(t *testing.T) {
	now := time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC)
	m, _ := newMerchant(t, 3, now)
	srv, err := sandbox.Serve(t.Context(), m, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if want := strings.TrimSuffix(srv.URL(), sandbox.Path) + sandbox.RESTPath; srv.RESTURL() != want {
		t.Errorf("RESTURL %s, want %s", srv.RESTURL(), want)
	}
	sid := login(t, srv.URL(), now)
	tests := []struct {
		name  string
		query string
		opts  map[string]any
	}{
		{"window, page 2", "StartDate=2025-01-05&EndDate=2025-01-09&IncludeTestOrders=YES&Page=2&Limit=150",
			map[string]any{"StartDate": "2025-01-05", "EndDate": "2025-01-09", "IncludeTestOrders": "YES", "Pagination": map[string]any{"Page": 2, "Limit": 150}}},
		{"test orders only", "StartDate=2025-01-05&EndDate=2025-01-20&IncludeTestOrders=ONLY",
			map[string]any{"StartDate": "2025-01-05", "EndDate": "2025-01-20", "IncludeTestOrders": "ONLY"}},
		{"defaults: last 7 days, 10 a page", "", map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := restGet(t, "GET", srv.RESTURL()+"orders/?"+tt.query,
				http.Header{"Accept": {"application/json"}, sandbox.AuthHeader: {restAuth(t, "md5", now)}})
			if status != http.StatusOK {
				t.Fatalf("HTTP %d: %s", status, body)
			}
			var got, want page[extract.Order]
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if e := rpc(t, srv.URL(), &want, "searchOrders", sid, tt.opts); e != nil {
				t.Fatalf("searchOrders: %v", e)
			}
			if len(want.Items) == 0 {
				t.Fatal("no orders")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("REST page %+v differs from the JSON-RPC page %+v", got.Pagination, want.Pagination)
			}
		})
	}

	status, body := restGet(t, "GET", srv.RESTURL()+"subscriptions?Page=3&Limit=7",
		http.Header{"Accept": {"application/json"}, sandbox.AuthHeader: {restAuth(t, "md5", now)}})
	var got, want page[extract.Subscription]
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil {
		t.Fatalf("subscriptions: HTTP %d, %v: %s", status, err, body)
	}
	if e := rpc(t, srv.URL(), &want, "searchSubscriptions", sid, map[string]any{"Page": 3, "Limit": 7}); e != nil {
		t.Fatal(e)
	}
	if len(got.Items) != 7 || !reflect.DeepEqual(got, want) {
		t.Errorf("REST subscriptions %+v differ from the JSON-RPC ones %+v", got.Pagination, want.Pagination)
	}
}

func TestRESTErrors(t *testing.T) {
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	m, _ := newMerchant(t, 1, now)
	base := serve(t, m)
	base = strings.TrimSuffix(base, sandbox.Path) + sandbox.RESTPath
	good := restAuth(t, "sha256", now)
	date := now.Format(extract.DateLayout)
	sign := func(algo, secret, code string, at time.Time) string {
		h, err := extract.Sign(algo, secret, code, at.Format(extract.DateLayout))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name   string
		method string
		path   string
		accept string
		auth   []string
		status int
		code   string
		msg    string // in the message
	}{
		{"ok sha256", "GET", "orders/", "application/json", []string{good}, 200, "", ""},
		{"ok sha3-256", "GET", "orders/", "application/json", []string{restAuth(t, "sha3-256", now)}, 200, "", ""},
		{"ok md5, without algo", "GET", "orders/", "application/json", []string{restAuth(t, "md5", now)}, 200, "", ""},
		{"sha256 without algo is read as md5", "GET", "orders/", "application/json",
			[]string{`code="` + merchantCode + `" date="` + date + `" hash="` + sign("sha256", secretKey, merchantCode, now) + `"`}, 401, "AUTHENTICATION_ERROR", "hash"},
		{"md5 named in algo", "GET", "orders/", "application/json",
			[]string{`code="` + merchantCode + `" date="` + date + `" hash="` + sign("md5", secretKey, merchantCode, now) + `" algo="md5"`}, 401, "AUTHENTICATION_ERROR", "sent without algo"},
		{"ok, Accept with a list", "GET", "orders", "text/html, application/json;q=0.9", []string{good}, 200, "", ""},
		{"ok, upper-case hash, commas", "GET", "subscriptions/", "application/json",
			[]string{`code="` + merchantCode + `", date="` + date + `", hash="` + strings.ToUpper(sign("sha256", secretKey, merchantCode, now)) + `", algo="sha256"`}, 200, "", ""},
		{"unknown resource", "GET", "products/", "application/json", []string{good}, 404, "NOT_FOUND", "products"},
		{"POST", "POST", "orders/", "application/json", []string{good}, 405, "METHOD_NOT_ALLOWED", "POST"},
		{"no Accept", "GET", "orders/", "", []string{good}, 406, "NOT_ACCEPTABLE", "application/json"},
		{"XML only", "GET", "orders/", "application/xml", []string{good}, 406, "NOT_ACCEPTABLE", "application/json"},
		{"no header", "GET", "orders/", "application/json", nil, 401, "AUTHENTICATION_ERROR", "missing"},
		{"two headers", "GET", "orders/", "application/json", []string{good, good}, 401, "AUTHENTICATION_ERROR", "repeated"},
		{"not key=value", "GET", "orders/", "application/json", []string{"Bearer abc"}, 401, "AUTHENTICATION_ERROR", "form"},
		{"unterminated quote", "GET", "orders/", "application/json", []string{`code="` + merchantCode}, 401, "AUTHENTICATION_ERROR", "form"},
		{"unknown field", "GET", "orders/", "application/json", []string{good + ` extra="1"`}, 401, "AUTHENTICATION_ERROR", "extra"},
		{"wrong merchant", "GET", "orders/", "application/json",
			[]string{`code="OTHER" date="` + date + `" hash="` + sign("sha256", secretKey, "OTHER", now) + `"`}, 401, "AUTHENTICATION_ERROR", "merchant"},
		{"wrong secret", "GET", "orders/", "application/json",
			[]string{`code="` + merchantCode + `" date="` + date + `" hash="` + sign("sha256", "nope", merchantCode, now) + `"`}, 401, "AUTHENTICATION_ERROR", "hash"},
		{"algo mismatch", "GET", "orders/", "application/json",
			[]string{`code="` + merchantCode + `" date="` + date + `" hash="` + sign("md5", secretKey, merchantCode, now) + `" algo="sha256"`}, 401, "AUTHENTICATION_ERROR", "hash"},
		{"unknown algo", "GET", "orders/", "application/json",
			[]string{`code="` + merchantCode + `" date="` + date + `" hash="00" algo="sha1"`}, 401, "AUTHENTICATION_ERROR", "algorithm"},
		{"skewed date", "GET", "orders/", "application/json", []string{restAuth(t, "sha256", now.Add(16*time.Minute))}, 401, "AUTHENTICATION_ERROR", "15 minutes"},
		{"local date", "GET", "orders/", "application/json",
			[]string{`code="` + merchantCode + `" date="` + now.Format(time.RFC3339) + `" hash="00"`}, 401, "AUTHENTICATION_ERROR", "UTC"},
		{"Limit too large", "GET", "orders/?Limit=201", "application/json", []string{good}, 400, "INVALID_PARAMETER", "Limit must be at most 200"},
		{"Limit zero", "GET", "subscriptions/?Limit=0", "application/json", []string{good}, 400, "INVALID_PARAMETER", "Limit"},
		{"Page not a number", "GET", "orders/?Page=x", "application/json", []string{good}, 400, "INVALID_PARAMETER", "Page"},
		{"bad date", "GET", "orders/?StartDate=2025-13-01", "application/json", []string{good}, 400, "INVALID_PARAMETER", "StartDate"},
		{"bad IncludeTestOrders", "GET", "orders/?IncludeTestOrders=MAYBE", "application/json", []string{good}, 400, "INVALID_PARAMETER", "IncludeTestOrders"},
		{"unknown parameter", "GET", "orders/?Status=COMPLETE", "application/json", []string{good}, 400, "INVALID_PARAMETER", "Status"},
		{"repeated parameter", "GET", "orders/?Page=1&Page=2", "application/json", []string{good}, 400, "INVALID_PARAMETER", "Page"},
		{"orders filter on subscriptions", "GET", "subscriptions/?StartDate=2025-01-01", "application/json", []string{good}, 400, "INVALID_PARAMETER", "StartDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.accept != "" {
				h.Set("Accept", tt.accept)
			}
			for _, a := range tt.auth {
				h.Add(sandbox.AuthHeader, a)
			}
			status, body := restGet(t, tt.method, base+tt.path, h)
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", status, tt.status, body)
			}
			if tt.code == "" {
				var p page[json.RawMessage]
				if err := json.Unmarshal(body, &p); err != nil || p.Pagination.Limit == 0 {
					t.Errorf("body %s is not a page (%v)", body, err)
				}
				return
			}
			var e restError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if e.ErrorCode != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %+v, want code %s and a message with %q", e, tt.code, tt.msg)
			}
			if strings.Contains(string(body), secretKey) {
				t.Errorf("the secret appears in %s", body)
			}
		})
	}
}

func TestRESTDateDefaults(t *testing.T) {
	now := time.Date(2025, 1, 20, 12, 0, 0, 0, time.UTC)
	m, _ := newMerchant(t, 1, now)
	base := strings.TrimSuffix(serve(t, m), sandbox.Path) + sandbox.RESTPath
	q := url.Values{"EndDate": {"2025-01-02"}, "IncludeTestOrders": {"YES"}, "Limit": {"200"}}
	status, body := restGet(t, "GET", base+"orders/?"+q.Encode(),
		http.Header{"Accept": {"application/json"}, sandbox.AuthHeader: {restAuth(t, "md5", now)}})
	var p page[extract.Order]
	if err := json.Unmarshal(body, &p); status != 200 || err != nil {
		t.Fatalf("HTTP %d, %v", status, err)
	}
	// With an EndDate only, the search starts at the first trading day.
	want := len(m.OrdersOn(since)) + len(m.OrdersOn(since.AddDays(1)))
	if p.Pagination.Count != want {
		t.Errorf("Count %d, want %d", p.Pagination.Count, want)
	}
}
