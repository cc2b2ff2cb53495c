package jsonrpc_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// TestDialects reads a sandbox of each dialect the client must cope with
// and a default one at the same clock: the orders or subscriptions read
// are exactly the default's, without an UnsettledError; a Count that is
// the page size is logged once as such.
func TestDialects(t *testing.T) {
	now := since.AddDays(45).In(time.UTC).Add(13 * time.Hour)
	week := extract.Window{From: since.AddDays(20), To: since.AddDays(26)}
	for _, tc := range []struct {
		dialect  string
		stream   string
		pageSize int
	}{
		{dialect.SubscriptionsBareArray, extract.StreamSubscriptions, 0},
		{dialect.SubscriptionsBareArray, extract.StreamSubscriptions, 37},
		{dialect.CountIsPageSize, extract.StreamOrders, 50},
		{dialect.CountIsPageSize, extract.StreamOrders, 0},
		{dialect.CountIsPageSize, extract.StreamSubscriptions, 0},
	} {
		t.Run(tc.dialect+" "+tc.stream+" by "+strconv.Itoa(tc.pageSize), func(t *testing.T) {
			def := newHarness(t, now, nil)
			h := newHarness(t, now, func(cfg *sandbox.Config) { cfg.Dialect = dialect.Of(tc.dialect) })
			size := func(cfg *jsonrpc.Config) { cfg.PageSize = tc.pageSize }
			c, d := h.client(t, size), def.client(t, size)
			var got, want any
			var pages []extracttest.PageInfo
			var err error
			if tc.stream == extract.StreamOrders {
				var wantPages []extracttest.PageInfo
				got, pages, err = extracttest.CollectOrders(t.Context(), c, week)
				if err != nil {
					t.Fatal(err)
				}
				want, wantPages, err = extracttest.CollectOrders(t.Context(), d, week)
				if n := len(want.([]extract.Order)); n < 1000 || n != wantPages[0].Count {
					t.Fatalf("the default read %d orders, Count %d: the case tests nothing", n, wantPages[0].Count)
				}
			} else {
				got, pages, err = extracttest.CollectSubscriptions(t.Context(), c)
				if err != nil {
					t.Fatal(err)
				}
				want, _, err = extracttest.CollectSubscriptions(t.Context(), d)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read %d records, want the default's %d", reflect.ValueOf(got).Len(), reflect.ValueOf(want).Len())
			}
			limit := cmpOr(tc.pageSize, jsonrpc.DefaultPageSize)
			if len(pages) < 2 || pages[0].Count != limit || pages[0].Items != limit {
				t.Errorf("pages %+v: want 2 or more, the first of %d with Count %d", pages, limit, limit)
			}
			if n := strings.Count(h.logs.String(), "the API's Count is the number of items on each page"); n != 1 {
				t.Errorf("logged the page count %d times, want once:\n%s", n, h.logs.String())
			}
			if strings.Contains(h.logs.String(), "reading them again") {
				t.Errorf("the search was read again:\n%s", h.logs.String())
			}
		})
	}
}
