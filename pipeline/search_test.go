package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
)

// searchLog wraps a source and records every order search it is asked
// for and how many times each RefNo came back.
type searchLog struct {
	extract.Source
	mu      sync.Mutex
	windows []extract.Window
	reads   map[string]int // by RefNo, over every search but the first
}

func (s *searchLog) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	s.mu.Lock()
	probe := len(s.windows) == 0
	s.windows = append(s.windows, w)
	s.mu.Unlock()
	return s.Source.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		if !probe {
			s.mu.Lock()
			for i := range p.Items {
				s.reads[p.Items[i].RefNo]++
			}
			s.mu.Unlock()
		}
		return yield(p)
	})
}

// TestOneDaySearchesReadEachOrderOnce: where StartDate = EndDate finds a
// day's orders, the run probes one day (the window's last) and then
// searches each API day alone, from the day before the window to two days
// after it, so that every order is read once; where EndDate is exclusive,
// the probe finds nothing on the last three days and every search reaches
// into the next day, as before. (TestDialectsGiveTheDefaultWarehouse shows
// that both read the same orders.)
func TestOneDaySearchesReadEachOrderOnce(t *testing.T) {
	// The window is widened to the first of the month.
	from, to := civil.Date{Year: businessDate.Year, Month: businessDate.Month, Day: 1}, businessDate
	days := func(first, last civil.Date, span int) []extract.Window {
		var ws []extract.Window
		for d := first; !d.After(last); d = d.AddDays(1) {
			ws = append(ws, extract.Window{From: d, To: d.AddDays(span)})
		}
		return ws
	}
	for _, tt := range []struct {
		dialect string
		oneDay  bool
		probes  []extract.Window
		days    []extract.Window // the day searches, in day order
	}{
		{"", true, days(to, to, 0), days(from.AddDays(-1), to.AddDays(2), 0)},
		{dialect.FinishDateFilter, true, days(to, to, 0), days(from.AddDays(-1), to.AddDays(2), 0)},
		{dialect.EndDateExclusive, false, []extract.Window{{From: to, To: to}, {From: to.AddDays(-1), To: to.AddDays(-1)}, {From: to.AddDays(-2), To: to.AddDays(-2)}},
			days(from.AddDays(-1), to.AddDays(1), 1)},
	} {
		t.Run(dialect.Of(tt.dialect).String(), func(t *testing.T) {
			ctx := t.Context()
			acct, job := testAccount(t), testJob(3)
			job.Streams = []string{"orders"}
			acct.Sandbox.OrdersPerDay, acct.Sandbox.Dialect = 150, dialect.Of(tt.dialect)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			src, closeSrc, err := pipeline.OpenSource(ctx, acct, businessDate, job.Timezone, log)
			if err != nil {
				t.Fatal(err)
			}
			defer closeSrc()
			dest, err := local.Open(filepath.Join(t.TempDir(), "warehouse"), acct.MerchantCode, "run")
			if err != nil {
				t.Fatal(err)
			}
			rec := &searchLog{Source: src, reads: map[string]int{}}
			r := &pipeline.Run{ID: "run", Job: job, Account: acct, Date: businessDate, Source: rec, Destination: dest, Warehouse: dest, Logger: log}
			s, err := r.Execute(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Window != [2]civil.Date{from, to} {
				t.Fatalf("window %v, want %s..%s", s.Window, from, to)
			}
			if s.OneDaySearches != tt.oneDay {
				t.Errorf("one-day searches %v, want %v", s.OneDaySearches, tt.oneDay)
			}
			probes, searches := rec.windows[:len(tt.probes)], slices.Clone(rec.windows[len(tt.probes):])
			if !slices.Equal(probes, tt.probes) {
				t.Errorf("probes %v, want %v", probes, tt.probes)
			}
			slices.SortFunc(searches, func(a, b extract.Window) int { return a.From.Compare(b.From) })
			if !slices.Equal(searches, tt.days) {
				t.Errorf("day searches %v, want %v", searches, tt.days)
			}
			if n := count(s, "orders"); n < 3*150 {
				t.Fatalf("%d orders written: the case tests nothing", n)
			}
			for ref, n := range rec.reads {
				if n != 1 {
					t.Errorf("order %s read %d times, want once", ref, n)
					break
				}
			}
		})
	}
}
