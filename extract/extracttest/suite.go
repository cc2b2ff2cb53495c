package extracttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/paging"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// Run runs the conformance suite against the sources newSource builds.
// Every subtest builds its own merchant, server and source.
func Run(t *testing.T, opts Options, newSource NewSource) {
	r := &runner{opts: opts, newSource: newSource}
	t.Run("Paging", r.paging)
	t.Run("Window", r.window)
	t.Run("Subscriptions", r.subscriptions)
	t.Run("Faults", r.faults)
	t.Run("PersistentServerError", r.persistentServerError)
	t.Run("Unsettled", r.unsettled)
	t.Run("BadCredentials", r.badCredentials)
	t.Run("Cancel", r.cancel)
	t.Run("YieldError", r.yieldError)
}

type runner struct {
	opts      Options
	newSource NewSource
}

// source returns a new setup with faults, edited by edit, and the source
// built from it.
func (r *runner) source(t *testing.T, faults sandbox.Faults, edit func(*Setup)) (*Setup, extract.Source) {
	t.Helper()
	s := NewSetup(t, faults)
	if edit != nil {
		edit(s)
	}
	return s, r.newSource(t, s)
}

func (r *runner) project(orders []extract.Order) []extract.Order {
	if r.opts.Project == nil {
		return orders
	}
	out := make([]extract.Order, len(orders))
	for i, o := range orders {
		out[i] = r.opts.Project(o)
	}
	return out
}

