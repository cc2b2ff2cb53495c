package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

// orders reads the orders of the reporting window [from, to].
//
// The API filters by date in its own time zone, which may differ from the
// reporting zone by up to a day either way, so the API days read start at
// from-1 and reach past to. How the filter reads its dates is not
// documented: EndDate may be exclusive, and the date compared may be
// FinishDate rather than OrderDate. When a probe (endDateCovers, recorded
// in s.OneDaySearches) showed that StartDate = EndDate = D finds D's
// orders, each API day D from from-1 to to+2 is searched as D..D. Else
// each day from from-1 to to+1 is searched as D..D+1: an exclusive EndDate
// still returns D, and an order that a shifted filter puts on the
// neighbouring day is still read. With an EndDate that covers its own day,
// whatever date the filter compares, both read the same orders: the union
// of the days from-1..to+2, the first once each, the second twice. Each
// order is placed on the reporting date of its own OrderDate, and a RefNo
// read again (the overlap, or a page re-read) is dropped: the first
// reading is kept.
//
// The days are read several at a time and written in day order, so a
// partition is finished as soon as no later search can add to it.
func (r *Run) orders(ctx context.Context, conv *transform.Converter, parts *partitions, rej *rejects, cb *transform.Chargebacks, from, to civil.Date, s *Summary) error {
	span, last := 1, to.AddDays(1) // each search reads API days D and D+1
	if s.OneDaySearches {
		span, last = 0, to.AddDays(2)
	}
	var rounded atomic.Int64
	fetch := func(ctx context.Context, day civil.Date, emit func(orderBatch) error) error {
		c := *conv // each day converts on its own goroutine
		c.Rounded = 0
		defer func() { rounded.Add(c.Rounded) }()
		w := extract.Window{From: day, To: day.AddDays(span)}
		return r.Source.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
			return emit(r.convertPage(&c, w, p, from, to))
		})
	}
	keys := newWindowKeys(from.AddDays(-2))
	write := func(day civil.Date, b orderBatch) error { return r.writeBatch(ctx, parts, rej, cb, keys, b, s) }
	// The search of API day D reads API days from D on, whose orders fall
	// on reporting dates from D-1 on; later searches start at D+1, so
	// dates before D are final once D is written.
	days, _ := r.Observer.(DayObserver)
	done, total := 0, last.DaysSince(from)+2 // the API days from-1..last
	if days != nil {
		days.Days(r.Account.Name, extract.StreamOrders, done, total)
	}
	finished := func(day civil.Date) error {
		if done++; days != nil {
			days.Days(r.Account.Name, extract.StreamOrders, done, total)
		}
		return parts.closeBefore(day, schemas.Orders().Name, schemas.OrderItems().Name)
	}
	// The clients read a search's pages ahead, up to the account's
	// concurrency, so a second day in flight is enough to overlap one
	// day's last pages with the next day's first; more days would only
	// hold more pages waiting for their turn (measured: 4 days in flight
	// were 4% slower than 2, with 6 MB more RSS, at 8,000 orders a day).
	err := inOrder(ctx, from.AddDays(-1), last, min(r.Account.Concurrency, daysInFlight), fetch, write, finished)
	conv.Rounded += rounded.Load()
	return err
}

// daysInFlight is how many API days' searches may run at once.
const daysInFlight = 2

// orderBatch is one page of orders, converted.
type orderBatch struct {
	recs     []orderRecord // every record of the page, in page order
	orders   []schemas.Order
	items    []schemas.OrderItem
	rejected []rejected // records that failed validation
}

// orderRecord is what the writer needs to know of a record of a page.
type orderRecord struct {
	key    string // RefNo
	fields fieldMask
	kind   recordKind
	date   civil.Date // reporting date; zero for a rejected record
	items  int        // the row's items, in orderBatch.items for a row
}

type recordKind uint8

const (
	recordRow      recordKind = iota // a row in orderBatch.orders
	recordOutside                    // dated outside the window
	recordRejected                   // in orderBatch.rejected
)

