package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

func TestFaultsValidate(t *testing.T) {
	if _, err := sandbox.New(sandbox.Config{MerchantCode: "M", SecretKey: "k", Since: since, Faults: sandbox.Faults{ServerError: 1.5}}); err == nil {
		t.Error("New accepted a share of 1.5")
	}
	m, _ := newMerchant(t, 1, since.AddDays(3).In(time.UTC))
	if err := m.SetFaults(sandbox.Faults{Insert: -1}); err == nil {
		t.Error("SetFaults accepted a negative insert count")
	}
}

// postRPC makes one JSON-RPC call and returns the response status, its
// Retry-After header and body, and the error reading the body.
func postRPC(t *testing.T, url, method string, params ...any) (int, string, []byte, error) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), raw, err
}

func TestFaultsOverHTTP(t *testing.T) {
	now := since.AddDays(3).In(time.UTC).Add(12 * time.Hour)
	search := map[string]any{"StartDate": since.String(), "EndDate": since.AddDays(1).String(), "Pagination": map[string]int{"Page": 1, "Limit": 20}}
	tests := []struct {
		spec  string
		check func(t *testing.T, status int, retryAfter string, body []byte, readErr error, elapsed time.Duration)
		stat  func(sandbox.FaultStats) int
	}{
		{"429=1:1500ms", func(t *testing.T, status int, retryAfter string, _ []byte, _ error, _ time.Duration) {
			if status != http.StatusTooManyRequests || retryAfter != "2" {
				t.Errorf("HTTP %d, Retry-After %q; want 429, 2", status, retryAfter)
			}
		}, func(s sandbox.FaultStats) int { return s.TooManyRequests }},
		{"500=1", func(t *testing.T, status int, _ string, _ []byte, _ error, _ time.Duration) {
			if status != http.StatusInternalServerError {
				t.Errorf("HTTP %d, want 500", status)
			}
		}, func(s sandbox.FaultStats) int { return s.ServerErrors }},
		{"truncate=1", func(t *testing.T, status int, _ string, body []byte, readErr error, _ time.Duration) {
			if status != http.StatusOK || readErr == nil && json.Valid(body) {
				t.Errorf("HTTP %d, body %q read fully; want a cut body", status, body)
			}
		}, func(s sandbox.FaultStats) int { return s.Truncated }},
		{"malformed=1", func(t *testing.T, status int, _ string, body []byte, readErr error, _ time.Duration) {
			if status != http.StatusOK || readErr != nil || json.Valid(body) {
				t.Errorf("HTTP %d, read error %v, valid JSON body; want a malformed body", status, readErr)
			}
		}, func(s sandbox.FaultStats) int { return s.Malformed }},
		{"slow=1:40ms", func(t *testing.T, status int, _ string, body []byte, readErr error, elapsed time.Duration) {
			if status != http.StatusOK || readErr != nil || !json.Valid(body) || elapsed < 40*time.Millisecond {
				t.Errorf("HTTP %d, read error %v, after %v; want a good answer after 40ms", status, readErr, elapsed)
			}
		}, func(s sandbox.FaultStats) int { return s.Slow }},
		{"expire=1", func(t *testing.T, status int, _ string, body []byte, readErr error, _ time.Duration) {
			if status != http.StatusOK || !bytes.Contains(body, []byte(`"INVALID_SESSION"`)) {
				t.Errorf("HTTP %d, body %.200s; want INVALID_SESSION", status, body)
			}
		}, func(s sandbox.FaultStats) int { return s.Expired }},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			m, _ := newMerchant(t, 5, now)
			url := serve(t, m)
			sid := login(t, url, now)
			f, err := sandbox.ParseFaults(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			m.SetFaults(f)
			const n = 6
			for range n {
				if tt.spec == "expire=1" {
					// Logins are spared.
					sid = login(t, url, now)
				}
				start := time.Now()
				status, retryAfter, body, readErr := postRPC(t, url, "searchOrders", sid, search)
				tt.check(t, status, retryAfter, body, readErr, time.Since(start))
			}
			if got := tt.stat(m.FaultStats()); got != n {
				t.Errorf("%d faults counted, want %d: %+v", got, n, m.FaultStats())
			}
		})
	}
}

func TestFaultsAllProtocols(t *testing.T) {
	m, _ := newMerchant(t, 5, since.AddDays(3).In(time.UTC))
	m.SetFaults(sandbox.Faults{ServerError: 1})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	for _, path := range []string{sandbox.Path, sandbox.RESTPath + "orders/", sandbox.LegacyPath + "sales/list_sales"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s: HTTP %d, want 500", path, resp.StatusCode)
		}
	}
}

// statuses serves n searches under f and returns the status of each, or
// 0 for a body that is not JSON.
func statuses(t *testing.T, f sandbox.Faults, n int) ([]int, sandbox.FaultStats) {
	t.Helper()
	now := since.AddDays(3).In(time.UTC)
	m, _ := newMerchant(t, 5, now)
	h := m.Handler()
	url := serve(t, m)
	sid := login(t, url, now)
	m.SetFaults(f)
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "searchOrders", "params": []any{sid, map[string]any{"Pagination": map[string]int{"Limit": 2}}}})
	codes := make([]int, n)
	for i := range codes {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", sandbox.Path, bytes.NewReader(body)))
		codes[i] = rec.Code
		if rec.Code == http.StatusOK && !json.Valid(rec.Body.Bytes()) {
			codes[i] = 0
		}
	}
	return codes, m.FaultStats()
}

