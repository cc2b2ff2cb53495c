package pipeline

import (
	"context"
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
