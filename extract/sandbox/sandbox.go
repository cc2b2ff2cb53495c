// Package sandbox is a deterministic simulated 2Checkout merchant that speaks
// the JSON-RPC API 6.0 over HTTP (login, searchOrders and
// searchSubscriptions), the REST API 6.0 (GET orders/ and subscriptions/,
// see rest.go) and the legacy Back Office Admin API (sales/list_sales and
// sales/detail_sale, see legacy.go), all three over the same orders.
//
// Every order is generated from (Seed, day, index), so any page of any window
// can be served without generating the days before it, and the same
// configuration always serves the same data. The data evolves with the
// merchant's clock (Config.Now) the way a real account's does: orders appear
// when they are placed, pending orders complete, some are refunded, reversed
// or canceled later, chargebacks open and are resolved days after the order,
// and subscriptions renew and expire. Nothing placed after Now is visible.
//
// Amounts are generated as integer minor units (JPY has none, the other
// currencies two) and sent as exact decimal numbers; an order's amounts are
// the exact sums of its items'.
//
// Renewals do not create orders, and the sandbox sends the fields of the
// extract record types only.
package sandbox

import (
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
)

// Path is the path the JSON-RPC API is served on.
const Path = "/rpc/6.0/"

// Defaults of Config.
const (
	DefaultOrdersPerDay = 200
	DefaultLocation     = "Etc/GMT-2" // GMT+02:00, 2Checkout's default API time zone
	DefaultSessionTTL   = 10 * time.Minute
)

// MaxOrdersPerDay bounds Config.OrdersPerDay.
const MaxOrdersPerDay = 50_000

// Config configures a Merchant.
type Config struct {
	MerchantCode string
	SecretKey    string
	Seed         int64
	// OrdersPerDay is the average number of orders a day; each day varies
	// within ±20% of it. Zero means DefaultOrdersPerDay.
	OrdersPerDay int
	// Since is the first trading day; there are no orders before it.
	// It is required, and must not be before 2000-01-01.
	Since civil.Date
	// Location is the account's API time zone: OrderDate and the other
	// dates are local times in it, and StartDate/EndDate filters compare
	// against its dates. Nil means DefaultLocation.
	Location *time.Location
	// Now is the merchant's clock; nil means time.Now.
	Now func() time.Time
	// SessionTTL is how long a login session lasts; zero means
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// LegacyUser is the API user name of the legacy Admin API, whose
	// password is SecretKey; empty means DefaultLegacyUser.
	LegacyUser string
	// Faults are injected into the merchant's responses, for every
	// protocol (see faults.go); the zero value injects none. SetFaults
	// changes them while serving.
	Faults Faults
	// Dialect switches on real-world variations of the responses (see
	// package extract/dialect); the zero value serves the documented
	// shape. The DSTTimezone dialect replaces Location with
	// dialect.DSTLocation.
	Dialect dialect.Set
}

// A Merchant is a simulated 2Checkout account. It is safe for concurrent
// use.
type Merchant struct {
	code   string
	secret string
	seed   uint64
	perDay int
	since  civil.Date
	loc    *time.Location
	now    func() time.Time
	ttl    time.Duration
	user   string // legacy API user

	mu        sync.Mutex
	sessions  map[string]time.Time // session id to expiry
	subCounts map[civil.Date]int   // subscriptions created by a day's orders
	// settled holds the order searches (see searchKey) whose order has
	// changed status under RefNoStatusChange: they no longer move it.
	settled map[searchKey]bool
	// modified is the last ModifiedAfter search's result.
	modified struct {
		key  modifiedKey
		refs []modifiedRef
	}

	dialect dialect.Set

	faults faultState // see faults.go
	plans  planCache
}

