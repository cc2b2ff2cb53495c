package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Policy.
const (
	// DefaultMaxAttempts bounds the failed attempts of one call other
	// than 429s: a server that keeps failing is given up on in minutes.
	DefaultMaxAttempts = 10
	// DefaultMaxThrottled bounds a call's 429 answers apart: a 429 says
	// the server is alive and asks us to wait, and a storm of 30% 429s
	// must not end a night. Ten in a row happen to one call in 170,000,
	// which a night of 100,000 pages meets about one night in two (CI
	// met it); thirty happen to one call in 5×10^15.
	DefaultMaxThrottled  = 30
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	// DefaultMaxTimeouts bounds the timed-out attempts of one call.
	DefaultMaxTimeouts = 3
)

// Policy says how often and how long to retry. The zero value retries with
// the defaults.
//
// Before attempt n+1 the policy waits a jittered exponential back-off: with
// d = min(MaxDelay, BaseDelay×2^(n-1)), a delay drawn uniformly from
// [d/2, d). A Retry-After the server sent raises the delay to that wait,
// capped at MaxRetryAfter.
type Policy struct {
	// MaxAttempts is the number of attempts, the first one included; zero
	// means DefaultMaxAttempts, and 1 turns retries off.
	MaxAttempts int
	// MaxThrottled is how many of a call's attempts may be answered 429
	// Too Many Requests before it gives up; they do not count against
	// MaxAttempts. Zero means DefaultMaxThrottled.
	MaxThrottled int
	// BaseDelay is the back-off before the second attempt; zero means
	// DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps the back-off; zero means DefaultMaxDelay.
	MaxDelay time.Duration
	// MaxRetryAfter caps the wait a Retry-After header asks for; zero means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// MaxTimeouts is how many of a call's attempts may time out (see
	// Config.Timeout and IdleTimeout) before it gives up, however many
	// attempts MaxAttempts leaves: a stalled API costs MaxTimeouts
	// timeouts, not MaxAttempts. Zero means DefaultMaxTimeouts.
	MaxTimeouts int
	// Rand draws the jitter; nil means a randomly seeded source. Give a
	// NewRand(seed) for a deterministic sequence of delays.
	Rand *Rand
	// Sleep waits d or until ctx is done, and returns context.Cause(ctx)
	// then; nil means a timer. Tests can record the delays instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now reads the clock that Retry-After dates are compared with; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives an Info record for every retry, with the attempt
	// number, the HTTP status (0 for a failure without one, 200 for a
	// body that could not be read) and the wait, and a Warn record when
	// the attempts are spent; nil discards them. Records carry the
	// request's method, URL (without its query) and status or error,
	// never headers or bodies, and the attributes of WithLogAttrs.
	Logger *slog.Logger
}

