// Package transport makes the 2Checkout API clients resilient: an
// http.RoundTripper that bounds every attempt by a timeout, retries
// throttled, failed and timed-out requests with jittered exponential
// back-off (honouring Retry-After, up to a cap), limits the request rate
// and the requests in flight of one account, and stops waiting when the
// request's context is done; Retry, for the bodies that turn out truncated
// or malformed; and DecodeJSON, which marks those retryable. Paging
// searches is package paging's.
//
// Every API client of an account shares one Transport:
//
//	t, err := transport.New(transport.Config{Policy: transport.Policy{Logger: log}})
//	client := &http.Client{Transport: t}
//	req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
//	transport.MarkIdempotent(req) // a search or login: safe to repeat
//	resp, err := client.Do(req)
package transport

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds an attempt: a page of 200 orders comes in
	// well under a second, so with DefaultMaxTimeouts a stalled page
	// costs about a minute and a half, not tens of minutes.
	DefaultTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds a pause in a response body.
	DefaultIdleTimeout   = 10 * time.Second
	DefaultRate          = 50 // requests per second
	DefaultBurst         = 10
	DefaultMaxConcurrent = 8
	// DefaultMaxBody bounds a response body: a page of 200 orders is
	// about 220 KB, so this is 300 times that.
	DefaultMaxBody = 64 << 20
	// DefaultMaxString bounds any one string of a record: the longest
	// real field (a product name, an external reference) is far less.
	DefaultMaxString = 64 << 10
)

// maxStatusBody bounds how much of a failed response StatusError keeps.
const maxStatusBody = 64 << 10

// Config configures a Transport.
type Config struct {
	// Base makes the requests; nil means a shared clone of
	// http.DefaultTransport that keeps enough idle connections to a host
	// for MaxConcurrent requests, so that they reuse their connections.
	Base http.RoundTripper
	// Timeout bounds each attempt, from sending the request to closing
	// the response body; zero means DefaultTimeout.
	Timeout time.Duration
	// IdleTimeout fails an attempt whose response body sends nothing for
	// that long; zero means DefaultIdleTimeout. A body that dribbles
	// (slow-loris) is cut by Timeout instead.
	IdleTimeout time.Duration
	// Policy says how requests are retried.
	Policy Policy
	// Rate limits the requests, retries included, to so many a second;
	// zero means DefaultRate, and rate.Inf means no limit.
	Rate rate.Limit
	// Burst is how many requests may go at once above Rate; zero means
	// DefaultBurst.
	Burst int
	// MaxConcurrent caps the requests in flight, from sending to closing
	// the response body; zero means DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxBody bounds the bytes of a response body: a response declaring
	// more, or a body reading past it, fails with a *BodyTooLargeError,
	// which is not retried. Zero means DefaultMaxBody.
	MaxBody int64
	// MaxString bounds any one string of a record the API clients decode;
	// they fail a longer one with an error naming the page, the record
	// and the field. Zero means DefaultMaxString.
	MaxString int
}

// A Transport is an http.RoundTripper that retries, rate-limits and caps
// the concurrency of the requests of one account. It is safe for
// concurrent use.
//
// Requests with an idempotent method (GET, HEAD, OPTIONS, TRACE, PUT,
// DELETE) and those marked by MarkIdempotent are retried on a 408, 429 or
// 5xx response, on a connection error and on a timed-out attempt; their
// body is replayed from GetBody, or buffered if there is none. Other
// requests are attempted once.
//
// When a retryable request's attempts are spent, RoundTrip returns an
// *Error wrapping the last cause (a *StatusError or the transport's error),
// which http.Client wraps in a *url.Error. A response it does not retry is
// returned as is, whatever its status.
type Transport struct {
	base    http.RoundTripper
	timeout time.Duration
	policy  Policy
	limiter *rate.Limiter
	slots   chan struct{}
	maxBody int64
	maxStr  int
	idle    time.Duration
}

var _ http.RoundTripper = (*Transport)(nil)

