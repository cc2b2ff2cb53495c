// Package extracttest is the conformance suite of extract.Source: every
// implementation runs it against a sandbox merchant over loopback HTTP, the
// way every rclone backend runs fstests. It checks what the pipeline relies
// on whatever the API: pages in order with the API's total, every order of
// a window exactly once and equal to the merchant's, subscriptions (or
// extract.ErrUnsupported), the same rows under every kind of fault the
// sandbox injects, a persistent failure reported with account, stream, page
// and cause once the retry budget is spent, refused credentials reported as
// extract.ErrAuthentication, the secret in no error and no log record, and
// prompt cancellation.
//
// An implementation's test builds its source from a Setup:
//
//	func TestConformance(t *testing.T) {
//		extracttest.Run(t, extracttest.Options{Subscriptions: true}, func(t *testing.T, s *extracttest.Setup) extract.Source {
//			c, err := rest.New(rest.Config{
//				Account: s.Account, Endpoint: s.RESTURL(), MerchantCode: s.MerchantCode, SecretKey: s.SecretKey,
//				PageSize: s.PageSize, MaxPasses: s.MaxPasses, Transport: s.Transport, Now: s.Now, Logger: s.Logger,
//			})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return c
//		})
//	}
//
// The source must use every field of the Setup that applies to it: the
// suite relies on Transport for fast retries, and on PageSize and
// MaxPasses for paging.
package extracttest

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// The merchant every test reads.
const (
	Account      = "conformance"
	MerchantCode = "CONFORM1"
	SecretKey    = "conformance-s3cr3t-do-not-print"
	LegacyUser   = "conformance-api"
)

// MaxAttempts is the retry budget of Setup.Transport.
const MaxAttempts = 10

// Since is the merchant's first trading day; Now, the merchant's clock, is
// 20 days later at 13:00 UTC, so that today is partly over.
var (
	Since = civil.Date{Year: 2025, Month: time.March, Day: 1}
	Now   = Since.AddDays(20).In(time.UTC).Add(13 * time.Hour)
)

// ordersPerDay keeps the merchant small, so that the suite is fast.
const ordersPerDay = 30

// Options describe what the API under test carries.
type Options struct {
	// Project returns what the API carries of an order, in a canonical
	// form; nil means the API carries every field as the sandbox renders
	// it. The suite applies it both to the orders the source yields and
	// to the merchant's, and compares the results, so it must be
	// idempotent. The legacy API's is legacy.Project.
	Project func(extract.Order) extract.Order
	// Subscriptions says the source reads subscriptions. If it does not,
	// Subscriptions must fail with an error wrapping
	// extract.ErrUnsupported without yielding.
	Subscriptions bool
	// Sessions says the API has login sessions, which the sandbox's
	// expire fault ends early.
	Sessions bool
}

// NewSource returns the source under test, built from s.
type NewSource func(t *testing.T, s *Setup) extract.Source

// A Setup is a sandbox merchant served on loopback, and how a source is to
// read it.
type Setup struct {
	// Merchant is the simulated account, its clock stopped at Now.
	Merchant *sandbox.Merchant
	// URL is the root of the server that serves the merchant's three
	// APIs, such as "http://127.0.0.1:41234"; see JSONRPCURL, RESTURL and
	// LegacyURL.
	URL string

	// Account names the account in errors and logs.
	Account string
	// MerchantCode and SecretKey are the API 6.0 credentials;
	// LegacyUser and SecretKey those of the legacy API. A test of refused
	// credentials changes SecretKey.
	MerchantCode, SecretKey, LegacyUser string
	// Now is the merchant's clock, which API 6.0 signatures must use.
	Now func() time.Time
	// PageSize is the page size of every search.
	PageSize int
	// MaxPasses bounds how many times a search that changed while it was
	// paged is read; zero means paging.DefaultMaxPasses.
	MaxPasses int
	// Transport retries quickly, without a rate limit: its Policy's
	// Sleep records the waits and, unless a test says otherwise, returns
	// at once.
	Transport transport.Config
	// Logger receives every record at Debug level; the suite checks that
	// the secret is in none of them.
	Logger *slog.Logger

	logs     *SyncBuffer
	mu       sync.Mutex
	delays   []time.Duration
	requests atomic.Int64
}

// JSONRPCURL returns the JSON-RPC endpoint.
func (s *Setup) JSONRPCURL() string { return s.URL + sandbox.Path }

// RESTURL returns the REST endpoint.
func (s *Setup) RESTURL() string { return s.URL + sandbox.RESTPath }

// LegacyURL returns the legacy API endpoint.
func (s *Setup) LegacyURL() string { return s.URL + sandbox.LegacyPath }

// Delays returns the waits the retry policy has slept.
func (s *Setup) Delays() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delays)
}

// Requests returns the number of requests the server has received.
func (s *Setup) Requests() int { return int(s.requests.Load()) }

// Logs returns the log records so far, as text.
func (s *Setup) Logs() string { return s.logs.String() }

// sleep records d and returns at once, unless ctx is done.
func (s *Setup) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return context.Cause(ctx)
}

// NewSetup starts a merchant with faults and returns the setup of a source
// that reads it. At the end of the test it stops the server and checks
// that the secret key appears in no log record.
func NewSetup(t testing.TB, faults sandbox.Faults) *Setup {
	t.Helper()
	s := &Setup{
		Account:      Account,
		MerchantCode: MerchantCode,
		SecretKey:    SecretKey,
		LegacyUser:   LegacyUser,
		Now:          func() time.Time { return Now },
		PageSize:     20,
		logs:         &SyncBuffer{},
	}
	m, err := sandbox.New(sandbox.Config{
		MerchantCode: MerchantCode,
		SecretKey:    SecretKey,
		LegacyUser:   LegacyUser,
		Seed:         7,
		OrdersPerDay: ordersPerDay,
		Since:        Since,
		Now:          s.Now,
		Faults:       faults,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Merchant = m
	next := m.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		// Read the body first: the server notices a client that hangs
		// up, and cancels the request's context, only once the body is
		// read, and a slow fault waits before the merchant reads it.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	}))
	s.URL = srv.URL
	s.Logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.Transport = transport.Config{
		Rate:    rate.Inf,
		Timeout: 10 * time.Second,
		Policy: transport.Policy{
			MaxAttempts: MaxAttempts,
			BaseDelay:   time.Millisecond,
			MaxDelay:    4 * time.Millisecond,
			Rand:        transport.NewRand(1),
			Sleep:       s.sleep,
		},
	}
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		noSecret(t, "the logs", s.logs.String())
	})
	return s
}

// secrets are the forms of the secret key that must not be shown: as is,
// and in a Basic authorization header.
var secrets = []string{
	SecretKey,
	base64.StdEncoding.EncodeToString([]byte(LegacyUser + ":" + SecretKey)),
	wrongSecret,
	base64.StdEncoding.EncodeToString([]byte(LegacyUser + ":" + wrongSecret)),
}

// wrongSecret is the secret key of the test of refused credentials.
const wrongSecret = "wrong-" + SecretKey

// noSecret fails t if text shows a secret.
func noSecret(t testing.TB, what, text string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret appears in %s:\n%s", what, text)
			return
		}
	}
}
