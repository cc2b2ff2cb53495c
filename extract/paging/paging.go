// Package paging reads offset-paged searches whose results may change
// while they are read, yielding every item once and losing none. The API
// clients page their searches with it; package transport keeps the HTTP
// concerns (retries, rate limit, timeouts).
package paging

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ledgerline/ledgerline/extract"
)

// DefaultMaxPasses is how many times, at most, Paginate reads a search.
const DefaultMaxPasses = 3

// Search describes an offset-paged search for Paginate.
type Search[T any] struct {
	// PageSize is the number of items a full page holds: the limit the
	// search asks for.
	PageSize int
	// MaxPasses bounds how many times the search is read; zero means
	// DefaultMaxPasses.
	MaxPasses int
	// Key returns the key that identifies an item, such as an order's
	// RefNo. Keys that are decimal integers are kept in 8 bytes.
	Key func(*T) string
	// Fetch reads page n (from 1) of the search and returns its items
	// and the total number of results the API reports. Paginate may
	// reorder and overwrite the items before its next call to Fetch.
	Fetch func(ctx context.Context, n int) (items []T, count int, err error)
	// Logger receives an Info record when the search is read again; nil
	// discards it.
	Logger *slog.Logger
	// ReadAhead is how many pages after the one being read are fetched
	// meanwhile, so that a search has up to ReadAhead+1 requests in
	// flight; zero reads one page at a time. Fetch must then be safe for
	// concurrent use, each call returning items of its own. A pass that
	// ends costs up to ReadAhead requests past its last page, cancelled
	// or discarded.
	ReadAhead int
}

// UnsettledError says that the items a search read disagree with the
// total the API reported, pass after pass: the search kept changing while
// it was read, or the API's Count is wrong (understated or overstated).
type UnsettledError struct {
	Passes   int // passes read
	Page     int // the last page read
	Distinct int // the distinct items the last pass read
	Count    int // the total the API reported last
}

func (e *UnsettledError) Error() string {
	return fmt.Sprintf("search results disagree with the API's Count: the last of %d passes read %d distinct items, the API counts %d "+
		"(results that kept changing while paged, or a wrong Count)", e.Passes, e.Distinct, e.Count)
}