// withDefaults returns p with its zero fields set.
func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxThrottled <= 0 {
		p.MaxThrottled = DefaultMaxThrottled
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.MaxTimeouts <= 0 {
		p.MaxTimeouts = DefaultMaxTimeouts
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	return p
}

// validate reports negative settings.
func (p Policy) validate() error {
	if p.MaxAttempts < 0 || p.MaxThrottled < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 || p.MaxTimeouts < 0 {
		return errors.New("transport: negative retry policy setting")
	}
	return nil
}

// Delay returns the wait before the attempt after attempt n (from 1) failed;
// retryAfter is the wait the server asked for, negative if it did not.
func (p Policy) Delay(n int, retryAfter time.Duration) time.Duration {
	p = p.withDefaults()
	d := p.MaxDelay
	if n < 1 {
		n = 1
	}
	if n <= 32 {
		if b := p.BaseDelay << (n - 1); b > 0 && b < d {
			d = b
		}
	}
	delay := d/2 + time.Duration(p.Rand.Float64()*float64(d-d/2))
	if retryAfter >= 0 {
		delay = max(delay, min(retryAfter, p.MaxRetryAfter))
	}
	return delay
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return context.Cause(ctx)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Rand is a source of jitter that is safe for concurrent use.
type Rand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// NewRand returns a source of jitter seeded with seed.
func NewRand(seed uint64) *Rand {
	return &Rand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Float64 returns a number in [0, 1). A nil *Rand draws from a randomly
// seeded source.
func (r *Rand) Float64() float64 {
	if r == nil {
		return rand.Float64()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Float64()
}

// Error is the error of a call whose attempts are spent. Err is the last
// attempt's cause: a *StatusError, the transport's error, or the error a
// Retry function returned.
type Error struct {
	Attempts int
	Err      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("giving up after %d attempts: %v", e.Attempts, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// StatusError is an HTTP response other than success.
type StatusError struct {
	StatusCode int
	Status     string // such as "503 Service Unavailable"
	// RetryAfter is the Retry-After header, if the response had one.
	RetryAfter string
	// Body holds the start of the response body (up to 64 KiB), for the
	// API client to find the API's error in it.
	Body []byte
	// Err is the API error the body carried, if the API client found
	// one.
	Err error
}

func (e *StatusError) Error() string {
	msg := "HTTP " + e.Status
	if e.Status == "" {
		msg = "HTTP " + strconv.Itoa(e.StatusCode)
	}
	if e.RetryAfter != "" {
		msg += " (Retry-After: " + e.RetryAfter + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *StatusError) Unwrap() error { return e.Err }

// Retryable marks err as worth another attempt for Retry: a response body
// that turned out truncated or malformed, say. It returns nil for nil.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{err}
}

type markedError struct{ err error }

func (e *markedError) Error() string { return e.err.Error() }
func (e *markedError) Unwrap() error { return e.err }

// IsRetryable reports whether err was marked by Retryable.
func IsRetryable(err error) bool {
	_, ok := errors.AsType[*markedError](err)
	return ok
}

// budget counts the attempts of one call: those Retry makes and those the
// Transport makes on the requests of its function.
type budget struct {
	p         Policy
	mu        sync.Mutex
	used      int
	timeouts  int
	throttled int
}

// spent reports whether the call must give up after attempt n failed with
// cause: its 429s are spent if cause is a 429, its timeouts if cause is a
// timeout, and otherwise its other attempts.
func (b *budget) spent(n int, cause error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if se, ok := errors.AsType[*StatusError](cause); ok && se.StatusCode == http.StatusTooManyRequests {
		b.throttled++
		return b.throttled >= b.p.MaxThrottled
	}
	if _, ok := errors.AsType[*TimeoutError](cause); ok {
		b.timeouts++
		if b.timeouts >= b.p.MaxTimeouts {
			return true
		}
	}
	return n-b.throttled >= b.p.MaxAttempts
}

func (b *budget) take() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used++
	return b.used
}

func (b *budget) attempts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

type budgetKey struct{}

func budgetFrom(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return b
}

// Retry calls fn until it succeeds, returns an error not marked Retryable,
// or the policy's attempts are spent, waiting the policy's back-off between
// calls. fn should make one request: the attempts the Transport makes for
// the requests made with the context fn is given count against the same
// budget, so retried HTTP failures and retried bad bodies together make at
// most p.MaxAttempts attempts, under one back-off schedule. Within another
// Retry's function, Retry shares that call's budget and policy.
//
// When the attempts are spent, Retry returns an *Error wrapping fn's last
// error. When ctx is done during a wait, it returns an error wrapping
// context.Cause(ctx).
func Retry(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	b := budgetFrom(ctx)
	if b == nil {
		b = &budget{p: p.withDefaults()}
		ctx = context.WithValue(ctx, budgetKey{}, b)
	}
	p = b.p
	for {
		before := b.attempts()
		err := fn(ctx)
		if err == nil || !IsRetryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		n := b.attempts()
		if n == before {
			n = b.take()
		}
		log := p.Logger.With(logAttrs(ctx)...)
		if b.spent(n, err) {
			log.WarnContext(ctx, "giving up", "attempt", n, "error", err)
			return &Error{Attempts: n, Err: err}
		}
		delay := p.Delay(n, -1)
		log.InfoContext(ctx, "retrying", "attempt", n, "status", 200, "wait", delay, "error", err)
		if werr := p.Sleep(ctx, delay); werr != nil {
			return fmt.Errorf("waiting to retry after attempt %d (%v): %w", n, err, werr)
		}
	}
}

// retryAfter parses a Retry-After header, a number of seconds or an HTTP
// date, into a wait from now; it returns -1 if there is none.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return -1
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return -1
		}
		if s > int64((1<<63-1)/time.Second) {
			return 1<<63 - 1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

type logAttrsKey struct{}

// WithLogAttrs returns ctx carrying args (slog key-value pairs) after
// those it carries already; the retry and give-up records of requests made
// with it carry them, so that they name the call: the API client adds its
// stream, window, method and page.
func WithLogAttrs(ctx context.Context, args ...any) context.Context {
	prev := logAttrs(ctx)
	return context.WithValue(ctx, logAttrsKey{}, append(prev[:len(prev):len(prev)], args...))
}

func logAttrs(ctx context.Context) []any {
	a, _ := ctx.Value(logAttrsKey{}).([]any)
	return a
}
