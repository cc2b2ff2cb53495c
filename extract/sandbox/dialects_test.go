package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// apiServer is a served merchant and a JSON-RPC session with it.
type apiServer struct {
	m       *sandbox.Merchant
	rpcURL  string
	restURL string
	sid     string
	now     func() time.Time
}

// serveDialect serves a merchant of seed 3 and dialect d on clk.
func serveDialect(t *testing.T, d dialect.Set, clk *extracttest.Clock) *apiServer {
	t.Helper()
	m, err := sandbox.New(sandbox.Config{MerchantCode: merchantCode, SecretKey: secretKey, Seed: 3, Since: since, Now: clk.Now, Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.Serve(t.Context(), m, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &apiServer{m: m, rpcURL: srv.URL(), restURL: srv.RESTURL(), sid: login(t, srv.URL(), clk.Now()), now: clk.Now}
}

// search calls the order ("orders") or subscription search over api
// ("rpc" or "rest") with the options q (Page and Limit among them), and
// returns the HTTP status and the result: the JSON-RPC result member, or
// the REST body.
func (s *apiServer) search(t *testing.T, api, resource string, q map[string]string) (int, []byte) {
	t.Helper()
	if api == "rest" {
		v := url.Values{}
		for k, x := range q {
			v.Set(k, x)
		}
		return restGet(t, "GET", s.restURL+resource+"/?"+v.Encode(),
			http.Header{"Accept": {"application/json"}, sandbox.AuthHeader: {restAuth(t, "sha256", s.now())}})
	}
	opts := map[string]any{}
	for k, x := range q {
		opts[k] = x
	}
	method := map[string]string{"orders": "searchOrders", "subscriptions": "searchSubscriptions"}[resource]
	var res json.RawMessage
	if e := rpc(t, s.rpcURL, &res, method, s.sid, opts); e != nil {
		t.Fatalf("%s(%v): %v: %s", method, q, e.Code, e.Message)
	}
	return http.StatusOK, res
}

// pages reads every page of a search of {Items, Pagination} with Limit
// limit, until a short page.
func pages[T any](t *testing.T, s *apiServer, api, resource string, q map[string]string, limit int) []page[T] {
	t.Helper()
	var ps []page[T]
	for n := 1; ; n++ {
		q := maps(q, map[string]string{"Page": strconv.Itoa(n), "Limit": strconv.Itoa(limit)})
		status, body := s.search(t, api, resource, q)
		if status/100 != 2 {
			t.Fatalf("%s %s %v: HTTP %d: %s", api, resource, q, status, body)
		}
		var p page[T]
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("%s %s %v: %v: %.200s", api, resource, q, err, body)
		}
		ps = append(ps, p)
		if len(p.Items) < limit {
			return ps
		}
	}
}

func maps(a, b map[string]string) map[string]string {
	c := map[string]string{}
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			c[k] = v
		}
	}
	return c
}

func refNos(pages []page[extract.Order]) []string {
	var refs []string
	for _, p := range pages {
		for _, o := range p.Items {
			refs = append(refs, o.RefNo)
		}
	}
	return refs
}

func ordersRefNos(orders []extract.Order) []string {
	var refs []string
	for _, o := range orders {
		refs = append(refs, o.RefNo)
	}
	return refs
}

// ordersOn returns the default dialect's orders placed from from to to,
// test orders included.
func ordersOn(m *sandbox.Merchant, from, to civil.Date) []extract.Order {
	var orders []extract.Order
	for d := from; !d.After(to); d = d.AddDays(1) {
		orders = append(orders, m.OrdersOn(d)...)
	}
	return orders
}

var apis = []string{"rpc", "rest"}

// dialectAt is the clock of the dialect tests: two days after febDay,
// 01:30 in the API zone (GMT+02:00), when orders placed late the evening
// before may still be finishing.
var (
	febDay    = civil.Date{Year: 2025, Month: time.February, Day: 10}
	dialectAt = time.Date(2025, time.February, 11, 23, 30, 0, 0, time.UTC) // Feb 12 01:30 GMT+2
)

