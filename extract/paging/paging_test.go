package paging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/paging"
)

type item struct{ Key string }

// source is an offset-paged search over keys that change between pages:
// change runs after page n has been served.
type source struct {
	keys   []string
	size   int
	change func(s *source, page, fetch int)
	calls  int
	// understate is how many fewer items the count says there are.
	understate int
	// pageCount makes the count that of the page's items on pages from
	// pageCount on; 0 for none.
	pageCount int
}

func (s *source) fetch(_ context.Context, page int) ([]item, int, error) {
	s.calls++
	var items []item
	for i := (page - 1) * s.size; i < len(s.keys) && len(items) < s.size; i++ {
		items = append(items, item{s.keys[i]})
	}
	count := len(s.keys) - s.understate
	if s.pageCount > 0 && page >= s.pageCount {
		count = len(items)
	}
	if s.change != nil {
		s.change(s, page, s.calls)
	}
	return items, count, nil
}

func keys(n int) []string {
	k := make([]string, n)
	for i := range k {
		k[i] = strconv.Itoa(1000 + i)
	}
	return k
}

func TestPaginate(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		change    func(s *source, page, fetch int)
		maxPasses int
		wantFetch int
		wantPages int  // yielded; -1 for any
		unsettled bool // want an UnsettledError
		wantKeys  []string
	}{
		{"unchanged", 95, nil, 0, 10, 10, false, nil},
		// A full last page is not the end: the empty 11th page is.
		{"exact pages", 100, nil, 0, 11, 10, false, nil},
		{"empty", 0, nil, 0, 1, 1, false, nil},
		{"appended at the end", 95, func(s *source, page, fetch int) {
			if fetch <= 3 {
				s.keys = append(s.keys, "9"+strconv.Itoa(fetch))
			}
		}, 0, 10, 10, false, nil},
		{"inserted before the offset", 95, func(s *source, page, fetch int) {
			if fetch == 3 || fetch == 6 {
				s.keys = slices.Insert(s.keys, 5, "new"+strconv.Itoa(fetch))
			}
		}, 0, 10 + 10, -1, false, []string{"new3", "new6"}},
		{"removed before the offset", 95, func(s *source, page, fetch int) {
			if fetch == 4 {
				s.keys = slices.Delete(s.keys, 2, 3)
			}
		}, 0, 10 + 10, -1, false, nil},
		{"inserted while re-reading", 95, func(s *source, page, fetch int) {
			if fetch == 3 || fetch == 12 {
				s.keys = slices.Insert(s.keys, 0, "new"+strconv.Itoa(fetch))
			}
		}, 0, 10 + 10 + 10, -1, false, []string{"new3", "new12"}},
		{"never settles", 95, func(s *source, page, fetch int) {
			s.keys = slices.Insert(s.keys, 0, "new"+strconv.Itoa(fetch))
		}, 2, -1, -1, true, nil},
		{"keys that look alike", 0, func(s *source, page, fetch int) {}, 0, 1, 1, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &source{keys: keys(tt.n), size: 10, change: tt.change}
			if tt.name == "keys that look alike" {
				src.keys = []string{"7", "007", "07", "a", "", "18446744073709551615", "18446744073709551616"}
			}
			var got []string
			pages := 0
			err := paging.Paginate(t.Context(), paging.Search[item]{
				PageSize:  src.size,
				MaxPasses: tt.maxPasses,
				Key:       func(i *item) string { return i.Key },
				Fetch:     src.fetch,
			}, func(p extract.Page[item]) error {
				pages++
				if p.Number != pages {
					t.Errorf("page %d numbered %d", pages, p.Number)
				}
				for _, it := range p.Items {
					got = append(got, it.Key)
				}
				return nil
			})
			if tt.unsettled {
				var uerr *paging.UnsettledError
				if !errors.As(err, &uerr) || uerr.Passes != tt.maxPasses {
					t.Fatalf("error %v, want an UnsettledError after %d passes", err, tt.maxPasses)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, k := range got {
				if seen[k] {
					t.Errorf("%q yielded twice", k)
				}
				seen[k] = true
			}
			for _, k := range src.keys {
				if !seen[k] {
					t.Errorf("%q not yielded", k)
				}
			}
			for _, k := range tt.wantKeys {
				if !seen[k] {
					t.Errorf("inserted %q not yielded", k)
				}
			}
			if tt.wantFetch >= 0 && src.calls != tt.wantFetch {
				t.Errorf("%d fetches, want %d", src.calls, tt.wantFetch)
			}
			if tt.wantPages >= 0 && pages != tt.wantPages {
				t.Errorf("%d pages yielded, want %d", pages, tt.wantPages)
			}
		})
	}
}

