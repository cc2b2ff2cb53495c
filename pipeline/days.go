package pipeline

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"cloud.google.com/go/civil"
)

// batchesPerDay bounds the batches a day's fetch may run ahead of the
// consumer, so memory holds at most (n days × this) batches.
const batchesPerDay = 2

// inOrder calls fetch for every day of [first, last] with up to n days in
// flight, and hands what each day emits to consume in day order, calling
// done(day) after a day's last batch. The first error stops everything and is
// returned; goroutines are gone when inOrder returns.
func inOrder[T any](ctx context.Context, first, last civil.Date, n int,
	fetch func(ctx context.Context, day civil.Date, emit func(T) error) error,
	consume func(day civil.Date, v T) error,
	done func(day civil.Date) error,
) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type slot struct {
		day civil.Date
		ch  chan T
		err error // set before ch is closed
	}
	var slots []*slot
	for d := first; !d.After(last); d = d.AddDays(1) {
		slots = append(slots, &slot{day: d, ch: make(chan T, batchesPerDay)})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(n, 1))
	wg.Go(func() {
		for i, s := range slots {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, s := range slots[i:] {
					s.err = context.Cause(ctx)
					close(s.ch)
				}
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				s.err = fetch(ctx, s.day, func(v T) error {
					select {
					case s.ch <- v:
						return nil
					case <-ctx.Done():
						return context.Cause(ctx)
					}
				})
				close(s.ch)
			})
		}
	})
	err := func() error {
		for _, s := range slots {
			for v := range s.ch {
				if err := consume(s.day, v); err != nil {
					return err
				}
			}
			if s.err != nil {
				return s.err
			}
			if err := done(s.day); err != nil {
				return err
			}
		}
		return nil
	}()
	cancel(err) // producers blocked in emit give up
	wg.Wait()
	return err
}

// windowKeys records the key of every order read in a run's window, and
// the reporting date of its row, so that an order read again (the day
// searches overlap, and a search may return an order twice) is written
// once, and an order that comes back with another date fails the run.
//
// The decision is to fail, not to keep either copy: an order has one
// OrderDate, so a RefNo on two dates means the API contradicted itself,
// and nothing in the Order object says which version is right (there is
// no modification time; FinishDate is empty until an order completes).
// Keeping one would also mean rewriting rows already written to
// partitions. A failed run commits nothing, so the warehouse keeps its
// last good data and the error names the key and both dates.
//
// Memory: decimal keys (RefNos) are held in a numKeys, measured at about
// 17 bytes a key (BenchmarkWindowKeys), so about 17 MB per million orders
// in the window; other keys in a map[string]int32, about 60 bytes plus the
// key's length.
type windowKeys struct {
	first civil.Date // day 0
	nums  numKeys
	strs  map[string]int32
}

// undated is the date of a record that has none: it was rejected.
const undated = math.MinInt32

func newWindowKeys(first civil.Date) *windowKeys {
	return &windowKeys{first: first, strs: map[string]int32{}}
}

// see records key as read with a row of date (zero for a record that has
// no row), and reports whether it was read before; empty keys are not
// keys, and never read before. It fails with a *DuplicateKeyError if key
// was read before with another date.
func (w *windowKeys) see(stream, key string, date civil.Date) (again bool, err error) {
	if key == "" {
		return false, nil
	}
	d := int32(undated)
	if !date.IsZero() {
		d = int32(date.DaysSince(w.first))
	}
	var prev int32
	if n, err := strconv.ParseUint(key, 10, 64); err == nil && strconv.FormatUint(n, 10) == key {
		prev, again = w.nums.get(n)
		if !again {
			w.nums.put(n, d)
		}
	} else {
		prev, again = w.strs[key]
		if !again {
			// A copy: key may point into a whole page body.
			w.strs[strings.Clone(key)] = d
		}
	}
	if again && prev != d && prev != undated && d != undated {
		return true, &DuplicateKeyError{Stream: stream, Key: key, First: w.first.AddDays(int(prev)), Second: date}
	}
	return again, nil
}

// DuplicateKeyError fails a run whose API returned the same order with two
// dates.
type DuplicateKeyError struct {
	Stream        string
	Key           string
	First, Second civil.Date // the reporting dates of its two copies
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("stream %s: the API returned %s dated %s and again dated %s; "+
		"an order has one date, so the run stops rather than store it twice or guess which version is right",
		e.Stream, e.Key, e.First, e.Second)
}
