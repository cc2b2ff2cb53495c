package sandbox

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/civil"
)

// The generator derives every fact from (Seed, day, index) through a hash,
// so that any day, and any order of it, can be generated on its own.
//
// A day's plan (how many orders, at which seconds of the day) comes from the
// day's own generator; each order's facts from the order's. Facts never
// depend on the clock: rendering applies the clock (statuses, chargebacks,
// subscription renewals evolve with Now).

// Hash domains, so that different uses of (day, index) draw independent
// numbers.
const (
	kindDay uint64 = iota + 1
	kindOrder
	kindTest
	kindSubRef
	kindCustomer
)

// epoch is day 0 of the day ordinals.
var epoch = civil.Date{Year: 1970, Month: time.January, Day: 1}

// mix is the SplitMix64 finalizer: a bijective 64-bit mixer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (m *Merchant) hash(kind, day, i uint64) uint64 {
	return mix(m.seed ^ mix(kind<<56^day<<24^i))
}

func (m *Merchant) rng(kind, day, i uint64) *rand.Rand {
	var g rng
	return g.seed(m, kind, day, i)
}

// rng is a reusable generator: seeding it again draws the numbers a new
// m.rng would, without allocating.
type rng struct {
	pcg rand.PCG
	r   *rand.Rand
}

func (g *rng) seed(m *Merchant, kind, day, i uint64) *rand.Rand {
	h := m.hash(kind, day, i)
	g.pcg.Seed(h, mix(h^0x9e3779b97f4a7c15))
	if g.r == nil {
		g.r = rand.New(&g.pcg)
	}
	return g.r
}

func ordinal(d civil.Date) uint64 { return uint64(d.DaysSince(epoch)) }

// Order statuses.
const (
	statusAuthReceived = "AUTHRECEIVED"
	statusPending      = "PENDING"
	statusComplete     = "COMPLETE"
	statusCanceled     = "CANCELED"
	statusReversed     = "REVERSED"
	statusRefund       = "REFUND"
)

// Chargeback resolutions.
const (
	cbNone     = "NONE"
	cbOpen     = "OPEN"
	cbWon      = "WON"
	cbLost     = "LOST"
	cbAccepted = "ACCEPTED"
)

type currency struct {
	code      string
	exp       int   // decimal places of the minor unit
	fixedFee  int64 // 2Checkout's fixed fee per order, minor units
	weight    int
	countries []string
}

// currencies are the payment currencies; the index is used in product.prices.
var currencies = [...]currency{
	{"USD", 2, 45, 45, []string{"US", "US", "US", "US", "US", "CA", "AU", "BR", "MX"}},
	{"EUR", 2, 45, 25, []string{"DE", "DE", "DE", "FR", "FR", "NL", "ES", "IT", "IE", "AT"}},
	{"GBP", 2, 40, 12, []string{"GB"}},
	{"RON", 2, 200, 8, []string{"RO"}},
	{"JPY", 0, 60, 10, []string{"JP"}},
}

// vatRates are in basis points.
var vatRates = map[string]int64{
	"US": 0, "CA": 500, "AU": 1000, "BR": 0, "MX": 1600,
	"DE": 1900, "FR": 2000, "NL": 2100, "ES": 2100, "IT": 2200, "IE": 2300, "AT": 2000,
	"GB": 2000, "RO": 1900, "JP": 1000,
}

type period int

const (
	noPeriod period = iota // not a subscription product
	monthly
	yearly
	lifetime
)

type product struct {
	code, name string
	period     period
	weight     int
	prices     [len(currencies)]int64 // unit net price in minor units, by currency
}

