package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
)

// Defaults of Faults.
const (
	DefaultRetryAfter = time.Second
	DefaultSlowDelay  = 200 * time.Millisecond
)

// Faults makes the merchant misbehave the way a real API does now and then,
// for every protocol it serves. The zero value injects no faults.
//
// Each request draws its fate from (Seed, n), n counting the requests served
// since the faults were set, so the same sequence of requests meets the same
// faults in every run. TooManyRequests, ServerError, Truncate and Malformed
// exclude one another: their shares must add up to at most 1. Slow and
// Expire are drawn independently and combine with the others.
type Faults struct {
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
func (f Faults) Zero() bool {
	f.Seed, f.RetryAfter, f.SlowDelay = 0, 0, 0
	return f == Faults{}
}

// Validate reports whether f's shares and counts are in range.
func (f Faults) Validate() error {
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

// ParseFaults parses a fault specification, a comma-separated list of
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
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return f, nil
	}
	seen := map[string]bool{}
	for term := range strings.SplitSeq(spec, ",") {
		term = strings.TrimSpace(term)
		name, value, ok := strings.Cut(term, "=")
		if !ok || value == "" {
			return Faults{}, fmt.Errorf("faults: %q: want name=value", term)
		}
		if seen[name] {
			return Faults{}, fmt.Errorf("faults: %s given twice", name)
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
			return Faults{}, fmt.Errorf("faults: unknown fault %q (want 429, 500, slow, truncate, malformed, expire, insert or seed)", name)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("faults: %s=%s: %w", name, value, err)
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, err
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

// String returns f as ParseFaults takes it, "none" for no faults.
func (f Faults) String() string {
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

// FaultStats counts the faults a merchant has injected since its faults
// were last set.
type FaultStats struct {
	Requests        int // requests that drew a fate
	TooManyRequests int
	ServerErrors    int
	Slow            int
	Truncated       int
	Malformed       int
	Expired         int
	Inserted        int
}

// faultState is a merchant's fault configuration and what it has done.
type faultState struct {
	on atomic.Bool // any fault is set

	mu         sync.Mutex
	f          Faults
	seed       uint64
	n          uint64 // requests drawn
	inserts    uint64 // insert draws
	stats      FaultStats
	inserted   map[civil.Date][]*sale // by placing time
	hasInserts atomic.Bool
}

// SetFaults replaces the merchant's faults and resets their statistics and
// draws. Orders already inserted stay.
func (m *Merchant) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s := &m.faults
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f = f
	s.seed = mix(uint64(f.Seed) ^ 0xfa17)
	s.n, s.inserts = 0, 0
	s.stats = FaultStats{}
	s.on.Store(!f.Zero())
	return nil
}

// Faults returns the merchant's faults.
func (m *Merchant) Faults() Faults {
	m.faults.mu.Lock()
	defer m.faults.mu.Unlock()
	return m.faults.f
}

// FaultStats returns the faults injected since the faults were set.
func (m *Merchant) FaultStats() FaultStats {
	m.faults.mu.Lock()
	defer m.faults.mu.Unlock()
	return m.faults.stats
}

// Fault kinds that exclude one another.
const (
	fateOK = iota
	fateTooMany
	fateServerError
	fateTruncate
	fateMalformed
)

// fate is what happens to one request.
type fate struct {
	kind       int
	slow       time.Duration
	expire     bool
	retryAfter time.Duration
	at         float64 // where in the body a truncation or corruption happens, [0, 1)
	variant    bool    // which of two forms of the fault
}

func (s *faultState) draw() fate {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.f
	r := rand.New(rand.NewPCG(s.seed, mix(s.n)))
	s.n++
	s.stats.Requests++
	var ft fate
	switch u := r.Float64(); {
	case u < f.TooManyRequests:
		ft.kind = fateTooMany
		s.stats.TooManyRequests++
	case u < f.TooManyRequests+f.ServerError:
		ft.kind = fateServerError
		s.stats.ServerErrors++
	case u < f.TooManyRequests+f.ServerError+f.Truncate:
		ft.kind = fateTruncate
	case u < f.TooManyRequests+f.ServerError+f.Truncate+f.Malformed:
		ft.kind = fateMalformed
	}
	if r.Float64() < f.Slow {
		ft.slow = orDefault(f.SlowDelay, DefaultSlowDelay)
		s.stats.Slow++
	}
	ft.expire = r.Float64() < f.Expire
	ft.retryAfter = orDefault(f.RetryAfter, DefaultRetryAfter)
	ft.at = r.Float64()
	ft.variant = r.IntN(2) == 0
	return ft
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (s *faultState) count(field *int) {
	s.mu.Lock()
	*field++
	s.mu.Unlock()
}

// withFaults wraps the merchant's handler of every protocol with the
// faults.
func (m *Merchant) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &m.faults
		if !s.on.Load() {
			next.ServeHTTP(w, r)
			return
		}
		ft := s.draw()
		if ft.slow > 0 {
			// Read the body first: the server notices a client that hangs
			// up, and cancels r's context, only once the body is read.
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				return
			}
			r.Body = readCloser{bytes.NewReader(body)}
			t := time.NewTimer(ft.slow)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch ft.kind {
		case fateTooMany:
			w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(ft.retryAfter.Seconds())), 10))
			http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
			return
		case fateServerError:
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		if ft.expire && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, strings.TrimSuffix(Path, "/")) {
			body, ok := m.expireCaller(r)
			if !ok {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.NoBody
			if body != nil {
				r.Body = readCloser{bytes.NewReader(body)}
			}
		}
		if ft.kind == fateOK {
			next.ServeHTTP(w, r)
			return
		}
		bw := &bufferedWriter{header: w.Header(), code: http.StatusOK}
		next.ServeHTTP(bw, r)
		body := bw.buf.Bytes()
		if bw.code != http.StatusOK || len(bytes.TrimSpace(body)) < 2 {
			w.WriteHeader(bw.code)
			w.Write(body)
			return
		}
		if ft.kind == fateTruncate {
			s.count(&s.stats.Truncated)
			// Cut before the last non-space byte, so the JSON is never
			// complete.
			n := len(bytes.TrimRight(body, " \t\r\n"))
			cut := int(ft.at * float64(n-1))
			if ft.variant {
				// The connection closes before Content-Length bytes.
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			} else {
				w.Header().Del("Content-Length")
			}
			w.WriteHeader(http.StatusOK)
			w.Write(body[:cut])
			return
		}
		s.count(&s.stats.Malformed)
		if ft.variant {
			at := int(ft.at * float64(len(body)))
			body = slices.Insert(slices.Clone(body), at, 0)
		} else {
			body = []byte("<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n")
			w.Header().Set("Content-Type", "text/html")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// expireCaller ends the session of the JSON-RPC call r makes, unless it is
// a login, and returns the request body it read. ok is false if the body
// is too large to read.
func (m *Merchant) expireCaller(r *http.Request) (body []byte, ok bool) {
	body, err := readAll(r, 1<<20)
	if err != nil {
		return nil, false
	}
	var req request
	if json.Unmarshal(body, &req) != nil || req.Method == "login" || len(req.Params) == 0 {
		return body, true
	}
	var sid string
	if json.Unmarshal(req.Params[0], &sid) != nil {
		return body, true
	}
	m.mu.Lock()
	_, live := m.sessions[sid]
	delete(m.sessions, sid)
	m.mu.Unlock()
	if live {
		m.faults.count(&m.faults.stats.Expired)
	}
	return body, true
}

func readAll(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// bufferedWriter holds a response so that a fault can spoil it.
type bufferedWriter struct {
	header http.Header
	code   int
	wrote  bool
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wrote {
		b.code, b.wrote = code, true
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.buf.Write(p)
}

// insertedDay returns the sales of day d visible at now, in the order
// searches list them, when orders have been inserted into d. ok is false
// when none have, and the day is generated as usual.
func (m *Merchant) insertedDay(d civil.Date, now time.Time) (sales []*sale, ok bool) {
	s := &m.faults
	if !s.hasInserts.Load() {
		return nil, false
	}
	s.mu.Lock()
	extra := slices.Clone(s.inserted[d])
	s.mu.Unlock()
	if len(extra) == 0 {
		return nil, false
	}
	p := m.plan(d)
	n := p.visible(now)
	sales = make([]*sale, 0, n+len(extra))
	j := 0
	for i := range n {
		placed := p.midnight.Add(time.Duration(p.secs[i]) * time.Second)
		for ; j < len(extra) && extra[j].placed.Before(placed); j++ {
			if !extra[j].placed.After(now) {
				sales = append(sales, extra[j])
			}
		}
		sales = append(sales, m.sale(p, i))
	}
	for ; j < len(extra); j++ {
		if !extra[j].placed.After(now) {
			sales = append(sales, extra[j])
		}
	}
	return sales, true
}

// renderOrders renders sales as the API shows them at now.
func (m *Merchant) renderOrders(sales []*sale, now time.Time) []extract.Order {
	orders := make([]extract.Order, len(sales))
	for i, s := range sales {
		orders[i] = m.order(s, now)
	}
	return orders
}

// appendDaySales continues searchOrders over the sales of one day.
func (m *Merchant) appendDaySales(sales []*sale, f orderFilter, count, offset, limit int, pg *orderPage, now time.Time) (int, int) {
	for _, s := range sales {
		if !f.match(m, s.date, s.index) {
			continue
		}
		count++
		if offset > 0 {
			offset--
			continue
		}
		if len(pg.sales) < limit {
			pg.sales = append(pg.sales, s)
		}
	}
	return count, offset
}

// afterOrderPage inserts an order, if the faults say so, after an order
// search over [from, ...] has served a page whose last item has
// OrderDate lastDate (empty when the page is): on a day from from to that
// of the last item, before the last item.
func (m *Merchant) afterOrderPage(from civil.Date, lastDate string, now time.Time) {
	s := &m.faults
	if !s.on.Load() || lastDate == "" {
		return
	}
	last, err := time.ParseInLocation(extract.DateLayout, lastDate, m.loc)
	if err != nil {
		return
	}
	lastDay := civil.DateOf(last)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats.Inserted >= s.f.Insert || lastDay.Before(from) {
		return
	}
	r := rand.New(rand.NewPCG(s.seed^0x1a5e27, mix(s.inserts)))
	s.inserts++
	d := from.AddDays(r.IntN(lastDay.DaysSince(from) + 1))
	lo, hi := d.In(m.loc), d.AddDays(1).In(m.loc)
	if now.Before(hi) {
		hi = now
	}
	if d == lastDay && last.Before(hi) {
		hi = last
	}
	span := int64(hi.Sub(lo) / time.Second)
	if span <= 0 {
		return
	}
	sec := r.Int64N(span)
	i := m.dayCount(d) + len(s.inserted[d])
	p := m.plan(d)
	p.secs = make([]int64, i+1)
	p.secs[i] = sec
	sl := m.sale(p, i)
	if s.inserted == nil {
		s.inserted = make(map[civil.Date][]*sale)
	}
	day := s.inserted[d]
	k, _ := slices.BinarySearchFunc(day, sl.placed, func(x *sale, t time.Time) int {
		if x.placed.After(t) {
			return 1
		}
		return -1
	})
	s.inserted[d] = slices.Insert(day, k, sl)
	s.stats.Inserted++
	s.hasInserts.Store(true)
}