// paging checks the pages of one day and of none.
func (r *runner) paging(t *testing.T) {
	day := Since.AddDays(5)
	t.Run("last page partial", func(t *testing.T) {
		s := NewSetup(t, sandbox.Faults{})
		want := s.Merchant.OrdersOn(day)
		n := len(want)
		size := 7
		for n%size == 0 {
			size++
		}
		if n <= size {
			t.Fatalf("only %d orders on %s", n, day)
		}
		s.PageSize = size
		src := r.newSource(t, s)
		got, pages, err := CollectOrders(t.Context(), src, extract.Window{From: day, To: day})
		if err != nil {
			t.Fatal(err)
		}
		checkPages(t, pages, size, n)
		EqualOrders(t, r.project(got), r.project(want))
	})
	t.Run("one full page", func(t *testing.T) {
		s := NewSetup(t, sandbox.Faults{})
		want := s.Merchant.OrdersOn(day)
		s.PageSize = len(want)
		before := s.Requests()
		got, pages, err := CollectOrders(t.Context(), r.newSource(t, s), extract.Window{From: day, To: day})
		if err != nil {
			t.Fatal(err)
		}
		checkPages(t, pages, len(want), len(want))
		EqualOrders(t, r.project(got), r.project(want))
		// One search request, however many more calls the API needs
		// (a login, the legacy API's details).
		if n := s.Requests() - before; n > len(want)+2 {
			t.Errorf("%d requests", n)
		}
	})
	t.Run("no orders", func(t *testing.T) {
		_, src := r.source(t, sandbox.Faults{}, nil)
		got, pages, err := CollectOrders(t.Context(), src, extract.Window{From: Since.AddDays(-10), To: Since.AddDays(-1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 || len(pages) > 1 || len(pages) == 1 && pages[0] != (PageInfo{Number: 1}) {
			t.Errorf("%d orders in pages %+v, want none in at most one empty page", len(got), pages)
		}
	})
}

// window checks that windows of several days are read whole, each order
// once, in the order the API lists them.
func (r *runner) window(t *testing.T) {
	today := Since.AddDays(20)
	for _, tt := range []struct {
		name string
		w    extract.Window
		size int
	}{
		{"a week", extract.Window{From: Since.AddDays(3), To: Since.AddDays(9)}, 50},
		{"up to today, partly over", extract.Window{From: today.AddDays(-1), To: today}, 20},
		{"from before the first day", extract.Window{From: Since.AddDays(-3), To: Since.AddDays(1)}, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, src := r.source(t, sandbox.Faults{}, func(s *Setup) { s.PageSize = tt.size })
			got, pages, err := CollectOrders(t.Context(), src, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			want := OrdersOn(s.Merchant, tt.w)
			if len(want) == 0 {
				t.Fatal("no orders in the window")
			}
			noDuplicates(t, got)
			EqualOrders(t, r.project(got), r.project(want))
			checkPages(t, pages, tt.size, len(want))
		})
	}
}

// subscriptions checks that every subscription is read once, in order, or
// that the source says it cannot read them.
func (r *runner) subscriptions(t *testing.T) {
	s, src := r.source(t, sandbox.Faults{}, func(s *Setup) { s.PageSize = 30 })
	got, pages, err := CollectSubscriptions(t.Context(), src)
	if !r.opts.Subscriptions {
		if !errors.Is(err, extract.ErrUnsupported) || len(pages) > 0 {
			t.Errorf("error %v after %d pages; want ErrUnsupported and no page", err, len(pages))
		}
		if err != nil {
			noSecret(t, "the error", err.Error())
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Collect(s.Merchant.Subscriptions())
	if len(want) < 100 {
		t.Fatalf("only %d subscriptions", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %d subscriptions, want the merchant's %d in order", len(got), len(want))
	}
	checkPages(t, pages, 30, len(want))
}

// faultCase is one run under faults.
type faultCase struct {
	name   string
	faults sandbox.Faults
	// edit adjusts the setup, such as its timeout.
	edit func(*Setup)
	// check checks the faults happened, and how they were retried.
	check func(t *testing.T, s *Setup, stats sandbox.FaultStats)
}

func (r *runner) faultCases() []faultCase {
	return []faultCase{
		{"429", sandbox.Faults{TooManyRequests: 0.15, RetryAfter: time.Second, Seed: 1}, nil, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.TooManyRequests == 0 {
				t.Error("no 429")
			}
			waitedRetryAfter(t, s, st.TooManyRequests, time.Second)
		}},
		{"429 beyond the cap", sandbox.Faults{TooManyRequests: 0.15, RetryAfter: 3 * time.Second, Seed: 2}, func(s *Setup) {
			s.Transport.Policy.MaxRetryAfter = 2 * time.Second
		}, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.TooManyRequests == 0 {
				t.Error("no 429")
			}
			waitedRetryAfter(t, s, st.TooManyRequests, 2*time.Second)
		}},
		{"500", sandbox.Faults{ServerError: 0.15, Seed: 3}, nil, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.ServerErrors == 0 {
				t.Error("no 500")
			}
		}},
		{"slow past the timeout", sandbox.Faults{Slow: 0.1, SlowDelay: 300 * time.Millisecond, Seed: 4}, func(s *Setup) {
			s.Transport.Timeout = 100 * time.Millisecond
		}, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.Slow == 0 {
				t.Error("no slow response")
			}
		}},
		{"truncate", sandbox.Faults{Truncate: 0.15, Seed: 5}, nil, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.Truncated == 0 {
				t.Error("no truncated body")
			}
		}},
		{"malformed", sandbox.Faults{Malformed: 0.15, Seed: 6}, nil, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.Malformed == 0 {
				t.Error("no malformed body")
			}
		}},
		{"expire", sandbox.Faults{Expire: 0.15, Seed: 7}, nil, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if r.opts.Sessions && st.Expired == 0 {
				t.Error("no session expired")
			}
		}},
		{"insert", sandbox.Faults{Insert: 5, Seed: 8}, nil, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.Inserted != 5 {
				t.Errorf("%d orders inserted, want 5", st.Inserted)
			}
		}},
		{"all", sandbox.Faults{TooManyRequests: 0.04, ServerError: 0.04, Slow: 0.03, SlowDelay: 300 * time.Millisecond,
			Truncate: 0.04, Malformed: 0.04, Expire: 0.04, Insert: 3, Seed: 9}, func(s *Setup) {
			s.Transport.Timeout = 100 * time.Millisecond
		}, func(t *testing.T, s *Setup, st sandbox.FaultStats) {
			if st.TooManyRequests+st.ServerErrors == 0 || st.Truncated+st.Malformed == 0 || st.Inserted != 3 {
				t.Errorf("faults %+v", st)
			}
		}},
	}
}

// waitedRetryAfter fails t unless n waits were of retryAfter.
func waitedRetryAfter(t *testing.T, s *Setup, n int, retryAfter time.Duration) {
	t.Helper()
	waits := 0
	for _, d := range s.Delays() {
		if d == retryAfter {
			waits++
		}
	}
	if waits != n {
		t.Errorf("%d waits of %v for %d responses 429; waits %v", waits, retryAfter, n, s.Delays())
	}
}

