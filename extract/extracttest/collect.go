package extracttest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// Reading whole extractions, and comparing what they read.

// PageInfo is what a test keeps of a yielded page.
type PageInfo struct {
	Number, Count, Items int
}

// CollectOrders reads the orders of w from src, copying every page.
func CollectOrders(ctx context.Context, src extract.Source, w extract.Window) ([]extract.Order, []PageInfo, error) {
	var (
		orders []extract.Order
		pages  []PageInfo
	)
	err := src.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		orders = append(orders, p.Items...)
		pages = append(pages, PageInfo{p.Number, p.Count, len(p.Items)})
		return nil
	})
	return orders, pages, err
}

// CollectSubscriptions reads every subscription from src, copying every
// page.
func CollectSubscriptions(ctx context.Context, src extract.Source) ([]extract.Subscription, []PageInfo, error) {
	return CollectSubscriptionsOf(ctx, src, extract.SubscriptionFilter{})
}

// CollectSubscriptionsOf reads the subscriptions f asks for from src,
// copying every page.
func CollectSubscriptionsOf(ctx context.Context, src extract.Source, f extract.SubscriptionFilter) ([]extract.Subscription, []PageInfo, error) {
	var (
		subs  []extract.Subscription
		pages []PageInfo
	)
	err := src.Subscriptions(ctx, f, func(p extract.Page[extract.Subscription]) error {
		subs = append(subs, p.Items...)
		pages = append(pages, PageInfo{p.Number, p.Count, len(p.Items)})
		return nil
	})
	return subs, pages, err
}

// OrdersOn returns the merchant's orders of w as they are now, in the order
// searches list them.
func OrdersOn(m *sandbox.Merchant, w extract.Window) []extract.Order {
	var orders []extract.Order
	for d := w.From; !d.After(w.To); d = d.AddDays(1) {
		orders = append(orders, m.OrdersOn(d)...)
	}
	return orders
}

// ByRefNo returns orders sorted by RefNo, as numbers.
func ByRefNo(orders []extract.Order) []extract.Order {
	s := slices.Clone(orders)
	slices.SortStableFunc(s, func(a, b extract.Order) int {
		if len(a.RefNo) != len(b.RefNo) {
			return len(a.RefNo) - len(b.RefNo)
		}
		return strings.Compare(a.RefNo, b.RefNo)
	})
	return s
}

// EqualOrders fails t unless got and want are equal, naming the first
// difference.
func EqualOrders(t testing.TB, got, want []extract.Order) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("order %d of %d differs:\n got %+v\nwant %+v", i, len(want), got[i], want[i])
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d orders, want %d", len(got), len(want))
	}
}

// noDuplicates fails t if an order is in orders twice.
func noDuplicates(t testing.TB, orders []extract.Order) {
	t.Helper()
	seen := make(map[string]bool, len(orders))
	for _, o := range orders {
		if seen[o.RefNo] {
			t.Errorf("order %s yielded twice", o.RefNo)
		}
		seen[o.RefNo] = true
	}
}

// checkPages fails t unless pages are numbered from 1, each reports count,
// and each but the last is full.
func checkPages(t testing.TB, pages []PageInfo, size, count int) {
	t.Helper()
	want := max(1, (count+size-1)/size)
	if len(pages) != want {
		t.Errorf("%d pages, want %d: %+v", len(pages), want, pages)
		return
	}
	for i, p := range pages {
		items := size
		if i == len(pages)-1 {
			items = count - i*size
		}
		if p != (PageInfo{Number: i + 1, Count: count, Items: items}) {
			t.Errorf("page %d: %+v, want %+v", i+1, p, PageInfo{i + 1, count, items})
		}
	}
}