// TestEndDateExclusive: under enddate-exclusive, StartDate = EndDate = D
// finds nothing, [D, D+1] finds exactly the default's orders of D, and
// without EndDate the search runs through today.
func TestEndDateExclusive(t *testing.T) {
	clk := extracttest.NewClock(dialectAt)
	def, ex := serveDialect(t, dialect.Set{}, clk), serveDialect(t, dialect.Of(dialect.EndDateExclusive), clk)
	d, today := febDay, civil.Date{Year: 2025, Month: time.February, Day: 12}
	for _, api := range apis {
		for _, tc := range []struct {
			name  string
			q     map[string]string
			want  []extract.Order
			count int
		}{
			{"StartDate=EndDate", map[string]string{"StartDate": d.String(), "EndDate": d.String()}, nil, 0},
			{"one day", map[string]string{"StartDate": d.String(), "EndDate": d.AddDays(1).String()}, ordersOn(def.m, d, d), -1},
			{"two days", map[string]string{"StartDate": d.String(), "EndDate": d.AddDays(2).String()}, ordersOn(def.m, d, d.AddDays(1)), -1},
			{"no EndDate", map[string]string{"StartDate": d.String()}, ordersOn(def.m, d, today), -1},
		} {
			t.Run(api+" "+tc.name, func(t *testing.T) {
				q := maps(tc.q, map[string]string{"IncludeTestOrders": "YES"})
				got := pages[extract.Order](t, ex, api, "orders", q, 200)
				want := ordersRefNos(tc.want)
				if tc.count < 0 {
					tc.count = len(want)
					if tc.count < 150 {
						t.Fatalf("only %d orders to compare", tc.count)
					}
				}
				if g := refNos(got); !slices.Equal(g, want) || got[0].Pagination.Count != tc.count {
					t.Errorf("%d orders, Count %d; want the default's %d", len(g), got[0].Pagination.Count, tc.count)
				}
			})
		}
	}
}