// faults checks that an extraction under faults reads the same rows as
// one without: the merchant's orders after the extraction (which include
// those the faults placed while it paged), and its subscriptions.
func (r *runner) faults(t *testing.T) {
	w := extract.Window{From: Since.AddDays(4), To: Since.AddDays(8)}
	for _, fc := range r.faultCases() {
		t.Run(fc.name, func(t *testing.T) {
			if fc.name == "expire" && !r.opts.Sessions {
				t.Skip("the API has no sessions")
			}
			s, src := r.source(t, fc.faults, func(s *Setup) {
				s.PageSize = 10
				if fc.edit != nil {
					fc.edit(s)
				}
			})
			got, _, err := CollectOrders(t.Context(), src, w)
			if err != nil {
				t.Fatal(err)
			}
			var subs []extract.Subscription
			if r.opts.Subscriptions {
				if subs, _, err = CollectSubscriptions(t.Context(), src); err != nil {
					t.Fatal(err)
				}
			}
			stats := s.Merchant.FaultStats()
			t.Logf("%d orders, %d subscriptions, %d requests; faults %+v", len(got), len(subs), s.Requests(), stats)
			fc.check(t, s, stats)

			s.Merchant.SetFaults(sandbox.Faults{})
			noDuplicates(t, got)
			EqualOrders(t, r.project(ByRefNo(got)), r.project(ByRefNo(OrdersOn(s.Merchant, w))))
			if r.opts.Subscriptions {
				if want := slices.Collect(s.Merchant.Subscriptions()); !reflect.DeepEqual(subs, want) {
					t.Errorf("read %d subscriptions, want the merchant's %d in order", len(subs), len(want))
				}
			}
		})
	}
}

// persistentServerError checks that a fault that outlasts the retry
// budget fails the extraction with an error naming account, stream, page
// and cause.
func (r *runner) persistentServerError(t *testing.T) {
	const attempts = 4
	streams := []string{extract.StreamOrders}
	if r.opts.Subscriptions {
		streams = append(streams, extract.StreamSubscriptions)
	}
	for _, stream := range streams {
		t.Run(stream, func(t *testing.T) {
			s, src := r.source(t, sandbox.Faults{}, func(s *Setup) {
				s.PageSize = 10
				s.Transport.Policy.MaxAttempts = attempts
			})
			// From page 2 on, every request fails.
			pages := 0
			failFromPage2 := func(number int) error {
				pages++
				if number == 1 {
					if err := s.Merchant.SetFaults(sandbox.Faults{ServerError: 1}); err != nil {
						return err
					}
				}
				return nil
			}
			var err error
			if stream == extract.StreamOrders {
				err = src.Orders(t.Context(), extract.Window{From: Since.AddDays(2), To: Since.AddDays(4)}, func(p extract.Page[extract.Order]) error {
					return failFromPage2(p.Number)
				})
			} else {
				err = src.Subscriptions(t.Context(), extract.SubscriptionFilter{}, func(p extract.Page[extract.Subscription]) error {
					return failFromPage2(p.Number)
				})
			}
			if err == nil {
				t.Fatal("no error")
			}
			noSecret(t, "the error", err.Error())
			if pages != 1 {
				t.Errorf("%d pages yielded, want 1", pages)
			}
			reqErr, ok := errors.AsType[*extract.RequestError](err)
			if !ok || reqErr.Account != Account || reqErr.Stream != stream || reqErr.Page != 2 || reqErr.Method == "" {
				t.Errorf("RequestError %+v, want one for account %s, stream %s, page 2", reqErr, Account, stream)
			}
			if terr, ok := errors.AsType[*transport.Error](err); !ok || terr.Attempts != attempts {
				t.Errorf("transport.Error %+v, want one after %d attempts", terr, attempts)
			}
			if serr, ok := errors.AsType[*transport.StatusError](err); !ok || serr.StatusCode != 500 {
				t.Errorf("StatusError %+v, want a 500", serr)
			}
			msg := err.Error()
			for _, want := range []string{"account " + Account + ", ", "stream " + stream + ", ", ", page 2: ",
				fmt.Sprintf("giving up after %d attempts: HTTP 500 Internal Server Error", attempts)} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if n := s.Merchant.FaultStats().ServerErrors; n != attempts {
				t.Errorf("%d requests failed, want %d", n, attempts)
			}
		})
	}
}

