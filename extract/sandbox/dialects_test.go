package sandbox_test

import (
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