// finishDate is the date finishdate-filter compares: FinishDate's if the
// order is finished, else OrderDate's.
func finishDate(t *testing.T, o extract.Order) civil.Date {
	t.Helper()
	s := o.OrderDate
	if o.FinishDate != "" {
		s = o.FinishDate
	}
	at, err := time.Parse(extract.DateLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return civil.DateOf(at)
}

// TestFinishDateFilter: under finishdate-filter, the search for a window
// lists exactly the default's orders whose FinishDate, or OrderDate if
// unfinished, falls in it, ordered by that date and then as the default
// lists them; today's search shows orders placed yesterday and finished
// today, and unfinished ones by their OrderDate.
func TestFinishDateFilter(t *testing.T) {
	clk := extracttest.NewClock(dialectAt)
	def, fin := serveDialect(t, dialect.Set{}, clk), serveDialect(t, dialect.Of(dialect.FinishDateFilter), clk)
	today := civil.Date{Year: 2025, Month: time.February, Day: 12}
	for _, api := range apis {
		for _, tc := range []struct {
			name     string
			from, to civil.Date
			test     string
		}{
			{"one day", febDay, febDay, "YES"},
			{"three days", febDay.AddDays(-2), febDay, "YES"},
			{"first trading day", since, since, "YES"},
			{"today, test orders only", today, today, "ONLY"},
			{"today", today, today, "NO"},
		} {
			t.Run(api+" "+tc.name, func(t *testing.T) {
				var want []string
				moved, unfinished := 0, 0
				for d := tc.from; !d.After(tc.to); d = d.AddDays(1) {
					for _, o := range ordersOn(def.m, d.AddDays(-1), d) {
						if finishDate(t, o) != d || tc.test == "NO" && o.TestOrder || tc.test == "ONLY" && !o.TestOrder {
							continue
						}
						want = append(want, o.RefNo)
						if o.OrderDate[:10] != d.String() {
							moved++
						}
						if o.FinishDate == "" {
							unfinished++
						}
					}
				}
				q := map[string]string{"StartDate": tc.from.String(), "EndDate": tc.to.String(), "IncludeTestOrders": tc.test}
				got := pages[extract.Order](t, fin, api, "orders", q, 50)
				if g := refNos(got); !slices.Equal(g, want) || got[0].Pagination.Count != len(want) {
					t.Errorf("%d orders, Count %d; want %d", len(g), got[0].Pagination.Count, len(want))
				}
				if tc.test == "YES" && tc.from != since && (moved == 0 || len(want) < 100) {
					t.Errorf("%d orders, %d placed the day before: the case tests nothing", len(want), moved)
				}
				if tc.from == today && tc.test == "NO" && (moved == 0 || unfinished == 0) {
					t.Errorf("today: %d placed yesterday, %d unfinished: the case tests nothing", moved, unfinished)
				}
			})
		}
	}
}

// TestCountIsPageSize: under count-is-page-size, every page's
// Pagination.Count is its number of items, and the pages hold the
// default's orders and subscriptions.
func TestCountIsPageSize(t *testing.T) {
	clk := extracttest.NewClock(dialectAt)
	def, cnt := serveDialect(t, dialect.Set{}, clk), serveDialect(t, dialect.Of(dialect.CountIsPageSize), clk)
	orders := map[string]string{"StartDate": febDay.AddDays(-3).String(), "EndDate": febDay.String(), "IncludeTestOrders": "YES"}
	for _, api := range apis {
		for _, tc := range []struct {
			resource string
			q        map[string]string
			limit    int
		}{
			{"orders", orders, 200},
			{"orders", orders, 7},
			{"orders", map[string]string{"StartDate": "2024-01-01", "EndDate": "2024-01-31"}, 10},
			{"subscriptions", map[string]string{"PurchasedBefore": since.AddDays(10).String()}, 200},
		} {
			t.Run(api+" "+tc.resource+" Limit "+strconv.Itoa(tc.limit), func(t *testing.T) {
				check := func(got, want []json.RawMessage, counts []int, wantTotal int) {
					t.Helper()
					if len(got) != len(want) || wantTotal != len(want) {
						t.Fatalf("%d items, want the default's %d (Count %d)", len(got), len(want), wantTotal)
					}
					for i := range got {
						if !bytes.Equal(got[i], want[i]) {
							t.Fatalf("item %d: %s, want %s", i, got[i], want[i])
						}
					}
					if tc.q["StartDate"] != "2024-01-01" && len(counts) < 2 {
						t.Errorf("%d pages: the case tests nothing", len(counts))
					}
				}
				got := pages[json.RawMessage](t, cnt, api, tc.resource, tc.q, tc.limit)
				want := pages[json.RawMessage](t, def, api, tc.resource, tc.q, tc.limit)
				var counts []int
				var gotItems, wantItems []json.RawMessage
				for i, p := range got {
					counts = append(counts, p.Pagination.Count)
					if p.Pagination.Count != len(p.Items) || p.Pagination.Page != i+1 || p.Pagination.Limit != tc.limit {
						t.Errorf("page %d: %d items, Pagination %+v; want Count %d", i+1, len(p.Items), p.Pagination, len(p.Items))
					}
					gotItems = append(gotItems, p.Items...)
				}
				for _, p := range want {
					wantItems = append(wantItems, p.Items...)
				}
				check(gotItems, wantItems, counts, want[0].Pagination.Count)
			})
		}
	}
}

// TestSubscriptionsBareArray: under subscriptions-bare-array, a
// subscription search's result is a bare array of the default's page,
// paged by Page and Limit, with no Items and no Pagination; orders keep
// {Items, Pagination}.
func TestSubscriptionsBareArray(t *testing.T) {
	clk := extracttest.NewClock(dialectAt)
	def, bare := serveDialect(t, dialect.Set{}, clk), serveDialect(t, dialect.Of(dialect.SubscriptionsBareArray), clk)
	for _, api := range apis {
		for _, tc := range []struct {
			name string
			q    map[string]string
			want int // items on the page
		}{
			{"page 3 of 7", map[string]string{"Page": "3", "Limit": "7"}, 7},
			{"defaults", map[string]string{}, 10},
			{"a day, 200", map[string]string{"PurchasedAfter": febDay.String(), "PurchasedBefore": febDay.String(), "Limit": "200"}, -1},
			{"past the end", map[string]string{"PurchasedBefore": since.String(), "Page": "90", "Limit": "200"}, 0},
		} {
			t.Run(api+" "+tc.name, func(t *testing.T) {
				status, body := bare.search(t, api, "subscriptions", tc.q)
				if status != http.StatusOK {
					t.Fatalf("HTTP %d", status)
				}
				var got []json.RawMessage
				if err := json.Unmarshal(body, &got); err != nil || !bytes.HasPrefix(body, []byte("[")) {
					t.Fatalf("result %.100s is not an array: %v", body, err)
				}
				_, defBody := def.search(t, api, "subscriptions", tc.q)
				var want page[json.RawMessage]
				if err := json.Unmarshal(defBody, &want); err != nil {
					t.Fatal(err)
				}
				if tc.want < 0 {
					tc.want = len(want.Items)
					if tc.want < 20 || tc.want == 200 {
						t.Fatalf("%d subscriptions: the case tests nothing", tc.want)
					}
				}
				if len(got) != tc.want || len(want.Items) != tc.want {
					t.Fatalf("%d subscriptions, the default %d; want %d", len(got), len(want.Items), tc.want)
				}
				for i := range got {
					if !bytes.Equal(got[i], want.Items[i]) {
						t.Errorf("subscription %d: %s, want %s", i, got[i], want.Items[i])
					}
				}
			})
		}
		status, body := bare.search(t, api, "orders", map[string]string{})
		var p struct {
			Items      []json.RawMessage
			Pagination *struct{ Count int }
		}
		if err := json.Unmarshal(body, &p); status != http.StatusOK || err != nil || len(p.Items) != 10 || p.Pagination == nil {
			t.Errorf("%s orders: HTTP %d, %v: %.100s; want {Items, Pagination}", api, status, err, body)
		}
	}
}

// TestREST201: under rest-201, REST reads of orders and subscriptions
// answer 201 with the default's body, byte for byte; errors keep their
// status and JSON-RPC its 200.
func TestREST201(t *testing.T) {
	clk := extracttest.NewClock(dialectAt)
	def, created := serveDialect(t, dialect.Set{}, clk), serveDialect(t, dialect.Of(dialect.REST201), clk)
	for _, tc := range []struct {
		api, resource string
		q             map[string]string
		status        int
	}{
		{"rest", "orders", map[string]string{"StartDate": febDay.String(), "EndDate": febDay.String(), "Page": "2", "Limit": "50"}, http.StatusCreated},
		{"rest", "orders", map[string]string{"StartDate": "2024-01-01", "EndDate": "2024-01-02"}, http.StatusCreated},
		{"rest", "subscriptions", map[string]string{"Page": "2", "Limit": "25"}, http.StatusCreated},
		{"rest", "orders", map[string]string{"Limit": "500"}, http.StatusBadRequest},
		{"rpc", "orders", map[string]string{"Page": "2"}, http.StatusOK},
		{"rpc", "subscriptions", map[string]string{}, http.StatusOK},
	} {
		t.Run(tc.api+" "+tc.resource+" "+strconv.Itoa(tc.status), func(t *testing.T) {
			status, body := created.search(t, tc.api, tc.resource, tc.q)
			defStatus, defBody := def.search(t, tc.api, tc.resource, tc.q)
			if status != tc.status || !bytes.Equal(body, defBody) {
				t.Errorf("HTTP %d: %.100s; want %d with the default's (HTTP %d) %.100s", status, body, tc.status, defStatus, defBody)
			}
			if tc.status/100 == 2 && len(body) < 30 {
				t.Errorf("body %s: the case tests nothing", body)
			}
		})
	}
}

// TestRefNoStatusChange: under refno-status-change, a search of two pages
// or more shows the result at index 1 on page 1 as the default does, and
// again as the last result with another Status; every result after it is
// one place earlier, so that a pass over the pages misses exactly the
// default's first of page 2. Count stays the default's total, and a search
// of one page is the default's.
func TestRefNoStatusChange(t *testing.T) {
	clk := extracttest.NewClock(dialectAt)
	def := serveDialect(t, dialect.Set{}, clk)
	day := map[string]string{"StartDate": febDay.String(), "EndDate": febDay.String(), "IncludeTestOrders": "YES"}
	for _, api := range apis {
		for _, tc := range []struct {
			name  string
			q     map[string]string
			limit int
			moves bool
		}{
			{"one day by 50", day, 50, true},
			{"one day by 2", day, 2, true},
			{"one day by 200", day, 200, true},
			{"one page", map[string]string{"StartDate": febDay.AddDays(-6).String(), "EndDate": febDay.String(), "IncludeTestOrders": "ONLY"}, 200, false},
			{"a week by 200", map[string]string{"StartDate": febDay.AddDays(-6).String(), "EndDate": febDay.String()}, 200, true},
		} {
			t.Run(api+" "+tc.name, func(t *testing.T) {
				// A merchant of its own: the search settles after its
				// first pass.
				ch := serveDialect(t, dialect.Of(dialect.RefNoStatusChange), clk)
				got := pages[extract.Order](t, ch, api, "orders", tc.q, tc.limit)
				want := pages[extract.Order](t, def, api, "orders", tc.q, tc.limit)
				total := want[0].Pagination.Count
				for i, p := range got {
					if p.Pagination.Count != total {
						t.Errorf("page %d: Count %d, want the default's %d", i+1, p.Pagination.Count, total)
					}
				}
				gotRefs, wantRefs := refNos(got), refNos(want)
				if !tc.moves {
					if len(got) != 1 || len(gotRefs) < 2 || !slices.Equal(gotRefs, wantRefs) || !equalJSON(t, got[0].Items, want[0].Items) {
						t.Errorf("one page: %d orders, want the default's %d", len(gotRefs), len(wantRefs))
					}
					return
				}
				if total <= tc.limit || len(gotRefs) != total || len(wantRefs) != total {
					t.Fatalf("read %d, default %d, Count %d with Limit %d: want Count orders over 2 pages or more", len(gotRefs), len(wantRefs), total, tc.limit)
				}
				if !equalJSON(t, got[0].Items, want[0].Items) {
					t.Errorf("page 1 differs from the default's")
				}
				var read []extract.Order
				for _, p := range got {
					read = append(read, p.Items...)
				}
				first, last := read[1], read[len(read)-1]
				if last.RefNo != first.RefNo || last.Status == first.Status || last.Status == "" {
					t.Errorf("last result %s %s; want %s with another Status than %s", last.RefNo, last.Status, first.RefNo, first.Status)
				}
				// The pass reads the default's list without its index
				// limit, and with index 1 again at the end.
				wantPass := slices.Concat(wantRefs[:tc.limit], wantRefs[tc.limit+1:], wantRefs[1:2])
				if !slices.Equal(gotRefs, wantPass) {
					t.Errorf("the pass read %v..., want %v...", gotRefs[:min(5, len(gotRefs))], wantPass[:min(5, len(wantPass))])
				}
				missing := 0
				for _, r := range wantRefs {
					if !slices.Contains(gotRefs, r) {
						missing++
						if r != wantRefs[tc.limit] {
							t.Errorf("missed %s, want only the default's first of page 2, %s", r, wantRefs[tc.limit])
						}
					}
				}
				if missing != 1 {
					t.Errorf("%d of the default's RefNos missing from the pass, want 1", missing)
				}
				// The next pass reads the default's list, index 1 with its
				// new Status.
				again := pages[extract.Order](t, ch, api, "orders", tc.q, tc.limit)
				if refs := refNos(again); !slices.Equal(refs, wantRefs) {
					t.Errorf("the second pass read %d orders, want the default's %d in order", len(refs), len(wantRefs))
				}
				var second []extract.Order
				for _, p := range again {
					second = append(second, p.Items...)
				}
				if len(second) > 1 && second[1].Status != last.Status {
					t.Errorf("second pass: %s %s, want the changed Status %s", second[1].RefNo, second[1].Status, last.Status)
				}
			})
		}
	}
}
