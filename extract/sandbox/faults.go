package sandbox

import (
	"bytes"
	"encoding/json"
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
	"github.com/ledgerline/ledgerline/extract/faults"
)

// Faults makes the merchant misbehave the way a real API does now and
// then; see faults.Spec.
type Faults = faults.Spec

// Defaults of Faults.
const (
	DefaultRetryAfter = faults.DefaultRetryAfter
	DefaultSlowDelay  = faults.DefaultSlowDelay
)

// ParseFaults parses a fault specification; see faults.Parse.
func ParseFaults(spec string) (Faults, error) { return faults.Parse(spec) }

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
		if ft.slow > 0 && !hold(r, ft.slow) {
			return
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
		s.spoil(w, r, next, ft)
	})
}

// hold holds request r for d before it is served, and reports whether the
// client is still waiting for it.
func hold(r *http.Request, d time.Duration) bool {
	// Read the body first: the server notices a client that hangs up, and
	// cancels r's context, only once the body is read.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return false
	}
	r.Body = readCloser{bytes.NewReader(body)}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// spoil serves r with next and writes the response, a 200 OK one cut
// short or made not JSON as fate ft says.
func (s *faultState) spoil(w http.ResponseWriter, r *http.Request, next http.Handler, ft fate) {
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
func (m *Merchant) renderOrders(sales []*sale, now time.Time) []wireOrder {
	orders := make([]wireOrder, len(sales))
	for i, s := range sales {
		orders[i] = m.order(s, now)
	}
	return orders
}

// appendDaySales continues findOrders over the sales of one day.
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
