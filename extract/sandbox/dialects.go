package sandbox

// The dialects of the API 6.0 searches (see package extract/dialect), for
// JSON-RPC and REST alike: the order filter, the order and subscription
// results, and the REST status. The legacy Admin API has none of them.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/dialect"
)

// orderFilterOf reads the order search's StartDate, EndDate and
// IncludeTestOrders options at now. Without dates the search covers the
// last 7 days; StartDate alone runs through today, EndDate alone from the
// first trading day. Under EndDateExclusive a given EndDate is exclusive:
// the days are [StartDate, EndDate).
func (m *Merchant) orderFilterOf(opts options, now time.Time) (orderFilter, *rpcError) {
	today := m.today(now)
	f := orderFilter{from: m.since, to: today, test: "NO"}
	if !opts.has("StartDate") && !opts.has("EndDate") {
		// Without dates, the API returns the last 7 days.
		f.from = today.AddDays(-6)
	}
	var err *rpcError
	if opts.has("StartDate") {
		if f.from, err = opts.date("StartDate"); err != nil {
			return f, err
		}
	}
	if opts.has("EndDate") {
		if f.to, err = opts.date("EndDate"); err != nil {
			return f, err
		}
		if m.dialect.Has(dialect.EndDateExclusive) {
			f.to = f.to.AddDays(-1)
		}
	}
	if opts.has("IncludeTestOrders") {
		if json.Unmarshal(opts["IncludeTestOrders"], &f.test) != nil || !slices.Contains([]string{"YES", "NO", "ONLY"}, f.test) {
			return f, invalidParameter("IncludeTestOrders must be YES, NO or ONLY")
		}
	}
	return f, nil
}

// finder finds the orders at positions [offset, offset+limit) of a search
// into pg.sales and returns the search's total.
type finder func(offset, limit int, pg *orderPage) (count int)

// orderResults returns page (from 1) of the order search f at now, as the
// merchant's dialects serve it: the Pagination.Count to send and the
// page's orders, rendered in pg.
func (m *Merchant) orderResults(f orderFilter, page, limit int, now time.Time, pg *orderPage) (count int, orders []wireOrder) {
	find := finder(func(offset, limit int, pg *orderPage) int { return m.findOrders(f, offset, limit, now, pg) })
	if m.dialect.Has(dialect.FinishDateFilter) {
		find = func(offset, limit int, pg *orderPage) int { return m.findByFinish(f, offset, limit, now, pg) }
	}
	moved, changed := false, -1
	key := searchKey{f, limit}
	switch {
	case !m.dialect.Has(dialect.RefNoStatusChange):
		count = find((page-1)*limit, limit, pg)
	case m.isSettled(key):
		// The order has changed: it is in its place, with its new Status.
		count = find((page-1)*limit, limit, pg)
		changed = 1 - (page-1)*limit
	default:
		count, moved = m.findMoved(find, page, limit, pg)
		if page > 1 && (moved || len(pg.sales) < limit) {
			m.settle(key) // the pass that saw it move is over
		}
	}
	m.afterPage(f, pg, now)
	orders = m.orders(pg, now)
	if moved {
		changed = len(orders) - 1
	}
	if changed >= 0 && changed < len(orders) {
		orders[changed].Status = changedStatus(orders[changed].Status)
	}
	return m.sentCount(count, len(orders)), orders
}

// searchKey names an order search for RefNoStatusChange: its filter and
// page size.
type searchKey struct {
	f     orderFilter
	limit int
}

func (m *Merchant) isSettled(k searchKey) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settled[k]
}

func (m *Merchant) settle(k searchKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settled[k] = true
}

// sentCount is the Pagination.Count of a page of n items of a search of
// count results: under CountIsPageSize, n.
func (m *Merchant) sentCount(count, n int) int {
	if m.dialect.Has(dialect.CountIsPageSize) {
		return n
	}
	return count
}

// findByFinish is findOrders under FinishDateFilter: an order's date is
// that of its FinishDate if it is finished at now, else of its OrderDate,
// and results are ordered by that date, then as findOrders orders them.
// It generates every order of the days it covers, and the last
// maxFinishDelay of the day before the first, for every page: slower than
// findOrders, which skips to the page.
func (m *Merchant) findByFinish(f orderFilter, offset, limit int, now time.Time, pg *orderPage) (count int) {
	from, to := m.clamp(f.from, f.to, now)
	for d := from; !d.After(to); d = d.AddDays(1) {
		// An order placed on d-1 may finish on d; one placed on d, on d or
		// d+1. Either way no more than maxFinishDelay later.
		prev := m.salesPlaced(d.AddDays(-1), f, d.In(m.loc).Add(-maxFinishDelay), now)
		for _, s := range append(prev, m.salesPlaced(d, f, time.Time{}, now)...) {
			if m.filterDate(s, now) != d {
				continue
			}
			count++
			if offset > 0 {
				offset--
				continue
			}
			if len(pg.sales) < limit {
				pg.sales = append(pg.sales, s)
			}
		}
	}
	return count
}

