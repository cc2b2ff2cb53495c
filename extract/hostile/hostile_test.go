package hostile_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/hostile"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

var day = civil.Date{Year: 2026, Month: 10, Day: 31}

// fast is a transport that retries at once, so that tests of failures
// spend no time waiting.
func fast() transport.Config {
	return transport.Config{Rate: rate.Inf, Policy: transport.Policy{MaxAttempts: 3,
		Sleep: func(ctx context.Context, _ time.Duration) error { return context.Cause(ctx) }}}
}

// open returns a client of api reading s.
func open(t *testing.T, api string, s *hostile.Server, tc transport.Config, pageSize int, log *slog.Logger) extract.Source {
	t.Helper()
	cfg := jsonrpc.Config{Account: "hostile", MerchantCode: "HOSTILE", SecretKey: "k", PageSize: pageSize, Transport: tc, Logger: log}
	var (
		src extract.Source
		err error
	)
	switch api {
	case "jsonrpc":
		cfg.Endpoint = s.URL()
		src, err = jsonrpc.New(cfg)
	case "rest":
		cfg.Endpoint = s.RESTURL()
		src, err = rest.New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// read reads the orders of w and returns their RefNos.
func read(ctx context.Context, src extract.Source, w extract.Window) ([]string, error) {
	var refs []string
	err := src.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		for _, o := range p.Items {
			refs = append(refs, o.RefNo)
		}
		return nil
	})
	return refs, err
}

var apis = []string{"jsonrpc", "rest"}

// TestEmptyOrNullResultFailsThePage is F3: a result that is null or
// missing, or whose Items are null or missing, fails the page like a
// malformed body, never reads as a day without orders (which would clear
// the day's committed rows).
func TestEmptyOrNullResultFailsThePage(t *testing.T) {
	for _, b := range []hostile.Behaviour{hostile.NullResult, hostile.MissingResult, hostile.NullItems, hostile.MissingItems} {
		for _, api := range apis {
			t.Run(string(b)+"/"+api, func(t *testing.T) {
				s := hostile.Start(hostile.Config{Behaviour: b})
				defer s.Close()
				refs, err := read(t.Context(), open(t, api, s, fast(), 0, nil), extract.Window{From: day, To: day})
				if err == nil {
					t.Fatalf("no error; read %d orders", len(refs))
				}
				for _, want := range []string{"account hostile", "stream orders", "page 1"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if len(refs) != 0 {
					t.Errorf("yielded %v", refs)
				}
			})
		}
	}
}

// TestHonestServer checks the hostile server's honest answers, so that the
// failures the other tests see are the behaviours'.
func TestHonestServer(t *testing.T) {
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			s := hostile.Start(hostile.Config{PerDay: 7})
			defer s.Close()
			refs, err := read(t.Context(), open(t, api, s, fast(), 3, nil), extract.Window{From: day.AddDays(-1), To: day})
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 14 || refs[0] != "20261030001" || refs[13] != "20261031007" {
				t.Errorf("read %v", refs)
			}
		})
	}
}

// TestUnderstatedCountFailsTheRun is F6 on loopback: a Count of 20 for a
// day of 25 orders fails the search with both numbers, in both APIs,
// instead of yielding 20 orders.
func TestUnderstatedCountFailsTheRun(t *testing.T) {
	for _, api := range apis {
		t.Run(api, func(t *testing.T) {
			s := hostile.Start(hostile.Config{Behaviour: hostile.UnderstatedCount, PerDay: 25})
			defer s.Close()
			_, err := read(t.Context(), open(t, api, s, fast(), 10, nil), extract.Window{From: day, To: day})
			if err == nil || !strings.Contains(err.Error(), "read 25 distinct items, the API counts 20") {
				t.Fatalf("error %v, want one with 25 read and 20 counted", err)
			}
		})
	}
}