var products = [...]product{
	{"LL-STARTER-M", "Ledgerline Starter (monthly)", monthly, 20, [...]int64{900, 900, 800, 4500, 1400}},
	{"LL-PRO-M", "Ledgerline Pro (monthly)", monthly, 25, [...]int64{2900, 2699, 2399, 13999, 4400}},
	{"LL-PRO-Y", "Ledgerline Pro (yearly)", yearly, 12, [...]int64{29000, 26990, 23990, 139990, 44000}},
	{"LL-TEAM-Y", "Ledgerline Team (yearly, per seat)", yearly, 6, [...]int64{99000, 91990, 81990, 469990, 150000}},
	{"LL-LIFE", "Ledgerline Lifetime licence", lifetime, 3, [...]int64{49900, 46900, 41900, 239900, 76000}},
	{"LL-STORAGE-M", "Extra storage 100 GB (monthly)", monthly, 8, [...]int64{499, 499, 449, 2399, 750}},
	{"LL-GUIDE", "Ledgerline Field Guide (e-book)", noPeriod, 12, [...]int64{1999, 1899, 1699, 9499, 2980}},
	{"LL-SUPPORT", "Priority support incident", noPeriod, 8, [...]int64{4900, 4500, 3900, 22900, 7400}},
	{"LL-ONBOARD", "Onboarding session (1 hour)", noPeriod, 6, [...]int64{14900, 13900, 11900, 69900, 22500}},
}

var (
	affiliateCodes = []string{"AFF-TECHREVIEW", "AFF-SAASDEALS", "AFF-LEDGERPROS", "AFF-ACCTBLOG", "AFF-YT42"}
	reasonCodes    = []string{"FRAUD", "PRODUCT_NOT_RECEIVED", "NOT_AS_DESCRIBED", "DUPLICATE_PROCESSING", "CREDIT_NOT_PROCESSED", "CANCELED_RECURRING", "UNRECOGNIZED"}
	firstNames     = []string{"Ana", "Bogdan", "Chloe", "Daniel", "Elena", "Felix", "Greta", "Hiro", "Ioana", "James", "Kenji", "Laura", "Mihai", "Nora", "Oliver", "Paula", "Quentin", "Rosa", "Sven", "Yuki"}
	lastNames      = []string{"Anderson", "Becker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ionescu", "Jansen", "Kato", "Lopez", "Moreau", "Novak", "Popescu", "Rossi", "Schmidt", "Tanaka", "Walsh", "Young"}
)

// Timing bounds the generator keeps to.
const (
	maxFinishDelay   = 3 * time.Hour   // order placed to finished
	subscriptionLag  = 5 * time.Minute // order placed to subscription searchable
	maxSubVisibleLag = maxFinishDelay  // >= subscriptionLag
	day              = 24 * time.Hour
)

// sale holds the facts of one order, independent of the clock.
type sale struct {
	date    civil.Date
	index   int
	ref     uint64 // RefNo, see refNo
	orderNo int64
	placed  time.Time
	test    bool

	final  string    // the status the order ends in
	finish time.Time // when it completed; zero if it never does
	ended  time.Time // when it was canceled, refunded or reversed; zero if never
	reject string    // ApproveStatus of a canceled order

	cur         int
	country     string // as sent, sometimes lower-case
	customer    int64
	extRef      int // ExternalReference number, see externalRef; 0 for none
	affiliate   string
	affRate     int64 // basis points
	discountPct int64 // percent
	lines       []line

	cbOpen, cbResolve time.Time // zero if no chargeback
	cbResolution      string
	cbReason          string
}

type line struct {
	product *product
	qty     int64
	unit    amounts
	sub     subscriptionFacts
}

// amounts are the price fields of a line or unit, in minor units.
type amounts struct {
	net, gross, netDisc, grossDisc, discount, vat, affiliate int64
}

func (a amounts) times(q int64) amounts {
	return amounts{a.net * q, a.gross * q, a.netDisc * q, a.grossDisc * q, a.discount * q, a.vat * q, a.affiliate * q}
}

func (a amounts) plus(b amounts) amounts {
	return amounts{a.net + b.net, a.gross + b.gross, a.netDisc + b.netDisc, a.grossDisc + b.grossDisc,
		a.discount + b.discount, a.vat + b.vat, a.affiliate + b.affiliate}
}

type subscriptionFacts struct {
	ok        bool // the line is a subscription, see subscriptionRef
	recurring bool
	// stopAfter is the number of renewals after which the customer turns
	// automatic renewal off; -1 for never.
	stopAfter int
}