// filterDate is the date FinishDateFilter compares: that of s's
// FinishDate at now, else of its OrderDate, in the API zone.
func (m *Merchant) filterDate(s *sale, now time.Time) civil.Date {
	if !s.finish.IsZero() && !now.Before(s.finish) {
		return civil.DateOf(s.finish.In(m.loc))
	}
	return civil.DateOf(s.placed.In(m.loc))
}

// salesPlaced returns the sales placed on d, at or after from, visible at
// now and selected by f's IncludeTestOrders, in the order findOrders lists
// them.
func (m *Merchant) salesPlaced(d civil.Date, f orderFilter, from time.Time, now time.Time) []*sale {
	if d.Before(m.since) {
		return nil
	}
	var sales []*sale
	if inserted, ok := m.insertedDay(d, now); ok {
		for _, s := range inserted {
			if !s.placed.Before(from) && f.match(m, s.date, s.index) {
				sales = append(sales, s)
			}
		}
		return sales
	}
	p := m.plan(d)
	n := p.visible(now)
	start := 0
	if from.After(p.midnight) {
		start, _ = slices.BinarySearch(p.secs, int64(from.Sub(p.midnight)/time.Second))
	}
	for i := start; i < n; i++ {
		if f.match(m, d, i) {
			sales = append(sales, m.sale(p, i))
		}
	}
	return sales
}

// findMoved is find under RefNoStatusChange, on the first pass over a
// search: when the results span two pages or more, the result at index 1
// is shown on page 1 as find has it, and on later pages is gone from its
// place and appended after the last result (whose Status the caller
// changes, when moved is true), every result after it one place earlier.
// So the same RefNo comes back on the last page with another Status, and
// the result find puts first on page 2 is missed by that pass. The total
// is find's. Once the pass is over the change has happened: later passes
// see the order in its place with its new Status, as a real search would
// once the order stops changing. With Limit 1, the moved result is on
// page 2 by find, and so shown on the last page only.
func (m *Merchant) findMoved(find finder, page, limit int, pg *orderPage) (count int, moved bool) {
	if page == 1 {
		return find(0, limit, pg), false
	}
	offset := (page - 1) * limit
	count = find(offset+1, limit, pg)
	if count <= limit || offset >= count || len(pg.sales) == limit {
		// One page of results (nothing moves), past the end, or a page
		// before the last.
		return count, false
	}
	tmp := getOrderPage()
	defer putOrderPage(tmp)
	find(1, 1, tmp)
	if len(tmp.sales) != 1 {
		return count, false
	}
	// tmp's memory goes back to the pool: copy the sale, lines and all.
	s, src := pg.next(), tmp.sales[0]
	lines := s.lines[:0]
	*s = *src
	s.lines = append(lines, src.lines...)
	pg.sales = append(pg.sales, s)
	return count, true
}

// changedStatus is the Status RefNoStatusChange shows a moved order with.
func changedStatus(status string) string {
	if status == statusComplete {
		return statusRefund
	}
	return statusComplete
}

// writeSubscriptions writes a JSON-RPC subscription search result: under
// SubscriptionsBareArray, the page's subscriptions as a bare array.
func (m *Merchant) writeSubscriptions(w http.ResponseWriter, id json.RawMessage, page, limit, count int, items []wireSubscription) {
	if m.dialect.Has(dialect.SubscriptionsBareArray) {
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, 32<<10)
		fmt.Fprintf(bw, `{"jsonrpc":"2.0","id":%s,"result":`, idOrNull(id))
		if encodeItems(bw, items) {
			bw.WriteString("}\n")
		}
		bw.Flush()
		return
	}
	writePage(w, id, page, limit, m.sentCount(count, len(items)), items)
}

// writeRESTSubscriptions writes a REST subscription search result: under
// SubscriptionsBareArray, the page's subscriptions as a bare array.
func (m *Merchant) writeRESTSubscriptions(w http.ResponseWriter, page, limit, count int, items []wireSubscription) {
	if m.dialect.Has(dialect.SubscriptionsBareArray) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(m.restStatus())
		bw := bufio.NewWriterSize(w, 32<<10)
		if encodeItems(bw, items) {
			bw.WriteString("\n")
		}
		bw.Flush()
		return
	}
	writeRESTItems(w, m.restStatus(), page, limit, m.sentCount(count, len(items)), items)
}

// restStatus is the status of a successful REST read: under REST201, 201
// Created.
func (m *Merchant) restStatus() int {
	if m.dialect.Has(dialect.REST201) {
		return http.StatusCreated
	}
	return http.StatusOK
}

// encodeItems writes items as a JSON array, encoding one at a time, and
// reports whether all were written. On failure the status line is gone; a
// truncated body is all that is left to signal it.
func encodeItems[T any](bw *bufio.Writer, items []T) bool {
	bw.WriteByte('[')
	enc := apijson.NewEncoder(bw)
	for i := range items {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(&items[i]); err != nil {
			return false
		}
	}
	bw.WriteByte(']')
	return true
}
