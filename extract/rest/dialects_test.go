package rest_test

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// statuses records the status of every response.
type statuses struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[int]int
}

func (s *statuses) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		s.mu.Lock()
		s.seen[resp.StatusCode]++
		s.mu.Unlock()
	}
	return resp, err
}

// TestDialects reads a sandbox of each dialect the REST client must cope
// with and a default one at the same clock: the orders or subscriptions
// read are exactly the default's, without an UnsettledError, from
// responses of the dialect's status; a Count that is the page size (or a
// bare array's, which has none) is logged once as such.
func TestDialects(t *testing.T) {
	now := since.AddDays(45).In(time.UTC).Add(13 * time.Hour)
	week := extract.Window{From: since.AddDays(20), To: since.AddDays(26)}
	for _, tc := range []struct {
		dialects  []string
		stream    string
		pageSize  int
		status    int
		pageCount bool // Count is the page's
	}{
		{[]string{dialect.REST201}, extract.StreamOrders, 0, http.StatusCreated, false},
		{[]string{dialect.REST201}, extract.StreamOrders, 37, http.StatusCreated, false},
		{[]string{dialect.REST201}, extract.StreamSubscriptions, 0, http.StatusCreated, false},
		{[]string{dialect.SubscriptionsBareArray}, extract.StreamSubscriptions, 0, http.StatusOK, true},
		{[]string{dialect.SubscriptionsBareArray}, extract.StreamSubscriptions, 37, http.StatusOK, true},
		{[]string{dialect.CountIsPageSize}, extract.StreamOrders, 50, http.StatusOK, true},
		{[]string{dialect.CountIsPageSize}, extract.StreamSubscriptions, 0, http.StatusOK, true},
		{[]string{dialect.REST201, dialect.SubscriptionsBareArray, dialect.CountIsPageSize}, extract.StreamSubscriptions, 0, http.StatusCreated, true},
		{[]string{dialect.REST201, dialect.SubscriptionsBareArray, dialect.CountIsPageSize}, extract.StreamOrders, 0, http.StatusCreated, true},
	} {
		name := strings.Join(tc.dialects, ",") + " " + tc.stream + " by " + strconv.Itoa(tc.pageSize)
		t.Run(name, func(t *testing.T) {
			def := newHarness(t, now, nil)
			h := newHarness(t, now, func(cfg *sandbox.Config) { cfg.Dialect = dialect.Of(tc.dialects...) })
			seen := &statuses{next: transport.DefaultBase(), seen: map[int]int{}}
			c := h.client(t, func(cfg *rest.Config) { cfg.PageSize, cfg.Transport.Base = tc.pageSize, seen })
			d := def.client(t, func(cfg *rest.Config) { cfg.PageSize = tc.pageSize })
			var got, want any
			var pages, wantPages []extracttest.PageInfo
			var err error
			if tc.stream == extract.StreamOrders {
				if got, pages, err = extracttest.CollectOrders(t.Context(), c, week); err != nil {
					t.Fatal(err)
				}
				want, wantPages, err = extracttest.CollectOrders(t.Context(), d, week)
			} else {
				if got, pages, err = extracttest.CollectSubscriptions(t.Context(), c); err != nil {
					t.Fatal(err)
				}
				want, wantPages, err = extracttest.CollectSubscriptions(t.Context(), d)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := reflect.ValueOf(want).Len(); n < 1000 || len(wantPages) < 2 {
				t.Fatalf("the default read %d records over %d pages: the case tests nothing", n, len(wantPages))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read %d records, want the default's %d", reflect.ValueOf(got).Len(), reflect.ValueOf(want).Len())
			}
			if len(seen.seen) != 1 || seen.seen[tc.status] < len(pages) {
				t.Errorf("statuses %v, want only %d", seen.seen, tc.status)
			}
			wantCount := wantPages[0].Count
			if tc.pageCount {
				wantCount = pages[0].Items
			}
			if len(pages) != len(wantPages) || pages[0].Count != wantCount {
				t.Errorf("%d pages, the first with Count %d; want %d, Count %d", len(pages), pages[0].Count, len(wantPages), wantCount)
			}
			logged := strings.Count(h.logs.String(), "the API's Count is the number of items on each page")
			if want := map[bool]int{true: 1}[tc.pageCount]; logged != want {
				t.Errorf("logged the page count %d times, want %d", logged, want)
			}
			if strings.Contains(h.logs.String(), "reading them again") {
				t.Errorf("the search was read again:\n%s", h.logs.String())
			}
		})
	}
}
