package sandbox

// Order pages are the bulk of what the sandbox serves, so they are encoded
// by hand, straight from the sales into a reused buffer, rather than
// rendered as extract.Order values and encoded by reflection. The bytes are
// those json.Encoder writes for m.order(s, now), newline after each item
// included; TestAppendOrder holds the two to that.

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ledgerline/ledgerline/extract"
)

// maxPageBuffer is the largest page buffer kept for reuse: a page of 200
// orders is about 220 KB.
const maxPageBuffer = 1 << 20

// orderPage is the reusable memory of serving one page of orders.
type orderPage struct {
	store []sale  // sales generated for the page
	sales []*sale // the page's sales: in store, or inserted by the faults
	buf   []byte
	rng   rng
}

var orderPages = sync.Pool{New: func() any { return new(orderPage) }}

func getOrderPage() *orderPage { return orderPages.Get().(*orderPage) }

func putOrderPage(p *orderPage) {
	if cap(p.buf) > maxPageBuffer || cap(p.store) > 4*maxLimit {
		return
	}
	clear(p.sales[:cap(p.sales)])
	p.sales = p.sales[:0]
	p.store = p.store[:0] // their lines are reused
	p.buf = p.buf[:0]
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

// writeOrders writes head, the page's orders as they are at now separated
// by commas, and tail, to w: encoded whole first, and written at once, one
// chunk, which costs the server and the client fewer system calls than a
// stream of small chunks. The response still ends only when the handler
// returns, as it did.
func (m *Merchant) writeOrders(w http.ResponseWriter, p *orderPage, head, tail string, now time.Time) {
	b := append(p.buf[:0], head...)
	for i, s := range p.sales {
		if i > 0 {
			b = append(b, ',')
		}
		b = m.appendOrder(b, s, now)
		b = append(b, '\n')
	}
	b = append(b, tail...)
	p.buf = b
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// appendOrder appends the JSON of m.order(s, now) to b.
func (m *Merchant) appendOrder(b []byte, s *sale, now time.Time) []byte {
	cur := &currencies[s.cur]
	v := s.state(now)
	b = append(b, `{"RefNo":"`...)
	b = strconv.AppendUint(b, s.ref, 10)
	b = append(b, '"')
	b = append(b, `,"OrderNo":`...)
	b = strconv.AppendInt(b, s.orderNo, 10)
	b = append(b, `,"ExternalReference":"`...)
	if s.extRef != 0 {
		b = append(b, "INV-"...)
		b = strconv.AppendInt(b, int64(s.extRef), 10)
	}
	b = append(b, '"')
	b = append(b, `,"Status":`...)
	b = appendString(b, v.status)
	b = append(b, `,"ApproveStatus":`...)
	b = appendString(b, v.approve)
	b = append(b, `,"OrderDate":"`...)
	b = s.placed.In(m.loc).AppendFormat(b, extract.DateLayout)
	b = append(b, `","FinishDate":"`...)
	if v.finished {
		b = s.finish.In(m.loc).AppendFormat(b, extract.DateLayout)
	}
	b = append(b, `","Currency":`...)
	b = appendString(b, cur.code)
	b = append(b, `,"Country":`...)
	b = appendString(b, s.country)
	b = append(b, `,"TestOrder":`...)
	b = strconv.AppendBool(b, s.test)
	b = append(b, `,"CustomerReference":`...)
	b = strconv.AppendInt(b, s.customer, 10)
	b = append(b, `,"Affiliate":`...)
	if s.affiliate != "" {
		b = append(b, `{"AffiliateCode":`...)
		b = appendString(b, s.affiliate)
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}

	var total amounts
	for _, l := range s.lines {
		total = total.plus(l.unit.times(l.qty))
	}
	b = append(b, `,"NetPrice":`...)
	b = appendDecimal(b, total.net, cur.exp)
	b = append(b, `,"GrossPrice":`...)
	b = appendDecimal(b, total.gross, cur.exp)
	b = append(b, `,"NetDiscountedPrice":`...)
	b = appendDecimal(b, total.netDisc, cur.exp)
	b = append(b, `,"GrossDiscountedPrice":`...)
	b = appendDecimal(b, total.grossDisc, cur.exp)
	b = append(b, `,"Discount":`...)
	b = appendDecimal(b, total.discount, cur.exp)
	b = append(b, `,"VAT":`...)
	b = appendDecimal(b, total.vat, cur.exp)
	b = append(b, `,"AffiliateCommission":`...)
	b = appendDecimal(b, total.affiliate, cur.exp)
	b = append(b, `,"AvangateCommission":`...)
	b = appendDecimal(b, roundDiv(total.grossDisc*490, 10000)+cur.fixedFee, cur.exp)
	b = append(b, `,"ChargebackResolution":`...)
	b = appendString(b, v.cbResolution)
	b = append(b, `,"ChargebackReasonCode":`...)
	b = appendString(b, v.cbReason)

	b = append(b, `,"Items":[`...)
	for k, l := range s.lines {
		if k > 0 {
			b = append(b, ',')
		}
		a := l.unit.times(l.qty)
		b = append(b, `{"Code":`...)
		b = appendString(b, l.product.code)
		b = append(b, `,"ProductDetails":{"Name":`...)
		b = appendString(b, l.product.name)
		b = append(b, `},"SKU":"SKU-`...)
		b = appendStringBody(b, l.product.code)
		b = append(b, `","Quantity":`...)
		b = strconv.AppendInt(b, l.qty, 10)
		b = append(b, `,"Price":{"Currency":`...)
		b = appendString(b, cur.code)
		for _, f := range [...]struct {
			name string
			v    int64
		}{
			{`,"NetPrice":`, a.net},
			{`,"GrossPrice":`, a.gross},
			{`,"NetDiscountedPrice":`, a.netDisc},
			{`,"GrossDiscountedPrice":`, a.grossDisc},
			{`,"Discount":`, a.discount},
			{`,"VAT":`, a.vat},
			{`,"AffiliateCommission":`, a.affiliate},
			{`,"UnitNetPrice":`, l.unit.net},
			{`,"UnitGrossPrice":`, l.unit.gross},
			{`,"UnitVAT":`, l.unit.vat},
			{`,"UnitDiscount":`, l.unit.discount},
			{`,"UnitNetDiscountedPrice":`, l.unit.netDisc},
			{`,"UnitGrossDiscountedPrice":`, l.unit.grossDisc},
			{`,"UnitAffiliateCommission":`, l.unit.affiliate},
		} {
			b = append(b, f.name...)
			b = appendDecimal(b, f.v, cur.exp)
		}
		b = append(b, "}}"...)
	}
	return append(b, "]}"...)
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it.
func appendString(b []byte, s string) []byte {
	if !plain(s) {
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendStringBody appends s to a JSON string.
func appendStringBody(b []byte, s string) []byte {
	if !plain(s) {
		q, _ := json.Marshal(s)
		return append(b, q[1:len(q)-1]...)
	}
	return append(b, s...)
}

// plain reports whether s needs no escaping in a JSON string that
// encoding/json writes: printable ASCII other than the quote, the
// backslash and the HTML characters it escapes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= utf8.RuneSelf, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// pow10 are the powers of ten up to the largest currency exponent.
var pow10 = [...]int64{1, 10, 100, 1000, 10000}

// appendDecimal appends v minor units with exp decimal places as
// decimal(v, exp) formats them: without trailing zeros, 1990 with 2 places
// is 19.9 and 2000 is 20.
func appendDecimal(b []byte, v int64, exp int) []byte {
	if exp == 0 {
		return strconv.AppendInt(b, v, 10)
	}
	if exp < 0 || exp >= len(pow10) {
		return append(b, decimal(v, exp)...)
	}
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/pow10[exp], 10)
	f := v % pow10[exp]
	if f == 0 {
		return b
	}
	n := exp
	for f%10 == 0 {
		f /= 10
		n--
	}
	b = append(b, '.')
	for k := n - 1; k >= 0; k-- {
		b = append(b, byte('0'+f/pow10[k]%10))
	}
	return b
}
