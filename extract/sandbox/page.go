package sandbox

import (
	"sync"
	"time"
)

// orderPage is the reusable memory of serving one page of orders.
type orderPage struct {
	store  []sale  // sales generated for the page
	sales  []*sale // the page's sales: in store, or inserted by the faults
	orders []wireOrder
	nums   numbers
	rng    rng
}

var orderPages = sync.Pool{New: func() any { return new(orderPage) }}

func getOrderPage() *orderPage { return orderPages.Get().(*orderPage) }

func putOrderPage(p *orderPage) {
	if cap(p.store) > 4*maxLimit {
		return
	}
	clear(p.sales[:cap(p.sales)])
	p.sales = p.sales[:0]
	p.store = p.store[:0] // their lines are reused
	clear(p.orders[:cap(p.orders)])
	p.orders = p.orders[:0]
	orderPages.Put(p)
}

// next returns a sale of the page's store to generate a sale into. The
// pointers it returned before stay valid.
func (p *orderPage) next() *sale {
	if len(p.store) == cap(p.store) {
		// Start a new block; sales already handed out keep the old one.
		p.store = make([]sale, 0, max(maxLimit, 2*cap(p.store)))
	}
	p.store = p.store[:len(p.store)+1]
	return &p.store[len(p.store)-1]
}

// orders renders the page's sales as the API shows them at now.
func (m *Merchant) orders(p *orderPage, now time.Time) []wireOrder {
	p.orders = p.orders[:0]
	for _, s := range p.sales {
		p.orders = append(p.orders, m.renderOrder(s, now, &p.nums))
	}
	return p.orders
}
