package pipeline

import (
	"context"
	"fmt"
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

// windowKeys records the key of every record read from the API across a
// run's window, and the API day it came on, so that a key returned on two
// days fails the run (F5) instead of becoming two rows.
//
// The decision is to fail, not to keep the newer version: an order has one
// OrderDate, which the API's day filter compares against, so a RefNo on
// two API days means the API contradicted itself, and nothing in the Order
// object says which version is newer (there is no modification time;
// FinishDate is empty until an order completes). Keeping one would also
// mean holding back or rewriting rows already written to partitions. A
// failed run commits nothing, so the warehouse keeps its last good data
// and the error names the key and both days for someone to look at.
//
// Memory: decimal keys (RefNos) are held in a map[uint64]int32, measured
// at about 38 bytes a key with Go 1.26, so about 38 MB per million orders
// in the window; other keys in a map[string]int32, about 60 bytes plus the
// key's length.
type windowKeys struct {
	first civil.Date // day 0
	nums  map[uint64]int32
	strs  map[string]int32
}

func newWindowKeys(first civil.Date) *windowKeys {
	return &windowKeys{first: first, nums: map[uint64]int32{}, strs: map[string]int32{}}
}

// add records keys as read on day; empty keys are not keys. It fails with
// a *DuplicateKeyError if one of them was read on another day.
func (w *windowKeys) add(stream string, day civil.Date, keys []string) error {
	d := int32(day.DaysSince(w.first))
	for _, k := range keys {
		if k == "" {
			continue
		}
		var prev int32
		var dup bool
		if n, err := strconv.ParseUint(k, 10, 64); err == nil && strconv.FormatUint(n, 10) == k {
			prev, dup = w.nums[n]
			if !dup {
				w.nums[n] = d
			}
		} else {
			prev, dup = w.strs[k]
			if !dup {
				// A copy: k may point into a whole page body.
				w.strs[strings.Clone(k)] = d
			}
		}
		if dup && prev != d {
			return &DuplicateKeyError{Stream: stream, Key: k, First: w.first.AddDays(int(prev)), Second: day}
		}
	}
	return nil
}

// DuplicateKeyError fails a run whose API returned the same record on two
// API days.
type DuplicateKeyError struct {
	Stream        string
	Key           string
	First, Second civil.Date // the API days it was returned on
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("stream %s: the API returned %s on API day %s and again on %s; "+
		"an order has one date, so the run stops rather than store it twice or guess which version is right",
		e.Stream, e.Key, e.First, e.Second)
}
