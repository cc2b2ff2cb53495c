package paging_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/paging"
)

// aheadSource is a search of n keys, safe for concurrent use, that records
// the pages asked for and the most requests in flight at once.
type aheadSource struct {
	keys      []string
	size      int
	pageCount bool // Count is the page's number of items, not the total
	failPage  int  // a page that fails; 0 for none

	mu        sync.Mutex
	asked     []int
	inFlight  int
	maxFlight int
}

var errPage = errors.New("page failed")

func (s *aheadSource) fetch(ctx context.Context, page int) ([]item, int, error) {
	s.mu.Lock()
	s.asked = append(s.asked, page)
	s.inFlight++
	s.maxFlight = max(s.maxFlight, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	// Long enough for the pages read ahead to overlap.
	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	if page == s.failPage {
		return nil, 0, errPage
	}
	var items []item
	for i := (page - 1) * s.size; i < len(s.keys) && len(items) < s.size; i++ {
		items = append(items, item{s.keys[i]})
	}
	count := len(s.keys)
	if s.pageCount {
		count = len(items)
	}
	return items, count, nil
}

// TestReadAhead: a search read with pages ahead yields the same pages, in
// the same order, as one read a page at a time; page 1 is read alone;
// then up to ReadAhead+1 requests are in flight; a Count that is a total bounds
// the pages asked for (its pages and the empty one after a full last
// page), one that is not costs at most ReadAhead pages past the end; and a
// failed page fails the search.
func TestReadAhead(t *testing.T) {
	tests := []struct {
		name      string
		n, ahead  int
		pageCount bool
		failPage  int
		wantAsked int // distinct pages asked for
		wantMax   int // most requests in flight
		wantErr   error
	}{
		{"one page", 7, 3, false, 0, 1, 1, nil},
		{"sequential", 95, 0, false, 0, 10, 1, nil},
		{"ahead, Count a total", 95, 3, false, 0, 10, 4, nil},
		{"ahead, full last page", 100, 3, false, 0, 11, 4, nil},
		{"ahead, Count the page size", 95, 3, true, 0, 13, 4, nil},
		{"a failed page", 95, 3, false, 5, -1, 4, errPage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &aheadSource{keys: keys(tt.n), size: 10, pageCount: tt.pageCount, failPage: tt.failPage}
			var got [][]string
			err := paging.Paginate(t.Context(), paging.Search[item]{PageSize: 10, ReadAhead: tt.ahead,
				Key: func(it *item) string { return it.Key }, Fetch: src.fetch},
				func(p extract.Page[item]) error {
					var ks []string
					for _, it := range p.Items {
						ks = append(ks, it.Key)
					}
					got = append(got, ks)
					return nil
				})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if len(got) != tt.failPage-1 {
					t.Errorf("%d pages yielded before page %d failed", len(got), tt.failPage)
				}
				return
			}
			want := keys(tt.n)
			if flat := slices.Concat(got...); !slices.Equal(flat, want) {
				t.Errorf("keys %v, want %v", flat, want)
			}
			if len(got) != (tt.n+9)/10 {
				t.Errorf("%d pages yielded, want %d", len(got), (tt.n+9)/10)
			}
			if src.asked[0] != 1 || slices.Contains(src.asked[1:], 1) {
				t.Errorf("pages asked for %v: page 1 not alone first", src.asked)
			}
			if n := len(slices.Compact(slices.Sorted(slices.Values(src.asked)))); n != tt.wantAsked || n != len(src.asked) {
				t.Errorf("pages asked for %v, want %d distinct, each once", src.asked, tt.wantAsked)
			}
			if src.maxFlight != tt.wantMax {
				t.Errorf("at most %d requests in flight, want %d", src.maxFlight, tt.wantMax)
			}
		})
	}
}
