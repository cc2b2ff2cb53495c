package preflight_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"github.com/ledgerline/ledgerline/preflight"
	"golang.org/x/time/rate"
)

// summer is the sandbox's clock at the start of a check: in July, when
// Europe/Bucharest is an hour ahead of the fixed Etc/GMT-2.
var summer = time.Date(2026, time.July, 15, 10, 0, 0, 0, time.UTC)

// serverDate stamps each response's Date header from the sandbox's
// simulated clock: net/http stamps it from the real one, which is a year
// away from the sandbox's.
type serverDate struct {
	next http.RoundTripper
	now  func() time.Time
}

func (s serverDate) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if err == nil {
		resp.Header.Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	return resp, err
}

// check runs preflight against a sandbox of dialect d whose clock starts
// at summer; the checker's clock is skew ahead of it and signs with secret.
func check(t *testing.T, d dialect.Set, skew time.Duration, secret string) *preflight.Report {
	t.Helper()
	start := time.Now()
	now := func() time.Time { return summer.Add(time.Since(start)) }
	gmt2, err := time.LoadLocation("Etc/GMT-2")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sandbox.New(sandbox.Config{MerchantCode: "LLTEST", SecretKey: "test-secret", Seed: 7, OrdersPerDay: 300,
		Since: civil.Date{Year: 2026, Month: time.July, Day: 1}, Location: gmt2, Now: now, Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	srv, err := sandbox.Serve(ctx, m, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rep, err := preflight.Run(ctx, preflight.Config{Account: "acct", Endpoint: srv.RESTURL(), MerchantCode: "LLTEST",
		SecretKey: secret, Zone: gmt2, Now: func() time.Time { return now().Add(skew) },
		Transport: transport.Config{Rate: rate.Inf, Base: serverDate{transport.DefaultBase(), now},
			Policy: transport.Policy{MaxAttempts: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var allChecks = []string{preflight.CheckCredentials, preflight.CheckClock, preflight.CheckEndDate, preflight.CheckDateFilter,
	preflight.CheckTimezone, preflight.CheckCount, preflight.CheckChargebacks, preflight.CheckSubscriptions,
	preflight.CheckStatus, preflight.CheckRateLimit}

// TestDialects runs the check against the default sandbox, where every
// finding is OK, and against each dialect, where exactly that dialect's
// finding is not OK and names it.
func TestDialects(t *testing.T) {
	for _, tc := range []struct {
		dialect string
		check   string // the finding that is not OK
		level   preflight.Level
		detail  string // in the finding's detail
	}{
		{"", "", preflight.OK, ""},
		{dialect.NoChargebackFields, preflight.CheckChargebacks, preflight.Fail, "none of 317 orders carries ChargebackResolution"},
		{dialect.DSTTimezone, preflight.CheckTimezone, preflight.Warn, "ahead of the server's clock read in Etc/GMT-2; best fit Europe/Bucharest"},
		{dialect.EndDateExclusive, preflight.CheckEndDate, preflight.Warn, "exclusive: StartDate=EndDate=2026-07-14 found nothing"},
		{dialect.FinishDateFilter, preflight.CheckDateFilter, preflight.Warn, "FinishDate:"},
		{dialect.CountIsPageSize, preflight.CheckCount, preflight.Warn, "the page size: Count 10 with Limit 10, but 20 read over 2 pages"},
		{dialect.SubscriptionsBareArray, preflight.CheckSubscriptions, preflight.Warn, "a bare array"},
		{dialect.REST201, preflight.CheckStatus, preflight.Warn, "201 on"},
		{dialect.RefNoStatusChange, preflight.CheckPaging, preflight.Warn, "with another Status"},
	} {
		t.Run(cmpOr(tc.dialect, "default"), func(t *testing.T) {
			rep := check(t, dialect.Of(tc.dialect), 0, "test-secret")
			var names []string
			for _, f := range rep.Findings {
				if f.Name != preflight.CheckPaging {
					names = append(names, f.Name)
				}
				if f.Name == tc.check {
					if f.Level != tc.level || !strings.Contains(f.Detail, tc.detail) || f.Advice == "" {
						t.Errorf("%s: %s %q (advice %q), want %s with %q and advice", f.Name, f.Level, f.Detail, f.Advice, tc.level, tc.detail)
					}
					continue
				}
				if f.Level != preflight.OK {
					t.Errorf("%s: %s %q, want OK", f.Name, f.Level, f.Detail)
				}
			}
			if tc.check != "" && tc.check != preflight.CheckPaging && !slices.Contains(names, tc.check) {
				t.Errorf("no finding %s in %v", tc.check, names)
			}
			if !slices.Equal(names, allChecks) {
				t.Errorf("findings %v, want %v", names, allChecks)
			}
			if got := rep.Failed(); got != (tc.level == preflight.Fail) {
				t.Errorf("Failed() = %v", got)
			}
			for _, c := range rep.Coverage {
				want := c.Of
				if tc.dialect == dialect.NoChargebackFields && strings.HasPrefix(c.Field, "Chargeback") {
					want = 0
				}
				if c.Of == 0 || c.Have != want {
					t.Errorf("coverage %s %s: %d of %d, want %d", c.Stream, c.Field, c.Have, c.Of, want)
				}
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestClockAndCredentials: the skew from the server's Date header is OK
// within a minute, WARN to MaxSkew and FAIL past it; a wrong secret is a
// credentials FAIL, and the check stops there.
func TestClockAndCredentials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		skew   time.Duration
		secret string
		want   []preflight.Finding // Name and Level; Detail when set
	}{
		{"in step", 0, "test-secret", []preflight.Finding{{Name: preflight.CheckClock, Level: preflight.OK,
			Detail: "local clock agrees with the server's Date header (within 1s)"}}},
		{"3 minutes ahead", 3 * time.Minute, "test-secret", []preflight.Finding{{Name: preflight.CheckClock, Level: preflight.Warn,
			Detail: "local clock is ahead of the server's Date header by 3m0s"}}},
		{"10 minutes behind", -10 * time.Minute, "test-secret", []preflight.Finding{{Name: preflight.CheckClock, Level: preflight.Fail,
			Detail: "local clock is behind the server's Date header by 10m0s (limit 5m0s)"}}},
		{"wrong secret", 0, "wrong", []preflight.Finding{{Name: preflight.CheckCredentials, Level: preflight.Fail},
			{Name: preflight.CheckClock, Level: preflight.OK}, {Name: preflight.CheckRateLimit, Level: preflight.OK}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := check(t, dialect.Set{}, tc.skew, tc.secret)
			if tc.secret == "wrong" && len(rep.Findings) != len(tc.want) {
				t.Fatalf("findings %+v, want %d", rep.Findings, len(tc.want))
			}
			for _, w := range tc.want {
				f, ok := rep.Finding(w.Name)
				if !ok || f.Level != w.Level || (w.Detail != "" && f.Detail != w.Detail) {
					t.Errorf("%s: %+v, want %+v", w.Name, f, w)
				}
			}
			if f, _ := rep.Finding(preflight.CheckCredentials); tc.secret == "wrong" && !strings.Contains(f.Detail, "AUTHENTICATION_ERROR") {
				t.Errorf("credentials detail %q names no AUTHENTICATION_ERROR", f.Detail)
			}
		})
	}
}