// New returns the merchant cfg describes.
func New(cfg Config) (*Merchant, error) {
	switch {
	case cfg.MerchantCode == "":
		return nil, errors.New("sandbox: MerchantCode is required")
	case cfg.SecretKey == "":
		return nil, errors.New("sandbox: SecretKey is required")
	case cfg.Since.IsZero():
		return nil, errors.New("sandbox: Since is required")
	case !cfg.Since.IsValid() || cfg.Since.Before(civil.Date{Year: 2000, Month: time.January, Day: 1}):
		return nil, fmt.Errorf("sandbox: Since %s is not a valid date from 2000-01-01 on", cfg.Since)
	case cfg.OrdersPerDay < 0 || cfg.OrdersPerDay > MaxOrdersPerDay:
		return nil, fmt.Errorf("sandbox: OrdersPerDay %d is not within 0 to %d", cfg.OrdersPerDay, MaxOrdersPerDay)
	case cfg.SessionTTL < 0:
		return nil, fmt.Errorf("sandbox: negative SessionTTL %v", cfg.SessionTTL)
	}
	m := &Merchant{
		code:      cfg.MerchantCode,
		secret:    cfg.SecretKey,
		seed:      mix(uint64(cfg.Seed)),
		perDay:    cfg.OrdersPerDay,
		since:     cfg.Since,
		loc:       cfg.Location,
		now:       cfg.Now,
		ttl:       cfg.SessionTTL,
		user:      cfg.LegacyUser,
		dialect:   cfg.Dialect,
		sessions:  make(map[string]time.Time),
		subCounts: make(map[civil.Date]int),
		settled:   make(map[searchKey]bool),
	}
	if m.perDay == 0 {
		m.perDay = DefaultOrdersPerDay
	}
	if cfg.Dialect.Has(dialect.DSTTimezone) {
		loc, err := time.LoadLocation(dialect.DSTLocation)
		if err != nil {
			return nil, fmt.Errorf("sandbox: dialect %s: %w", dialect.DSTTimezone, err)
		}
		m.loc = loc
	}
	if m.loc == nil {
		loc, err := time.LoadLocation(DefaultLocation)
		if err != nil {
			loc = time.FixedZone("GMT+02:00", 2*60*60)
		}
		m.loc = loc
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.ttl == 0 {
		m.ttl = DefaultSessionTTL
	}
	if m.user == "" {
		m.user = DefaultLegacyUser
	}
	if err := m.SetFaults(cfg.Faults); err != nil {
		return nil, err
	}
	return m, nil
}

// Location returns the merchant's API time zone.
func (m *Merchant) Location() *time.Location { return m.loc }

// today is the date at now in the API time zone.
func (m *Merchant) today(now time.Time) civil.Date { return civil.DateOf(now.In(m.loc)) }

// OrdersOn returns the orders placed on day (in the API time zone), test
// orders included, as they are at Now, in RefNo order, decoded as a
// client decodes them.
func (m *Merchant) OrdersOn(day civil.Date) []extract.Order {
	now := m.now()
	if sales, ok := m.insertedDay(day, now); ok {
		return decodeOrders(m.renderOrders(sales, now))
	}
	p := m.plan(day)
	n := p.visible(now)
	orders := make([]wireOrder, n)
	for i := range n {
		orders[i] = m.order(m.sale(p, i), now)
	}
	return decodeOrders(orders)
}

// Subscriptions returns the subscriptions searchable at Now, in the order
// searchSubscriptions pages through them: by purchase, then order line.
func (m *Merchant) Subscriptions() iter.Seq[extract.Subscription] {
	return func(yield func(extract.Subscription) bool) {
		now := m.now()
		for d := m.since; !d.After(m.today(now)); d = d.AddDays(1) {
			for _, ref := range m.daySubscriptions(d, now) {
				if !yield(decodeRecord[extract.Subscription](m.subscription(ref.sale, ref.line, now))) {
					return
				}
			}
		}
	}
}

// ExpireSessions ends every login session, as if they had all timed out:
// the next call with one of them fails with INVALID_SESSION.
func (m *Merchant) ExpireSessions() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.sessions)
}

// orderFilter selects orders by date (inclusive) and IncludeTestOrders.
type orderFilter struct {
	from, to civil.Date
	test     string // YES, NO or ONLY
}

func (f orderFilter) match(m *Merchant, d civil.Date, i int) bool {
	switch f.test {
	case "YES":
		return true
	case "ONLY":
		return m.isTest(d, i)
	default:
		return !m.isTest(d, i)
	}
}

// clamp limits the filter's dates to the days that can have visible orders.
func (m *Merchant) clamp(from, to civil.Date, now time.Time) (civil.Date, civil.Date) {
	if from.Before(m.since) {
		from = m.since
	}
	if t := m.today(now); to.After(t) {
		to = t
	}
	return from, to
}