// refNo returns the order's RefNo.
func (s *sale) refNo() string { return strconv.FormatUint(s.ref, 10) }

// externalRef returns the order's ExternalReference, "" if it has none.
func (s *sale) externalRef() string {
	if s.extRef == 0 {
		return ""
	}
	return "INV-" + strconv.Itoa(s.extRef)
}

// dayCount returns the number of orders placed on d, at any time.
func (m *Merchant) dayCount(d civil.Date) int {
	if d.Before(m.since) {
		return 0
	}
	return m.dayRNGCount(m.rng(kindDay, ordinal(d), 0))
}

func (m *Merchant) dayRNGCount(r *rand.Rand) int {
	return m.perDay * (800 + r.IntN(401)) / 1000
}

// dayPlan is when a day's orders are placed.
type dayPlan struct {
	date     civil.Date
	midnight time.Time
	end      time.Time // next midnight
	secs     []int64   // seconds after midnight, ascending, one per order
}

// planCacheSize is how many day plans a merchant keeps. Paging goes through
// the days of a window in order, and a few searches may page at once.
const planCacheSize = 8

// planCache holds the plans of the days planned last, so that paging through
// a day plans it once rather than for every page: a plan sorts the day's
// order times. Plans never change: they depend on the seed and the day only.
type planCache struct {
	mu    sync.Mutex
	next  int // slot to replace next
	slots [planCacheSize]struct {
		ok   bool
		date civil.Date
		plan dayPlan
	}
}

