// Package faults is the specification of the faults the sandbox merchant
// injects: the Spec type, its parser and its String form. It is a leaf
// package, free of the sandbox and of HTTP, so that configuration can
// parse fault specifications without importing the sandbox.
package faults

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of Spec.
const (
	DefaultRetryAfter = time.Second
	DefaultSlowDelay  = 200 * time.Millisecond
)

// Spec makes the sandbox merchant misbehave the way a real API does now
// and then, for every protocol it serves. The zero value injects no
// faults.
//
// Each request draws its fate from (Seed, n), n counting the requests served
// since the faults were set, so the same sequence of requests meets the same
// faults in every run. TooManyRequests, ServerError, Truncate and Malformed
// exclude one another: their shares must add up to at most 1. Slow and
// Expire are drawn independently and combine with the others.
type Spec struct {
	// Seed seeds the draws.
	Seed int64
	// TooManyRequests is the share of requests answered 429 Too Many
	// Requests with a Retry-After header of RetryAfter, in whole seconds
	// rounded up; zero RetryAfter means DefaultRetryAfter.
	TooManyRequests float64
	RetryAfter      time.Duration
	// ServerError is the share of requests answered 500 Internal Server
	// Error.
	ServerError float64
	// Slow is the share of requests held for SlowDelay before they are
	// served; zero SlowDelay means DefaultSlowDelay.
	Slow      float64
	SlowDelay time.Duration
	// Truncate is the share of requests whose 200 OK response body is cut
	// short: either the connection closes before Content-Length bytes, or
	// the body ends cleanly in the middle of the JSON.
	Truncate float64
	// Malformed is the share of requests whose 200 OK response body is
	// not JSON: a NUL byte is inserted into it, or it is replaced by an
	// HTML error page.
	Malformed float64
	// Expire is the share of JSON-RPC calls other than login whose
	// session expires just before the call, which then fails with
	// INVALID_SESSION.
	Expire float64
	// Insert is how many orders, at most, are placed while order searches
	// page through the data. After each page of an order search, until
	// Insert orders have been, one new order is placed on one of the
	// searched days, before the last order of that page, so that every
	// later page shifts by one, as on an offset-paged API. Inserted orders
	// have RefNos past their day's regular orders and create no
	// subscriptions.
	Insert int
}

// Zero reports whether f injects no faults.
func (f Spec) Zero() bool {
	f.Seed, f.RetryAfter, f.SlowDelay = 0, 0, 0
	return f == Spec{}
}

// Validate reports whether f's shares and counts are in range.
func (f Spec) Validate() error {
	var errs []error
	for _, s := range []struct {
		name string
		p    float64
	}{{"429", f.TooManyRequests}, {"500", f.ServerError}, {"slow", f.Slow}, {"truncate", f.Truncate}, {"malformed", f.Malformed}, {"expire", f.Expire}} {
		if !(s.p >= 0 && s.p <= 1) {
			errs = append(errs, fmt.Errorf("faults: %s share %v is not within 0 to 1", s.name, s.p))
		}
	}
	if sum := f.TooManyRequests + f.ServerError + f.Truncate + f.Malformed; sum > 1+1e-9 {
		errs = append(errs, fmt.Errorf("faults: the shares of 429, 500, truncate and malformed add up to %v, more than 1", sum))
	}
	if f.RetryAfter < 0 || f.SlowDelay < 0 {
		errs = append(errs, errors.New("faults: negative delay"))
	}
	if f.Insert < 0 {
		errs = append(errs, fmt.Errorf("faults: negative insert count %d", f.Insert))
	}
	return errors.Join(errs...)
}