func TestFaultShares(t *testing.T) {
	f := sandbox.Faults{Seed: 3, TooManyRequests: 0.2, ServerError: 0.1, Truncate: 0.05, Malformed: 0.05}
	const n = 2000
	codes, stats := statuses(t, f, n)
	count := func(code int) int {
		c := 0
		for _, x := range codes {
			if x == code {
				c++
			}
		}
		return c
	}
	for _, s := range []struct {
		name      string
		got, stat int
		share     float64
	}{
		{"429", count(429), stats.TooManyRequests, f.TooManyRequests},
		{"500", count(500), stats.ServerErrors, f.ServerError},
		{"not JSON", count(0), stats.Truncated + stats.Malformed, f.Truncate + f.Malformed},
	} {
		want := s.share * n
		if s.got != s.stat || float64(s.got) < 0.75*want || float64(s.got) > 1.25*want {
			t.Errorf("%s: %d responses, %d counted; want about %v", s.name, s.got, s.stat, want)
		}
	}
	if stats.Requests != n {
		t.Errorf("%d requests counted, want %d", stats.Requests, n)
	}

	again, _ := statuses(t, f, n)
	if !slices.Equal(codes, again) {
		t.Error("the same seed drew different faults")
	}
	f.Seed++
	other, _ := statuses(t, f, n)
	if slices.Equal(codes, other) {
		t.Error("another seed drew the same faults")
	}
}

func TestInsertShiftsPages(t *testing.T) {
	now := since.AddDays(10).In(time.UTC)
	m, _ := newMerchant(t, 9, now)
	url := serve(t, m)
	sid := login(t, url, now)
	w := extract.Window{From: since.AddDays(2), To: since.AddDays(6)}
	ordersOn := func() []extract.Order {
		var orders []extract.Order
		for d := w.From; !d.After(w.To); d = d.AddDays(1) {
			orders = append(orders, m.OrdersOn(d)...)
		}
		return orders
	}
	before := ordersOn()
	m.SetFaults(sandbox.Faults{Insert: 3, Seed: 4})

	// A naive client pages by offset and sees duplicates.
	const limit = 50
	var naive []string
	counts := map[int]bool{}
	for pg := 1; ; pg++ {
		var res page[extract.Order]
		opts := map[string]any{"StartDate": w.From.String(), "EndDate": w.To.String(), "IncludeTestOrders": "YES", "Pagination": map[string]int{"Page": pg, "Limit": limit}}
		if e := rpc(t, url, &res, "searchOrders", sid, opts); e != nil {
			t.Fatalf("page %d: %v", pg, e.Message)
		}
		counts[res.Pagination.Count] = true
		for _, o := range res.Items {
			naive = append(naive, o.RefNo)
		}
		if len(res.Items) < limit || pg*limit >= res.Pagination.Count {
			break
		}
	}
	if got := m.FaultStats().Inserted; got != 3 {
		t.Fatalf("%d orders inserted, want 3", got)
	}
	after := ordersOn()
	if len(after) != len(before)+3 {
		t.Fatalf("%d orders after, %d before; want 3 more", len(after), len(before))
	}
	old := map[string]bool{}
	for _, o := range before {
		old[o.RefNo] = true
	}
	seen := map[string]int{}
	for _, r := range naive {
		seen[r]++
	}
	dups, missed := 0, 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	for _, o := range after {
		if seen[o.RefNo] == 0 {
			missed++
		}
	}
	if dups == 0 || missed == 0 || len(counts) < 2 {
		t.Errorf("a naive read saw %d duplicates, missed %d orders, %d counts; want some of each", dups, missed, len(counts))
	}
	// The inserted orders are in placing order among the others.
	for i := 1; i < len(after); i++ {
		if after[i].OrderDate < after[i-1].OrderDate {
			t.Errorf("order %d placed %s after order %d placed %s", i, after[i].OrderDate, i-1, after[i-1].OrderDate)
		}
	}
	// Searching without faults lists the orders as OrdersOn does.
	m.SetFaults(sandbox.Faults{})
	var all []extract.Order
	for pg := 1; pg < 100; pg++ {
		var res page[extract.Order]
		opts := map[string]any{"StartDate": w.From.String(), "EndDate": w.To.String(), "IncludeTestOrders": "YES", "Pagination": map[string]int{"Page": pg, "Limit": 200}}
		if e := rpc(t, url, &res, "searchOrders", sid, opts); e != nil {
			t.Fatal(e.Message)
		}
		all = append(all, res.Items...)
		if len(res.Items) < 200 {
			break
		}
	}
	if !equalJSON(t, all, after) {
		t.Errorf("a search lists %d orders, OrdersOn %d, or in another order", len(all), len(after))
	}
}

// TestSlowFaultHonoursHangUp: a client that gives up on a slow POST frees
// its handler at once, rather than holding it for the whole delay.
func TestSlowFaultHonoursHangUp(t *testing.T) {
	f, err := sandbox.ParseFaults("slow=1:10s")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sandbox.New(sandbox.Config{MerchantCode: "M", SecretKey: "k", Since: since, Faults: f,
		Now: func() time.Time { return since.AddDays(3).In(time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler()
	returned := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+sandbox.Path,
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"login","params":["M","2025-01-01 00:00:00","x"]}`))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("a 10s slow request answered within 50ms")
	}
	select {
	case <-returned:
	case <-time.After(2 * time.Second):
		t.Error("the handler still holds an abandoned slow request after 2s")
	}
}