// New returns the transport cfg describes.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Policy.validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 || cfg.IdleTimeout < 0 || cfg.Rate < 0 || cfg.Burst < 0 || cfg.MaxConcurrent < 0 || cfg.MaxBody < 0 || cfg.MaxString < 0 {
		return nil, errors.New("transport: negative Timeout, Rate, Burst, MaxConcurrent, MaxBody or MaxString")
	}
	t := &Transport{
		base:    cfg.Base,
		timeout: cfg.Timeout,
		policy:  cfg.Policy.withDefaults(),
		maxBody: cmp.Or(cfg.MaxBody, DefaultMaxBody),
		maxStr:  cmp.Or(cfg.MaxString, DefaultMaxString),
		idle:    cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout),
	}
	if t.base == nil {
		t.base = defaultBase()
	}
	if t.timeout == 0 {
		t.timeout = DefaultTimeout
	}
	r, burst := cfg.Rate, cfg.Burst
	if r == 0 {
		r = DefaultRate
	}
	if burst == 0 {
		burst = DefaultBurst
	}
	t.limiter = rate.NewLimiter(r, burst)
	n := cfg.MaxConcurrent
	if n == 0 {
		n = DefaultMaxConcurrent
	}
	t.slots = make(chan struct{}, n)
	return t, nil
}

// maxIdlePerHost is how many idle connections to one host the default
// base keeps; http.DefaultTransport keeps 2, so that a third concurrent
// request to the API would open a new connection every time.
const maxIdlePerHost = 64

// defaultBase is the Base of transports configured without one, shared by
// them all.
var defaultBase = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdlePerHost
	return t
})

// DefaultBase returns the Base of transports configured without one, for
// a RoundTripper layered between a transport and its base (such as one
// that signs each attempt) to send through.
func DefaultBase() http.RoundTripper { return defaultBase() }

// MaxString returns the bound on one string of a record, its default
// applied.
func (t *Transport) MaxString() int { return t.maxStr }

// Policy returns the transport's retry policy, its defaults applied.
func (t *Transport) Policy() Policy { return t.policy }

// Retry is Retry with the transport's policy.
func (t *Transport) Retry(ctx context.Context, fn func(ctx context.Context) error) error {
	return Retry(ctx, t.policy, fn)
}

// MarkIdempotent marks req as safe to repeat, so that the Transport
// retries it whatever its method, and returns it. It follows net/http's
// convention: an Idempotency-Key header with a nil value, which is not
// sent.
func MarkIdempotent(req *http.Request) *http.Request {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if _, ok := req.Header["Idempotency-Key"]; !ok {
		req.Header["Idempotency-Key"] = nil
	}
	return req
}

func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	if !ok {
		_, ok = req.Header["X-Idempotency-Key"]
	}
	return ok
}

// RoundTrip makes the request, retrying it as the type's documentation
// says.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !replayable(req) {
		return t.attempt(ctx, req, req.Body)
	}
	getBody := req.GetBody
	if req.Body != nil && req.Body != http.NoBody && getBody == nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("transport: reading request body: %w", err)
		}
		getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else if req.Body != nil && req.Body != http.NoBody {
		// The first attempt reads a fresh body too, so every attempt
		// sends the same bytes.
		req.Body.Close()
	}
	b := budgetFrom(ctx)
	if b == nil {
		b = &budget{p: t.policy}
	}
	p := b.p
	for {
		var body io.ReadCloser
		if getBody != nil {
			var err error
			if body, err = getBody(); err != nil {
				return nil, fmt.Errorf("transport: replaying request body: %w", err)
			}
		}
		n := b.take()
		resp, err := t.attempt(ctx, req, body)
		wait := time.Duration(-1)
		var cause error
		switch {
		case err != nil:
			if ctx.Err() != nil || !retryableTransportError(err) {
				return nil, err
			}
			cause = err
		case retryableStatus(resp.StatusCode):
			wait = retryAfter(resp.Header, p.Now())
			se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, RetryAfter: resp.Header.Get("Retry-After")}
			se.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
			resp.Body.Close()
			cause = se
		default:
			return resp, nil
		}
		log := p.Logger.With(logAttrs(ctx)...).With("method", req.Method, "url", logURL(req), "attempt", n)
		status := 0
		if se, ok := cause.(*StatusError); ok {
			status = se.StatusCode
		}
		if b.spent(n, cause) {
			log.WarnContext(ctx, "giving up", "status", status, "error", cause)
			return nil, &Error{Attempts: n, Err: cause}
		}
		delay := p.Delay(n, wait)
		log.InfoContext(ctx, "retrying", "status", status, "wait", delay, "error", cause)
		if werr := p.Sleep(ctx, delay); werr != nil {
			return nil, fmt.Errorf("waiting to retry after attempt %d (%v): %w", n, cause, werr)
		}
	}
}