// Parse parses a fault specification, a comma-separated list of
// name=value terms, as the --faults flag of the sandbox takes it:
//
//	429=P[:D]    share P of requests answered 429, Retry-After D (default 1s)
//	500=P        share P answered 500
//	slow=P[:D]   share P held for D (default 200ms) first
//	truncate=P   share P of bodies cut short
//	malformed=P  share P of bodies that are not JSON
//	expire=P     share P of JSON-RPC calls whose session expires first
//	insert=N     N orders placed while order searches page, at most
//	seed=N       seed of the draws (default 0)
//
// A share P is a decimal from 0 to 1, or a percentage such as 5%; a delay D
// is a Go duration such as 1s or 250ms. For example
// "429=0.1,500=0.05,slow=0.05:200ms,truncate=0.02,malformed=0.02,expire=0.01,insert=3".
// The empty string and "none" mean no faults.
func Parse(spec string) (Spec, error) {
	var f Spec
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return f, nil
	}
	seen := map[string]bool{}
	for term := range strings.SplitSeq(spec, ",") {
		term = strings.TrimSpace(term)
		name, value, ok := strings.Cut(term, "=")
		if !ok || value == "" {
			return Spec{}, fmt.Errorf("faults: %q: want name=value", term)
		}
		if seen[name] {
			return Spec{}, fmt.Errorf("faults: %s given twice", name)
		}
		seen[name] = true
		share, delay, hasDelay := strings.Cut(value, ":")
		var err error
		switch name {
		case "429", "slow":
			var p float64
			var d time.Duration
			if p, err = parseShare(share); err != nil {
				break
			}
			if hasDelay {
				if d, err = time.ParseDuration(delay); err == nil && d < 0 {
					err = errors.New("negative delay")
				}
			}
			if name == "429" {
				f.TooManyRequests, f.RetryAfter = p, d
			} else {
				f.Slow, f.SlowDelay = p, d
			}
		case "500", "truncate", "malformed", "expire":
			if hasDelay {
				err = errors.New("takes no delay")
				break
			}
			p := map[string]*float64{"500": &f.ServerError, "truncate": &f.Truncate, "malformed": &f.Malformed, "expire": &f.Expire}[name]
			*p, err = parseShare(value)
		case "insert":
			f.Insert, err = strconv.Atoi(value)
			if err == nil && f.Insert < 0 {
				err = errors.New("negative count")
			}
		case "seed":
			f.Seed, err = strconv.ParseInt(value, 10, 64)
		default:
			return Spec{}, fmt.Errorf("faults: unknown fault %q (want 429, 500, slow, truncate, malformed, expire, insert or seed)", name)
		}
		if err != nil {
			return Spec{}, fmt.Errorf("faults: %s=%s: %w", name, value, err)
		}
	}
	if err := f.Validate(); err != nil {
		return Spec{}, err
	}
	return f, nil
}

func parseShare(s string) (float64, error) {
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 100
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("want a share from 0 to 1, such as 0.05 or 5%")
	}
	p /= scale
	if !(p >= 0 && p <= 1) {
		return 0, errors.New("share is not within 0 to 1")
	}
	return p, nil
}

// String returns f as Parse takes it, "none" for no faults.
func (f Spec) String() string {
	var terms []string
	share := func(name string, p float64, d time.Duration) {
		if p == 0 {
			return
		}
		t := name + "=" + strconv.FormatFloat(p, 'g', -1, 64)
		if d != 0 {
			t += ":" + d.String()
		}
		terms = append(terms, t)
	}
	share("429", f.TooManyRequests, f.RetryAfter)
	share("500", f.ServerError, 0)
	share("slow", f.Slow, f.SlowDelay)
	share("truncate", f.Truncate, 0)
	share("malformed", f.Malformed, 0)
	share("expire", f.Expire, 0)
	if f.Insert != 0 {
		terms = append(terms, "insert="+strconv.Itoa(f.Insert))
	}
	if len(terms) == 0 {
		return "none"
	}
	if f.Seed != 0 {
		terms = append(terms, "seed="+strconv.FormatInt(f.Seed, 10))
	}
	return strings.Join(terms, ",")
}