// unsettled checks that a search that keeps changing while it is paged,
// more often than MaxPasses allows for, fails with an error naming
// account, stream and page, wrapping a *paging.UnsettledError.
func (r *runner) unsettled(t *testing.T) {
	_, src := r.source(t, sandbox.Faults{Insert: 3, Seed: 1}, func(s *Setup) {
		s.PageSize = 10
		s.MaxPasses = 1
	})
	_, _, err := CollectOrders(t.Context(), src, extract.Window{From: Since.AddDays(4), To: Since.AddDays(8)})
	if err == nil {
		t.Fatal("no error")
	}
	reqErr, ok := errors.AsType[*extract.RequestError](err)
	if !ok || reqErr.Account != Account || reqErr.Stream != extract.StreamOrders || reqErr.Page == 0 {
		t.Errorf("RequestError %+v, want one for account %s, stream orders and a page", reqErr, Account)
	}
	if uerr, ok := errors.AsType[*paging.UnsettledError](err); !ok || uerr.Passes != 1 {
		t.Errorf("error %v, want an UnsettledError after 1 pass", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "account "+Account+", stream orders, ") || !strings.Contains(msg, "kept changing") {
		t.Errorf("error %q", msg)
	}
}

// badCredentials checks that refused credentials are reported as
// extract.ErrAuthentication, at once, without showing the secret.
func (r *runner) badCredentials(t *testing.T) {
	s, src := r.source(t, sandbox.Faults{}, func(s *Setup) { s.SecretKey = wrongSecret })
	check := func(stream string, err error) {
		t.Helper()
		if !errors.Is(err, extract.ErrAuthentication) {
			t.Fatalf("%s: error %v, want ErrAuthentication", stream, err)
		}
		if reqErr, ok := errors.AsType[*extract.RequestError](err); !ok || reqErr.Account != Account {
			t.Errorf("%s: RequestError %+v, want one naming account %s", stream, reqErr, Account)
		}
		if !strings.HasPrefix(err.Error(), "account "+Account+", ") {
			t.Errorf("%s: error %q does not name the account first", stream, err)
		}
		noSecret(t, "the error", err.Error())
	}
	before := s.Requests()
	_, pages, err := CollectOrders(t.Context(), src, extract.Window{From: Since, To: Since.AddDays(1)})
	check(extract.StreamOrders, err)
	if len(pages) != 0 {
		t.Errorf("%d pages yielded", len(pages))
	}
	if n := s.Requests() - before; n != 1 {
		t.Errorf("%d requests, want 1: refused credentials are not retried", n)
	}
	if r.opts.Subscriptions {
		_, _, err := CollectSubscriptions(t.Context(), src)
		check(extract.StreamSubscriptions, err)
	}
}

// cancel checks that an extraction stops promptly when its context is
// canceled: while it waits to retry, while a request is in flight, and
// between pages.
func (r *runner) cancel(t *testing.T) {
	const after, within = 100 * time.Millisecond, 2 * time.Second
	run := func(t *testing.T, faults sandbox.Faults, edit func(*Setup)) {
		_, src := r.source(t, faults, edit)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(after, cancel)
		start := time.Now()
		_, _, err := CollectOrders(ctx, src, extract.Window{From: Since, To: Since.AddDays(2)})
		if d := time.Since(start); d > within {
			t.Errorf("returned %v after the start, canceled after %v", d, after)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if _, ok := errors.AsType[*extract.RequestError](err); !ok {
			t.Errorf("error %v is not a RequestError", err)
		}
		if err != nil {
			noSecret(t, "the error", err.Error())
		}
	}
	t.Run("waiting to retry", func(t *testing.T) {
		run(t, sandbox.Faults{TooManyRequests: 1, RetryAfter: 30 * time.Second}, func(s *Setup) {
			s.Transport.Policy.Sleep = nil // a real wait
		})
	})
	t.Run("request in flight", func(t *testing.T) {
		run(t, sandbox.Faults{Slow: 1, SlowDelay: 30 * time.Second}, func(s *Setup) {
			s.Transport.Timeout = time.Minute
		})
	})
	t.Run("between pages", func(t *testing.T) {
		_, src := r.source(t, sandbox.Faults{}, func(s *Setup) { s.PageSize = 10 })
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pages := 0
		err := src.Orders(ctx, extract.Window{From: Since, To: Since.AddDays(2)}, func(p extract.Page[extract.Order]) error {
			pages++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || pages != 1 {
			t.Errorf("error %v after %d pages, want context.Canceled after 1", err, pages)
		}
		if reqErr, ok := errors.AsType[*extract.RequestError](err); !ok || reqErr.Page != 2 || reqErr.Stream != extract.StreamOrders {
			t.Errorf("RequestError %+v, want one for orders page 2", reqErr)
		}
	})
}

// yieldError checks that an error from yield stops the extraction at
// once, with no further request, and is returned.
func (r *runner) yieldError(t *testing.T) {
	s, src := r.source(t, sandbox.Faults{}, func(s *Setup) { s.PageSize = 10 })
	stop := errors.New("stop")
	pages, requests := 0, 0
	err := src.Orders(t.Context(), extract.Window{From: Since, To: Since.AddDays(2)}, func(p extract.Page[extract.Order]) error {
		pages++
		if p.Number == 2 {
			requests = s.Requests()
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || pages != 2 {
		t.Errorf("error %v after %d pages, want the error yield returned, after 2", err, pages)
	}
	if n := s.Requests(); n != requests {
		t.Errorf("%d requests after yield failed", n-requests)
	}
	if r.opts.Subscriptions {
		pages = 0
		err := src.Subscriptions(t.Context(), extract.SubscriptionFilter{}, func(p extract.Page[extract.Subscription]) error {
			pages++
			return stop
		})
		if !errors.Is(err, stop) || pages != 1 {
			t.Errorf("subscriptions: error %v after %d pages, want the error yield returned, after 1", err, pages)
		}
	}
}
