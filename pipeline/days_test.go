package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/civil"
)

func TestInOrder(t *testing.T) {
	first := civil.Date{Year: 2025, Month: 1, Day: 1}
	last := first.AddDays(29)
	for _, n := range []int{1, 4, 30} {
		t.Run(fmt.Sprint(n, " in flight"), func(t *testing.T) {
			var inFlight, peak atomic.Int32
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			delays := make([]time.Duration, 30*3)
			for i := range delays {
				delays[i] = time.Duration(rng.IntN(2000)) * time.Microsecond
			}
			fetch := func(ctx context.Context, day civil.Date, emit func(string) error) error {
				cur := inFlight.Add(1)
				defer inFlight.Add(-1)
				for peak.Load() < cur && !peak.CompareAndSwap(peak.Load(), cur) {
				}
				d := day.DaysSince(first)
				for b := range 3 {
					time.Sleep(delays[d*3+b])
					if err := emit(fmt.Sprintf("%s/%d", day, b)); err != nil {
						return err
					}
				}
				return nil
			}
			var got, doneDays []string
			consume := func(day civil.Date, v string) error { got = append(got, v); return nil }
			done := func(day civil.Date) error { doneDays = append(doneDays, day.String()); return nil }
			if err := inOrder(t.Context(), first, last, n, fetch, consume, done); err != nil {
				t.Fatal(err)
			}
			var want, wantDone []string
			for d := first; !d.After(last); d = d.AddDays(1) {
				for b := range 3 {
					want = append(want, fmt.Sprintf("%s/%d", d, b))
				}
				wantDone = append(wantDone, d.String())
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(doneDays) != fmt.Sprint(wantDone) {
				t.Fatalf("out of order:\n got %v\nwant %v\ndone %v", got, want, doneDays)
			}
			if p := int(peak.Load()); p > n {
				t.Errorf("%d days in flight, cap %d", p, n)
			}
		})
	}
}

func TestInOrderStopsAtFirstError(t *testing.T) {
	first := civil.Date{Year: 2025, Month: 1, Day: 1}
	boom := errors.New("page 2 of day 3 failed")
	before := runtime.NumGoroutine()
	var consumed []string
	fetch := func(ctx context.Context, day civil.Date, emit func(int) error) error {
		for b := range 100 {
			if day.DaysSince(first) == 3 && b == 2 {
				return boom
			}
			if err := emit(b); err != nil {
				return err
			}
		}
		return nil
	}
	consume := func(day civil.Date, v int) error {
		consumed = append(consumed, fmt.Sprint(day, v))
		return nil
	}
	err := inOrder(t.Context(), first, first.AddDays(59), 4, fetch, consume, func(civil.Date) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	// Days 0-2 whole, then the two pages of day 3 before its error.
	if len(consumed) != 302 || consumed[301] != "2025-01-04 1" {
		t.Errorf("consumed %d batches, last %q", len(consumed), consumed[len(consumed)-1])
	}
	// The consumer failing stops producers too.
	stop := errors.New("disk full")
	err = inOrder(t.Context(), first, first.AddDays(59), 4, fetch,
		func(day civil.Date, v int) error {
			if day.DaysSince(first) == 1 {
				return stop
			}
			return nil
		}, func(civil.Date) error { return nil })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want %v", err, stop)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running, %d before", n, before)
	}
}

// TestWindowKeys checks the window-wide key set: a key read again on its
// date is read again and not an error, on another date fails with both
// dates, a rejected copy (no date) never conflicts, keys that are not
// canonical numbers are told apart, and empty keys are never read before.
func TestWindowKeys(t *testing.T) {
	d0 := civil.Date{Year: 2026, Month: 9, Day: 30}
	type read struct {
		key  string
		date int // days after d0; -1 for none
	}
	for _, tt := range []struct {
		name  string
		reads []read
		again []bool // per read, until the error
		want  *DuplicateKeyError
	}{
		{"distinct", []read{{"1", 0}, {"2", 0}, {"3", 1}, {"007", 1}, {"07", 1}, {"7", 1}, {"a", 2}, {"", 2}, {"", 2}},
			[]bool{false, false, false, false, false, false, false, false, false}, nil},
		{"same date again", []read{{"1", 0}, {"1", 0}, {"A-1", 3}, {"A-1", 3}}, []bool{false, true, false, true}, nil},
		{"rejected copies", []read{{"5", -1}, {"5", 2}, {"5", -1}, {"6", 1}, {"6", -1}}, []bool{false, true, true, false, true}, nil},
		{"numeric on two dates", []read{{"1", 0}, {"2", 0}, {"3", 1}, {"2", 2}}, []bool{false, false, false},
			&DuplicateKeyError{Stream: "orders", Key: "2", First: d0, Second: d0.AddDays(2)}},
		{"string on two dates", []read{{"A-1", 0}, {"A-1", 1}}, []bool{false},
			&DuplicateKeyError{Stream: "orders", Key: "A-1", First: d0, Second: d0.AddDays(1)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindowKeys(d0.AddDays(-1))
			var err error
			var again []bool
			for _, r := range tt.reads {
				var date civil.Date
				if r.date >= 0 {
					date = d0.AddDays(r.date)
				}
				var a bool
				if a, err = w.see("orders", r.key, date); err != nil {
					break
				}
				again = append(again, a)
			}
			if !slices.Equal(again, tt.again) {
				t.Errorf("read again %v, want %v", again, tt.again)
			}
			var got *DuplicateKeyError
			errors.As(err, &got)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("error %v", err)
			case tt.want != nil && (got == nil || *got != *tt.want):
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}