func TestPaginateErrors(t *testing.T) {
	stop := errors.New("stop")
	src := &source{keys: keys(30), size: 10}
	err := paging.Paginate(t.Context(), paging.Search[item]{
		PageSize: 10, Key: func(i *item) string { return i.Key }, Fetch: src.fetch,
	}, func(p extract.Page[item]) error {
		if p.Number == 2 {
			return stop
		}
		return nil
	})
	if err != stop || src.calls != 2 {
		t.Errorf("error %v after %d fetches, want the yield's after 2", err, src.calls)
	}

	boom := errors.New("boom")
	err = paging.Paginate(t.Context(), paging.Search[item]{
		PageSize: 10, Key: func(i *item) string { return i.Key },
		Fetch: func(context.Context, int) ([]item, int, error) { return nil, 0, boom },
	}, func(extract.Page[item]) error { return nil })
	if err != boom {
		t.Errorf("error %v, want the fetch's", err)
	}
}

// TestPaginateWrongCount is F6: a Count that understates the results (200
// of 250) must not stop the read at 200 and store 200 silently; paging
// reads on to the short page and fails with both numbers. An overstated
// Count fails too.
func TestPaginateWrongCount(t *testing.T) {
	for _, tt := range []struct {
		name       string
		understate int
		count      int
	}{
		{"understated", 50, 200},
		{"overstated", -50, 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &source{keys: keys(250), size: 20, understate: tt.understate}
			read := 0
			err := paging.Paginate(t.Context(), paging.Search[item]{
				PageSize: src.size,
				Key:      func(i *item) string { return i.Key },
				Fetch:    src.fetch,
			}, func(p extract.Page[item]) error { read += len(p.Items); return nil })
			var uerr *paging.UnsettledError
			if !errors.As(err, &uerr) {
				t.Fatalf("error %v, want an UnsettledError", err)
			}
			if uerr.Distinct != 250 || uerr.Count != tt.count || read != 250 {
				t.Errorf("distinct %d, count %d, yielded %d; want 250, %d, 250", uerr.Distinct, uerr.Count, read, tt.count)
			}
			want := fmt.Sprintf("read 250 distinct items, the API counts %d", tt.count)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

// TestPaginatePageCount: a Count that is the number of items on every page
// of a pass (count-is-page-size) is taken for a page count: logged once at
// Info, and the search is not read again for it. A Count that is the
// page's on some pages only still fails the search.
func TestPaginatePageCount(t *testing.T) {
	for _, tt := range []struct {
		name      string
		n         int
		pageCount int // the page from which Count is the page's
		wantFetch int
		wantLogs  int
		unsettled bool
	}{
		{"count is the page size", 95, 1, 10, 1, false},
		{"exact pages", 100, 1, 11, 1, false},
		{"one page", 7, 1, 1, 0, false},
		{"empty", 0, 1, 1, 0, false},
		{"a total on pages 1 and 2", 95, 3, 30, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &source{keys: keys(tt.n), size: 10, pageCount: tt.pageCount}
			var logs bytes.Buffer
			var got []string
			err := paging.Paginate(t.Context(), paging.Search[item]{
				PageSize: src.size,
				Key:      func(i *item) string { return i.Key },
				Fetch:    src.fetch,
				Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
			}, func(p extract.Page[item]) error {
				for _, it := range p.Items {
					got = append(got, it.Key)
				}
				return nil
			})
			if uerr := (*paging.UnsettledError)(nil); tt.unsettled != errors.As(err, &uerr) || !tt.unsettled && err != nil {
				t.Fatalf("error %v, want an UnsettledError: %v", err, tt.unsettled)
			}
			if !slices.Equal(got, src.keys) {
				t.Errorf("yielded %d keys, want the %d in order", len(got), len(src.keys))
			}
			if src.calls != tt.wantFetch {
				t.Errorf("%d fetches, want %d", src.calls, tt.wantFetch)
			}
			if n := strings.Count(logs.String(), "Count is the number of items on each page"); n != tt.wantLogs ||
				tt.wantLogs > 0 && !strings.Contains(logs.String(), "level=INFO") {
				t.Errorf("logged %d page-count records, want %d at Info: %s", n, tt.wantLogs, logs.String())
			}
		})
	}
}