// plan returns the plan of day d. The plan's secs must not be modified.
func (m *Merchant) plan(d civil.Date) dayPlan {
	c := &m.plans
	c.mu.Lock()
	p, ok := c.get(d)
	c.mu.Unlock()
	if ok {
		return p
	}
	p = m.newPlan(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if q, ok := c.get(d); ok {
		// Planned meanwhile by another request.
		return q
	}
	s := &c.slots[c.next]
	s.ok, s.date, s.plan = true, d, p
	c.next = (c.next + 1) % planCacheSize
	return p
}

// get returns the cached plan of d, if there is one. c.mu must be held.
func (c *planCache) get(d civil.Date) (dayPlan, bool) {
	for i := range c.slots {
		if s := &c.slots[i]; s.ok && s.date == d {
			return s.plan, true
		}
	}
	return dayPlan{}, false
}

// newPlan plans day d.
func (m *Merchant) newPlan(d civil.Date) dayPlan {
	p := dayPlan{date: d, midnight: d.In(m.loc), end: d.AddDays(1).In(m.loc)}
	if d.Before(m.since) {
		return p
	}
	r := m.rng(kindDay, ordinal(d), 0)
	n := m.dayRNGCount(r)
	span := int64(p.end.Sub(p.midnight) / time.Second)
	p.secs = make([]int64, n)
	for i := range p.secs {
		p.secs[i] = r.Int64N(span)
	}
	slices.Sort(p.secs)
	return p
}

// visible returns how many of the day's orders are placed at or before now.
func (p dayPlan) visible(now time.Time) int {
	if !now.Before(p.end) {
		return len(p.secs)
	}
	if now.Before(p.midnight) {
		return 0
	}
	s := int64(now.Sub(p.midnight) / time.Second)
	n, _ := slices.BinarySearchFunc(p.secs, s, func(a, b int64) int {
		if a <= b {
			return -1
		}
		return 1
	})
	return n
}

// visibleCount is len of the visible prefix of d's orders, without
// planning the day unless now falls within it.
func (m *Merchant) visibleCount(d civil.Date, now time.Time) int {
	if !now.Before(d.AddDays(1).In(m.loc)) {
		return m.dayCount(d)
	}
	if now.Before(d.In(m.loc)) {
		return 0
	}
	return m.plan(d).visible(now)
}

func (m *Merchant) isTest(d civil.Date, i int) bool {
	return m.hash(kindTest, ordinal(d), uint64(i))%1000 < 30
}

// sale generates the facts of order i of the day p.
func (m *Merchant) sale(p dayPlan, i int) *sale {
	s := new(sale)
	m.fillSale(s, &p, i, new(rng))
	return s
}

// fillSale generates the facts of order i of the day p into s, reusing the
// memory of its lines, and g.
func (m *Merchant) fillSale(s *sale, p *dayPlan, i int, g *rng) {
	ord := ordinal(p.date)
	r := g.seed(m, kindOrder, ord, uint64(i))
	*s = sale{
		date:    p.date,
		index:   i,
		ref:     ord*100000 + uint64(i) + 1,
		orderNo: int64(p.date.DaysSince(m.since))*100000 + int64(i) + 1,
		placed:  p.midnight.Add(time.Duration(p.secs[i]) * time.Second),
		test:    m.isTest(p.date, i),
		lines:   s.lines[:0],
	}

	drawStatus(s, r)
	vat := m.drawShopper(s, r)
	drawLines(s, r, vat)
	drawChargeback(s, r)
}

// drawStatus draws the final status of s and its timeline.
func drawStatus(s *sale, r *rand.Rand) {
	switch x := r.IntN(1000); {
	case x < 820:
		s.final = statusComplete
	case x < 860:
		s.final = statusRefund
	case x < 870:
		s.final = statusReversed
	case x < 910:
		s.final = statusCanceled
	case x < 960:
		s.final = statusPending
	default:
		s.final = statusAuthReceived
	}
	switch s.final {
	case statusComplete, statusRefund, statusReversed:
		var delay time.Duration
		switch x := r.IntN(100); {
		case x < 70:
			delay = time.Duration(5+r.IntN(600)) * time.Second
		case x < 95:
			delay = time.Duration(10+r.IntN(50)) * time.Minute
		default:
			delay = time.Hour + time.Duration(r.Int64N(int64(2*time.Hour)))
		}
		s.finish = s.placed.Add(delay)
		switch s.final {
		case statusRefund:
			s.ended = s.finish.Add(day + time.Duration(r.Int64N(int64(29*day))))
		case statusReversed:
			s.ended = s.finish.Add(2*day + time.Duration(r.Int64N(int64(12*day))))
		}
	case statusCanceled:
		s.ended = s.placed.Add(30*time.Minute + time.Duration(r.Int64N(int64(72*time.Hour))))
		s.reject = [...]string{"FRAUD", "INVALIDDATA", "WAITING"}[r.IntN(3)]
	}
}

// drawShopper draws the currency, country, customer, external reference,
// affiliate and discount of s, and returns the VAT rate of the country, in
// basis points.
func (m *Merchant) drawShopper(s *sale, r *rand.Rand) int64 {
	s.cur = pickCurrency(r)
	cur := &currencies[s.cur]
	s.country = cur.countries[r.IntN(len(cur.countries))]
	vat := vatRates[s.country]
	if r.IntN(100) < 3 {
		s.country = strings.ToLower(s.country)
	}
	s.customer = 5_000_000 + int64(r.IntN(max(1000, m.perDay*60)))
	if r.IntN(100) < 30 {
		s.extRef = 10_000_000 + r.IntN(90_000_000)
	}
	if r.IntN(100) < 20 {
		s.affiliate = affiliateCodes[r.IntN(len(affiliateCodes))]
		s.affRate = [...]int64{1000, 1500, 2000, 3000}[r.IntN(4)]
	}
	if r.IntN(100) < 15 {
		s.discountPct = [...]int64{10, 15, 20, 25, 50}[r.IntN(5)]
	}
	return vat
}

// drawLines draws the lines of s, reusing their memory, with VAT at vat
// basis points.
func drawLines(s *sale, r *rand.Rand, vat int64) {
	n := 1
	switch x := r.IntN(100); {
	case x >= 92:
		n = 3
	case x >= 70:
		n = 2
	}
	if cap(s.lines) < n {
		s.lines = make([]line, 0, n)
	}
	for len(s.lines) < n {
		pr := pickProduct(r)
		if slices.ContainsFunc(s.lines, func(l line) bool { return l.product == pr }) {
			continue
		}
		l := line{product: pr, qty: 1}
		if r.IntN(100) >= 85 || pr.code == "LL-TEAM-Y" && r.IntN(2) == 0 {
			l.qty = 2 + r.Int64N(4)
		}
		un := pr.prices[s.cur]
		netDisc := un - roundDiv(un*s.discountPct, 100)
		vatFull := roundDiv(un*vat, 10000)
		vatDisc := roundDiv(netDisc*vat, 10000)
		l.unit = amounts{
			net:       un,
			gross:     un + vatFull,
			netDisc:   netDisc,
			grossDisc: netDisc + vatDisc,
			discount:  un + vatFull - (netDisc + vatDisc),
			vat:       vatDisc,
			affiliate: roundDiv(netDisc*s.affRate, 10000),
		}
		if pr.period != noPeriod {
			l.sub.ok = true
			if pr.period != lifetime && r.IntN(100) < 75 {
				l.sub.recurring = true
				l.sub.stopAfter = -1
				if r.IntN(100) < 60 {
					l.sub.stopAfter = r.IntN(12)
				}
			}
		}
		s.lines = append(s.lines, l)
	}
}

// drawChargeback draws the chargeback of s: only on real orders that stay
// complete.
func drawChargeback(s *sale, r *rand.Rand) {
	if s.final == statusComplete && !s.test && r.IntN(1000) < 18 {
		s.cbOpen = s.finish.Add(day + time.Duration(r.Int64N(int64(20*day))))
		s.cbResolve = s.cbOpen.Add(3*day + time.Duration(r.Int64N(int64(18*day))))
		switch x := r.IntN(100); {
		case x < 40:
			s.cbResolution = cbWon
		case x < 75:
			s.cbResolution = cbLost
		default:
			s.cbResolution = cbAccepted
		}
		s.cbReason = reasonCodes[r.IntN(len(reasonCodes))]
	}
}

func pickCurrency(r *rand.Rand) int {
	x := r.IntN(100)
	for i, c := range currencies {
		if x < c.weight {
			return i
		}
		x -= c.weight
	}
	return 0
}

func pickProduct(r *rand.Rand) *product {
	total := 0
	for _, p := range products {
		total += p.weight
	}
	x := r.IntN(total)
	for i := range products {
		if x < products[i].weight {
			return &products[i]
		}
		x -= products[i].weight
	}
	return &products[0]
}

// roundDiv returns a/b rounded half up, for non-negative a and positive b.
func roundDiv(a, b int64) int64 { return (2*a + b) / (2 * b) }

const refAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func (m *Merchant) subscriptionRef(ord uint64, i, lineNo int) string {
	h := m.hash(kindSubRef, ord, uint64(i)<<2|uint64(lineNo))
	var b [10]byte
	for k := range b {
		b[k] = refAlphabet[h&31]
		h >>= 5
	}
	return string(b[:])
}

// decimal formats v minor units with exp decimal places as a JSON number,
// without trailing zeros, as a floating-point encoder would send it:
// 1990 with 2 places is "19.9", 2000 is "20".
func decimal(v int64, exp int) json.Number {
	var buf [40]byte
	return json.Number(appendDecimal(buf[:0], v, exp))
}

// appendDecimal appends v minor units with exp decimal places to b,
// without trailing zeros: 1990 with 2 places is 19.9, 2000 is 20.
func appendDecimal(b []byte, v int64, exp int) []byte {
	neg := v < 0
	u := uint64(v)
	if neg {
		b = append(b, '-')
		u = -u
	}
	start := len(b)
	b = strconv.AppendUint(b, u, 10)
	if exp <= 0 {
		return b
	}
	if n := len(b) - start; n <= exp {
		// Pad to one digit before the point: 5 with 2 places is 0.05.
		pad := exp - n + 1
		b = append(b, make([]byte, pad)...)
		copy(b[start+pad:], b[start:start+n])
		for k := range pad {
			b[start+k] = '0'
		}
	}
	point := len(b) - exp
	b = append(b, 0)
	copy(b[point+1:], b[point:len(b)-1])
	b[point] = '.'
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

func integer(v int64) json.Number { return json.Number(strconv.FormatInt(v, 10)) }