// attempt makes one attempt: it waits for the rate limit and a free slot,
// then sends the request with the attempt's timeout. The slot and the
// timeout last until the response body is closed.
func (t *Transport) attempt(ctx context.Context, req *http.Request, body io.ReadCloser) (*http.Response, error) {
	closeBody := func() {
		if body != nil {
			body.Close()
		}
	}
	if err := t.limiter.Wait(ctx); err != nil {
		closeBody()
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return nil, &waitError{fmt.Errorf("waiting for the rate limit: %w", err)}
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		closeBody()
		return nil, &waitError{fmt.Errorf("waiting for a free request slot: %w", context.Cause(ctx))}
	}
	actx, cancelAttempt := context.WithTimeoutCause(ctx, t.timeout, &TimeoutError{After: t.timeout})
	actx, cancelIdle := context.WithCancelCause(actx)
	idle := time.AfterFunc(t.idle, func() { cancelIdle(&TimeoutError{After: t.idle, Idle: true}) })
	idle.Stop()
	release := sync.OnceFunc(func() {
		idle.Stop()
		cancelIdle(nil)
		cancelAttempt()
		<-t.slots
	})
	r := req.Clone(actx)
	r.Body = body
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		if cause := context.Cause(actx); ctx.Err() == nil && actx.Err() != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		release()
		return nil, err
	}
	if resp.ContentLength > t.maxBody {
		resp.Body.Close()
		release()
		return nil, &BodyTooLargeError{Limit: t.maxBody, Declared: resp.ContentLength}
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, ctx: actx, parent: ctx, release: release, left: t.maxBody, limit: t.maxBody,
		idle: idle, idleAfter: t.idle}
	return resp, nil
}

// BodyTooLargeError is a response body longer than Config.MaxBody. It is
// not retried: the API would send the same again.
type BodyTooLargeError struct {
	Limit    int64
	Declared int64 // the Content-Length, or -1 when the body ran past Limit
}

func (e *BodyTooLargeError) Error() string {
	if e.Declared >= 0 {
		return fmt.Sprintf("response body of %d bytes is larger than the limit of %d (max_body)", e.Declared, e.Limit)
	}
	return fmt.Sprintf("response body is larger than the limit of %d bytes (max_body)", e.Limit)
}

// TimeoutError is the cause of an attempt that ran out of time, or whose
// response body paused for too long (Idle).
type TimeoutError struct {
	After time.Duration
	Idle  bool
}

func (e *TimeoutError) Error() string {
	if e.Idle {
		return fmt.Sprintf("response body stalled: nothing received for %v", e.After)
	}
	return fmt.Sprintf("attempt timed out after %v", e.After)
}

// Timeout reports true, as net.Error timeouts do.
func (e *TimeoutError) Timeout() bool { return true }

// releasingBody frees the attempt's slot and timeout when it is closed,
// and fails a read past the body limit.
type releasingBody struct {
	io.ReadCloser
	ctx, parent context.Context
	release     func()
	left, limit int64 // bytes the body may still have, of limit
	idle        *time.Timer
	idleAfter   time.Duration
}

func (b *releasingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte is one too many.
		var one [1]byte
		if n, err := io.ReadFull(b.ReadCloser, one[:]); n == 0 {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		return 0, &BodyTooLargeError{Limit: b.limit, Declared: -1}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	b.idle.Reset(b.idleAfter)
	n, err := b.ReadCloser.Read(p)
	b.idle.Stop()
	b.left -= int64(n)
	if err != nil && err != io.EOF && b.parent.Err() == nil && b.ctx.Err() != nil {
		err = fmt.Errorf("reading response body: %w: %w", context.Cause(b.ctx), err)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// retryableStatus reports whether a response with status code is worth
// another attempt.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
		code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported
}

// waitError is a failure to start an attempt: the rate limit or the
// concurrency cap could not be waited for.
type waitError struct{ err error }

func (e *waitError) Error() string { return e.err.Error() }
func (e *waitError) Unwrap() error { return e.err }

// retryableTransportError reports whether a transport error is worth another
// attempt: every one but certificate errors and failures to start.
func retryableTransportError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		verify           *tls.CertificateVerificationError
		wait             *waitError
		large            *BodyTooLargeError
	)
	return !errors.As(err, &unknownAuthority) && !errors.As(err, &invalid) &&
		!errors.As(err, &hostname) && !errors.As(err, &verify) && !errors.As(err, &wait) && !errors.As(err, &large)
}

// logURL is the request URL without user info, query or fragment.
func logURL(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	u := *req.URL
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