// afterPage lets the faults insert an order once a page of the search f
// has been found.
func (m *Merchant) afterPage(f orderFilter, pg *orderPage, now time.Time) {
	from, _ := m.clamp(f.from, f.to, now)
	last := ""
	if n := len(pg.sales); n > 0 {
		last = pg.sales[n-1].placed.In(m.loc).Format(extract.DateLayout)
	}
	m.afterOrderPage(from, last, now)
}

// findOrders returns the total number of orders f selects at now, and
// puts those at positions [offset, offset+limit) in pg.sales: the default
// dialect's order search, by OrderDate, in OrderDate order. The caller
// calls afterPage once the page is found.
func (m *Merchant) findOrders(f orderFilter, offset, limit int, now time.Time, pg *orderPage) (count int) {
	from, to := m.clamp(f.from, f.to, now)
	for d := from; !d.After(to); d = d.AddDays(1) {
		if sales, ok := m.insertedDay(d, now); ok {
			count, offset = m.appendDaySales(sales, f, count, offset, limit, pg, now)
			continue
		}
		n := m.visibleCount(d, now)
		c := n
		if f.test != "YES" {
			c = 0
			for i := range n {
				if f.match(m, d, i) {
					c++
				}
			}
		}
		count += c
		if offset >= c {
			offset -= c
			continue
		}
		if len(pg.sales) == limit {
			continue
		}
		p := m.plan(d)
		start := 0
		if f.test == "YES" {
			// Every order matches: skip to the offset.
			start, offset = offset, 0
		}
		for i := start; i < n; i++ {
			if len(pg.sales) == limit {
				break
			}
			if !f.match(m, d, i) {
				continue
			}
			if offset > 0 {
				offset--
				continue
			}
			s := pg.next()
			m.fillSale(s, &p, i, &pg.rng)
			pg.sales = append(pg.sales, s)
		}
	}
	return count
}

// subRef is one subscription: a line of a sale.
type subRef struct {
	sale *sale
	line int
}

// daySubscriptions returns the subscriptions bought on d that are searchable
// at now, in order.
func (m *Merchant) daySubscriptions(d civil.Date, now time.Time) []subRef {
	p := m.plan(d)
	n := p.visible(now)
	var refs []subRef
	for i := range n {
		s := m.sale(p, i)
		if !s.createsSubscriptions() || now.Before(s.subscriptionVisibleAt()) {
			continue
		}
		for k, l := range s.lines {
			if l.sub.ok {
				refs = append(refs, subRef{s, k})
			}
		}
	}
	return refs
}

// subscriptionCount returns how many subscriptions bought on d are
// searchable at now. Counts of days whose subscriptions are all searchable
// are cached, so that paging does not regenerate history.
func (m *Merchant) subscriptionCount(d civil.Date, now time.Time) int {
	settled := d.AddDays(1).In(m.loc).Add(maxSubVisibleLag)
	if now.Before(settled) {
		return len(m.daySubscriptions(d, now))
	}
	m.mu.Lock()
	n, ok := m.subCounts[d]
	m.mu.Unlock()
	if ok {
		return n
	}
	n = len(m.daySubscriptions(d, now))
	m.mu.Lock()
	m.subCounts[d] = n
	m.mu.Unlock()
	return n
}

// searchSubscriptions returns the number of subscriptions bought within
// [from, to] searchable at now, and those at positions [offset,
// offset+limit).
func (m *Merchant) searchSubscriptions(from, to civil.Date, offset, limit int, now time.Time) (count int, items []wireSubscription) {
	from, to = m.clamp(from, to, now)
	for d := from; !d.After(to); d = d.AddDays(1) {
		c := m.subscriptionCount(d, now)
		count += c
		if offset >= c {
			offset -= c
			continue
		}
		if len(items) == limit {
			continue
		}
		refs := m.daySubscriptions(d, now)[offset:]
		offset = 0
		for _, ref := range refs {
			if len(items) == limit {
				break
			}
			items = append(items, m.subscription(ref.sale, ref.line, now))
		}
	}
	return count, items
}
