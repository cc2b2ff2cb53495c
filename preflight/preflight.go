// Package preflight checks a live 2Checkout account, read-only and in a
// few calls, for the undocumented behaviours the nightly job depends on:
// that the credentials sign in and the clock agrees with the server's,
// whether the order search's EndDate is inclusive, which zone and which
// date it filters on, whether Pagination.Count is a total, which fields
// the records carry, the shape of the subscription search, the success
// status of reads and any rate-limit headers.
//
// The checks are made over REST API 6.0, which takes the same merchant
// code and secret key as JSON-RPC, through the REST client's signing and
// transport (retries, timeouts, rate limit); a recording RoundTripper
// under the signer keeps each response's status and headers. Every result
// is a Finding, so that tests compare them exactly.
package preflight

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// Level grades a finding.
type Level int

const (
	OK Level = iota
	Warn
	Fail
)

func (l Level) String() string {
	switch l {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	}
	return "FAIL"
}

// Finding is the outcome of one check.
type Finding struct {
	Name   string
	Level  Level
	Detail string
	// Advice says what to do; empty when there is nothing to do.
	Advice string
}

// Coverage is the share of the sampled records of a stream that carried
// a field (the key present, null or not).
type Coverage struct {
	Stream, Field string
	Have, Of      int
}

// Report is what Run found for one account.
type Report struct {
	Account  string
	Findings []Finding
	Coverage []Coverage
}

// Failed reports whether a finding is a FAIL.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Level == Fail })
}

// Finding returns the finding called name, if any.
func (r *Report) Finding(name string) (Finding, bool) {
	i := slices.IndexFunc(r.Findings, func(f Finding) bool { return f.Name == name })
	if i < 0 {
		return Finding{}, false
	}
	return r.Findings[i], true
}

// Skew limits: API 6.0 signs the request's UTC time, and a server refuses
// a date minutes away from its own (the sandbox at 15 minutes, like the
// live API); past MaxSkew a signature is at risk.
const (
	WarnSkew = time.Minute
	MaxSkew  = 5 * time.Minute
)

// Names of the findings, in the order they are reported.
const (
	CheckCredentials   = "credentials"
	CheckClock         = "clock skew"
	CheckEndDate       = "EndDate"
	CheckDateFilter    = "date filter"
	CheckTimezone      = "source timezone"
	CheckCount         = "Pagination.Count"
	CheckChargebacks   = "chargeback fields"
	CheckSubscriptions = "subscriptions shape"
	CheckStatus        = "REST status"
	CheckRateLimit     = "rate-limit headers"
	// CheckPaging is reported only when a RefNo came back twice.
	CheckPaging = "paging"
)

// Config is the account to check.
type Config struct {
	Account string
	// Endpoint is the REST API 6.0 base URL; empty means the public one.
	Endpoint                      string
	MerchantCode, SecretKey, HMAC string
	// Zone is the configured source_timezone.
	Zone      *time.Location
	Transport transport.Config
	// Now is the local clock, whose skew from the server's is measured;
	// nil means time.Now.
	Now func() time.Time
	// DaysBack bounds the search for a recent day with orders, from
	// yesterday; zero means 5.
	DaysBack int
	// Zones are the zones tried besides Zone; nil means CandidateZones.
	Zones []string
}

// CandidateZones are the zones tried for the date filter.
var CandidateZones = []string{"UTC", "Etc/GMT-2", "Europe/Bucharest", "Etc/GMT-3", "Europe/London", "America/New_York"}

// exchange is one response the recorder saw.
type exchange struct {
	path          string
	status        int
	header        http.Header
	sent, arrived time.Time
}

// recorder is the RoundTripper under the REST signer: it keeps the status
// and headers of every response, retries included.
type recorder struct {
	next http.RoundTripper
	now  func() time.Time
	mu   sync.Mutex
	seen []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := r.now()
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.seen = append(r.seen, exchange{req.URL.Path, resp.StatusCode, resp.Header.Clone(), sent, r.now()})
		r.mu.Unlock()
	}
	return resp, err
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// Run checks the account cfg describes. Its error is for a configuration
// the REST client refuses or a cancelled ctx; what the API answers is in
// the findings.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	now := cfg.Now
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	rec := &recorder{now: now}
	tc := cfg.Transport
	rec.next = tc.Base
	if rec.next == nil {
		rec.next = transport.DefaultBase()
	}
	tc.Base = rec
	c, err := rest.New(rest.Config{Account: cfg.Account, Endpoint: cfg.Endpoint, MerchantCode: cfg.MerchantCode,
		SecretKey: cfg.SecretKey, HMAC: cfg.HMAC, Transport: tc, Now: now})
	if err != nil {
		return nil, fmt.Errorf("preflight: %w", err)
	}
	ck := &checker{cfg: cfg, c: c, rec: rec, rep: &Report{Account: c.Account}}
	err = ck.run(ctx)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("preflight: account %s: %w", c.Account, ctx.Err())
	}
	_ = err // reported as findings
	return ck.rep, nil
}

// checker holds one account's check.
type checker struct {
	cfg Config
	c   *rest.Client
	rec *recorder
	rep *Report
}

func (k *checker) add(name string, l Level, detail, advice string) {
	k.rep.Findings = append(k.rep.Findings, Finding{name, l, detail, advice})
}