// convertPage converts a page of the search w of the window [from, to].
func (r *Run) convertPage(c *transform.Converter, w extract.Window, p extract.Page[extract.Order], from, to civil.Date) orderBatch {
	b := orderBatch{recs: make([]orderRecord, 0, len(p.Items)), orders: make([]schemas.Order, 0, len(p.Items))}
	var row schemas.Order
	var rowItems []schemas.OrderItem
	for i := range p.Items {
		raw := &p.Items[i]
		rec := orderRecord{key: raw.RefNo, fields: orderFieldMask(raw)}
		var err error
		if rowItems, err = c.Order(raw, &row, rowItems); err != nil {
			b.rejected = append(b.rejected, rejectedRecord(
				&RecordError{Account: r.Account.Name, Stream: extract.StreamOrders, Window: w, Page: p.Number, Position: i + 1, Key: raw.RefNo, Err: err}, raw))
			rec.kind = recordRejected
			b.recs = append(b.recs, rec)
			continue
		}
		rec.date = row.OrderDate
		rec.items = len(rowItems)
		if row.OrderDate.Before(from) || row.OrderDate.After(to) {
			rec.kind = recordOutside
			b.recs = append(b.recs, rec)
			continue
		}
		b.recs = append(b.recs, rec)
		b.orders = append(b.orders, row)
		b.items = append(b.items, rowItems...)
	}
	return b
}

// writeBatch writes the records of b not read before: their rows, their
// rejects, and their counts.
func (r *Run) writeBatch(ctx context.Context, parts *partitions, rej *rejects, cb *transform.Chargebacks, keys *windowKeys, b orderBatch, s *Summary) error {
	orders, items := schemas.Orders(), schemas.OrderItems()
	var counts orderCounts
	var bad []rejected
	oi, ii, ri := 0, 0, 0
	for _, rec := range b.recs {
		again, err := keys.see(extract.StreamOrders, rec.key, rec.date)
		if err != nil {
			return err
		}
		switch rec.kind {
		case recordRejected:
			if !again {
				bad = append(bad, b.rejected[ri])
			}
			ri++
		case recordOutside:
			if !again {
				s.Skipped++
			}
		case recordRow:
			o, its := &b.orders[oi], b.items[ii:ii+rec.items]
			oi, ii = oi+1, ii+rec.items
			if again {
				break
			}
			if cb != nil {
				cb.AddOrder(o)
			}
			if err := parts.write(ctx, orders, o.OrderDate, o); err != nil {
				return err
			}
			for k := range its {
				if err := parts.write(ctx, items, its[k].OrderDate, &its[k]); err != nil {
					return err
				}
			}
		}
		if !again {
			counts.add(rec.fields)
			parts.read[orders.Name]++
			parts.read[items.Name] += int64(rec.items)
		}
	}
	if r.Observer != nil {
		defer r.Observer.Page(r.Account.Name, extract.StreamOrders, int(counts.records))
	}
	s.Coverage.addOrders(counts)
	return rej.add(ctx, parts, extract.StreamOrders, int(counts.records), bad)
}

// probeDays is how many API days, back from the window's last, the EndDate
// probe tries before it settles for overlapping searches.
const probeDays = 3

// errProbed stops a probe search after its first page.
var errProbed = errors.New("probed")

// endDateCovers reports whether a search with StartDate = EndDate = D finds
// orders, on the first of the window's last probeDays API days that has any:
// then EndDate covers its own day. An exclusive EndDate finds nothing so
// for every day; days without orders prove nothing, and when every probed
// day is empty the answer is no, and the searches overlap as before. Each
// probe reads one page.
func (r *Run) endDateCovers(ctx context.Context, log *slog.Logger, from, to civil.Date) (bool, error) {
	probed := 0
	for d := to; d.After(to.AddDays(-probeDays)) && !d.Before(from.AddDays(-1)); d = d.AddDays(-1) {
		probed++
		w := extract.Window{From: d, To: d}
		found := 0
		err := r.Source.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
			found = len(p.Items)
			return errProbed
		})
		if err != nil && !errors.Is(err, errProbed) {
			return false, fmt.Errorf("probing the order search's EndDate: %w", err)
		}
		if found > 0 {
			log.Info("order searches read one API day each: StartDate = EndDate finds that day's orders",
				"probe", w.String(), "orders", found)
			return true, nil
		}
	}
	log.Info("order searches reach into the next API day: StartDate = EndDate found no orders",
		"days_probed", probed)
	return false, nil
}