// Paginate reads an offset-paged search whose results may change while it
// is read, so that every item is yielded once and none is lost.
//
// It reads pages from 1 until a short (or empty) page, whatever the total
// the API reports, so that an understated total loses nothing; a pass
// whose last page is full costs one more request, for the empty page. Items whose key was yielded before are
// dropped: an item inserted before the current offset shifts a page's last
// item onto the next page. At the end of a pass, the number of distinct
// items the pass read is checked against the total: if they disagree, or
// the total fell during the pass (an item removed before the offset
// shifts one past it unseen), the search is read again, yielding only the
// items not yielded before, up to p.MaxPasses passes; then Paginate
// returns an *UnsettledError. A Count that equals the page's number of
// items on every page of a pass, below the distinct items read, is taken
// for a page count, as some accounts send it (and as a search without
// Count reports it): it is logged once at Info and the pass ends the
// search, unchecked.
//
// yield receives the pages with new items, numbered from 1 in the order
// yielded (the API's page numbers when nothing changed); on a search with
// no results, one empty page. Errors from Fetch and yield are returned as
// they are.
func Paginate[T any](ctx context.Context, p Search[T], yield func(extract.Page[T]) error) error {
	maxPasses := p.MaxPasses
	if maxPasses <= 0 {
		maxPasses = DefaultMaxPasses
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	seen := keySet{}
	yielded := 0
	for pass := 1; ; pass++ {
		distinct, count, page, fell := 0, 0, 0, false
		pageCounts := true // every page's count was its number of items
		pages := newReader(ctx, p)
		defer pages.stop() // on an error return; a pass that ends stops it below
		for page = 1; ; page++ {
			items, c, err := pages.read(page)
			if err != nil {
				return err
			}
			if page > 1 && c < count {
				fell = true
			}
			count = c
			if c != len(items) {
				pageCounts = false
			}
			fresh := 0
			for i := range items {
				newInSearch, newInPass := seen.mark(p.Key(&items[i]), int32(pass))
				if newInPass {
					distinct++
				}
				if newInSearch {
					items[fresh], items[i] = items[i], items[fresh]
					fresh++
				}
			}
			if fresh > 0 || yielded == 0 && len(items) == 0 && page == 1 {
				yielded++
				if err := yield(extract.Page[T]{Number: yielded, Count: count, Items: items[:fresh]}); err != nil {
					return err
				}
			}
			// Only a short page ends a pass: a Count that understates
			// the results must not end the read early and lose the rest
			// silently; the check below fails it instead.
			if len(items) == 0 || len(items) < p.PageSize {
				break
			}
		}
		pages.stop()
		if distinct == count && !fell {
			return nil
		}
		if pageCounts && count < distinct {
			// Some accounts send the page's number of items as Count:
			// it says nothing of the total, and reading again would not
			// change it.
			log.InfoContext(ctx, "the API's Count is the number of items on each page, not the total: not checking the search against it",
				"pass", pass, "pages", page, "distinct", distinct)
			return nil
		}
		if pass == maxPasses {
			return &UnsettledError{Passes: pass, Page: page, Distinct: distinct, Count: count}
		}
		log.InfoContext(ctx, "search results changed while paged, reading them again",
			"pass", pass, "distinct", distinct, "count", count, "count_fell", fell)
	}
}

// reader reads the pages of one pass in order, fetching up to ahead of
// them before they are asked for. Page 1 is read alone: a search of one
// page (most days of most merchants) then costs one request, and its Count,
// when it is a total, bounds the pages read ahead.
type reader[T any] struct {
	ctx     context.Context
	cancel  context.CancelFunc
	fetch   func(ctx context.Context, n int) ([]T, int, error)
	ahead   int
	size    int               // the search's page size
	last    int               // the last page Count says is worth starting; 0: unknown
	next    int               // the next page to start
	pending []chan fetched[T] // the pages started and not read, in order
	wg      sync.WaitGroup
}

type fetched[T any] struct {
	items []T
	count int
	err   error
}

func newReader[T any](ctx context.Context, p Search[T]) *reader[T] {
	ctx, cancel := context.WithCancel(ctx)
	return &reader[T]{ctx: ctx, cancel: cancel, fetch: p.Fetch, ahead: max(p.ReadAhead, 0), size: p.PageSize, next: 2}
}

// read returns page n, the page after the last one read, having started
// the fetches of the pages up to n+ahead. Without read-ahead, and for page
// 1, it calls fetch on the caller's goroutine.
func (r *reader[T]) read(n int) ([]T, int, error) {
	if r.ahead == 0 || n == 1 {
		items, count, err := r.fetch(r.ctx, n)
		if n == 1 && err == nil && count > len(items) && r.size > 0 {
			// A total: its pages, and the empty one after a full last
			// page. An understated total is read past page by page.
			r.last = count/r.size + 1
		}
		return items, count, err
	}
	last := n + r.ahead
	if r.last > 0 {
		last = min(last, max(r.last, n))
	}
	for ; r.next <= last; r.next++ {
		ch, page := make(chan fetched[T], 1), r.next
		r.pending = append(r.pending, ch)
		r.wg.Go(func() {
			items, count, err := r.fetch(r.ctx, page)
			ch <- fetched[T]{items, count, err}
		})
	}
	f := <-r.pending[0]
	r.pending = r.pending[1:]
	return f.items, f.count, f.err
}

// stop cancels the fetches still running and waits for them; their pages
// are dropped. It may be called more than once.
func (r *reader[T]) stop() {
	r.cancel()
	r.wg.Wait()
	r.pending = nil
}

// keySet records the keys read in a search and in its current pass.
//
// Keys that are decimal numbers, such as RefNos, are kept as runs of
// consecutive numbers: a search that lists them in order (as the APIs list
// orders) costs a few runs, however many items it has, and one run per key
// at worst. Other keys are kept in a map.
type keySet struct {
	all, cur runs  // numeric keys read in the search, and in pass
	pass     int32 // the pass cur is for
	strs     map[string]int32
}

// mark records key as read in pass, and reports whether it is new to the
// search and new to the pass.
func (s *keySet) mark(key string, pass int32) (newInSearch, newInPass bool) {
	if n, ok := decimalKey(key); ok {
		newInSearch = s.all.add(n)
		if pass == 1 {
			// Every key read so far was read in this pass.
			return newInSearch, newInSearch
		}
		if s.pass != pass {
			s.cur.reset()
			s.pass = pass
		}
		return newInSearch, s.cur.add(n)
	}
	if s.strs == nil {
		s.strs = make(map[string]int32)
	}
	last, ok := s.strs[key]
	if !ok {
		// A decoded key may share its page's whole body: keep a copy.
		key = strings.Clone(key)
	}
	s.strs[key] = pass
	return !ok, last != pass
}

// runs is a set of numbers: sorted, disjoint, non-adjacent runs of
// consecutive numbers.
type runs struct {
	lo, hi []uint64 // run i holds lo[i] to hi[i]
}

func (r *runs) reset() { r.lo, r.hi = r.lo[:0], r.hi[:0] }

// add adds n to the set and reports whether it was not in it.
func (r *runs) add(n uint64) bool {
	k := len(r.lo)
	if k > 0 && n > r.hi[k-1] {
		// Past the last run, the common case.
		if n == r.hi[k-1]+1 {
			r.hi[k-1] = n
			return true
		}
		r.lo, r.hi = append(r.lo, n), append(r.hi, n)
		return true
	}
	// i is the first run that ends at or after n.
	i, _ := slices.BinarySearch(r.hi, n)
	if i < k && r.lo[i] <= n {
		return false
	}
	joinsPrev := i > 0 && r.hi[i-1]+1 == n
	joinsNext := i < k && r.lo[i] == n+1
	switch {
	case joinsPrev && joinsNext:
		r.hi[i-1] = r.hi[i]
		r.lo, r.hi = slices.Delete(r.lo, i, i+1), slices.Delete(r.hi, i, i+1)
	case joinsPrev:
		r.hi[i-1] = n
	case joinsNext:
		r.lo[i] = n
	default:
		r.lo, r.hi = slices.Insert(r.lo, i, n), slices.Insert(r.hi, i, n)
	}
	return true
}

// decimalKey returns key as a number if it is the canonical decimal form
// of one, so that distinct keys never share a number.
func decimalKey(key string) (uint64, bool) {
	if len(key) == 0 || len(key) > 19 || key[0] == '0' && len(key) > 1 {
		return 0, false
	}
	n, err := strconv.ParseUint(key, 10, 64)
	return n, err == nil
}