// yesterday is the day before today in the source zone.
func (k *checker) yesterday() civil.Date {
	return civil.DateOf(k.cfg.Now().In(k.cfg.Zone)).AddDays(-1)
}

// get reads path with query q through the REST client's retries, signing
// and transport, and returns the 2xx body undecoded.
func (k *checker) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	var body []byte
	err := k.c.Retry(ctx, "", "GET /"+path, 0, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.c.URL(path, q), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		return k.c.Do(req, restError, func(r io.Reader) error {
			b, err := io.ReadAll(io.LimitReader(r, maxBody))
			body = b
			return err
		})
	})
	return body, err
}

// maxBody bounds a page read: two hundred orders are well under it.
const maxBody = 64 << 20

// restError is the API error a REST error body names.
func restError(status int, body []byte) error {
	var e struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		return &extract.APIError{Code: e.Code, Message: e.Message}
	}
	return nil
}

// run makes the checks in order; it stops after a failed sign-in.
func (k *checker) run(ctx context.Context) error {
	day, sample, err := k.findDay(ctx)
	if err != nil {
		k.clock()
		k.add(CheckCredentials, Fail, err.Error(), credentialAdvice)
		k.headers()
		return err
	}
	k.add(CheckCredentials, OK, "a signed GET /orders/ was answered", "")
	k.clock()
	if day.found {
		k.dates(day, sample)
		if _, ok := k.rep.Finding(CheckTimezone); !ok {
			k.newest(ctx)
		}
		k.zoneOK(day.d, len(sample))
		k.count(ctx, day)
	} else {
		k.add(CheckEndDate, Warn, fmt.Sprintf("no orders from %s to %s, with EndDate the day or the day after", day.d.AddDays(-k.daysBack()+1), k.yesterday()),
			"run the check again once the account has orders: the date checks need a day with orders")
	}
	k.coverOrders(sample)
	k.subscriptions(ctx)
	k.headers()
	return nil
}

const credentialAdvice = "check merchant_code, secret_key and hmac of the account (Integrations > Webhooks & API in the 2Checkout Merchant Control Panel), and that the API user may read orders"

func (k *checker) daysBack() int { return cmp.Or(k.cfg.DaysBack, 5) }

// clock reports the skew of the local clock from the server's Date
// header, once, from the first response that had one.
func (k *checker) clock() {
	if _, ok := k.rep.Finding(CheckClock); ok {
		return
	}
	for _, x := range k.rec.exchanges() {
		d, err := http.ParseTime(x.header.Get("Date"))
		if err != nil {
			continue
		}
		mid, slack := midpoint(x)
		skew := d.Sub(mid)
		abs := max(skew, -skew)
		detail := fmt.Sprintf("local clock %s the server's Date header by %s", aheadBehind(skew), abs.Round(time.Second))
		switch {
		case abs <= slack:
			k.add(CheckClock, OK, "local clock agrees with the server's Date header (within 1s)", "")
		case abs <= WarnSkew:
			k.add(CheckClock, OK, detail, "")
		case abs <= MaxSkew:
			k.add(CheckClock, Warn, detail, "synchronise the clock with NTP: API 6.0 signatures embed the time")
		default:
			k.add(CheckClock, Fail, detail+fmt.Sprintf(" (limit %s)", MaxSkew), "synchronise the clock with NTP (timedatectl set-ntp true): signatures dated minutes away are refused")
		}
		return
	}
	k.add(CheckClock, Warn, "no response carried a Date header", "")
}

// midpoint is when the server most likely stamped x's Date, and the
// uncertainty: the header has whole seconds.
func midpoint(x exchange) (time.Time, time.Duration) {
	return x.sent.Add(x.arrived.Sub(x.sent) / 2), x.arrived.Sub(x.sent)/2 + time.Second
}

// serverTime is the server's clock at x, from its Date header.
func serverTime(x exchange) (time.Time, bool) {
	d, err := http.ParseTime(x.header.Get("Date"))
	return d, err == nil
}

func aheadBehind(skew time.Duration) string {
	if skew > 0 {
		return "is behind"
	}
	return "is ahead of"
}

// headers reports the success statuses and rate-limit headers seen.
func (k *checker) headers() {
	var statuses, limits []string
	for _, x := range k.rec.exchanges() {
		if x.status/100 == 2 && x.status != http.StatusOK {
			statuses = appendNew(statuses, fmt.Sprintf("%d on %s", x.status, x.path))
		}
		for name, v := range x.header {
			l := strings.ToLower(name)
			if strings.Contains(l, "ratelimit") || strings.Contains(l, "rate-limit") || l == "retry-after" {
				limits = appendNew(limits, name+": "+strings.Join(v, ","))
			}
		}
	}
	if f, _ := k.rep.Finding(CheckCredentials); f.Level == OK {
		if len(statuses) == 0 {
			k.add(CheckStatus, OK, "every read answered 200", "")
		} else {
			k.add(CheckStatus, Warn, "reads answered "+strings.Join(statuses, ", "),
				"this version accepts any 2xx; an older one that took only 200 fails here")
		}
	}
	if len(limits) == 0 {
		k.add(CheckRateLimit, OK, "none seen", "")
		return
	}
	slices.Sort(limits)
	k.add(CheckRateLimit, OK, strings.Join(limits, "; "), "keep requests_per_second under the limit shown")
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
