// Package orderjson decodes API 6.0 search results of orders, the bulk of
// what the extractors read, several times faster than encoding/json and
// with a fraction of its allocations, into the same values.
//
// A search result is the object {"Items":[...],"Pagination":{"Page":N,
// "Limit":N,"Count":N}}: the body of a REST search, and the result of a
// JSON-RPC one. The Decoder decodes it as encoding/json decodes it into
//
//	struct {
//		Items      []extract.Order
//		Pagination struct{ Page, Limit, Count int }
//	}
//
// from zero values, numbers as json.Number, exactly as sent. It takes only
// the path it can take exactly: anything else (a syntax error, a value of
// the wrong type, a key that matches a field only case-insensitively or
// only after unescaping, a repeated key, nesting beyond a limit, null where
// an object or array is expected at the top) makes Decode report false,
// and the caller decodes the body with encoding/json instead, which gives
// the result or the error it always did. String values with escapes or
// invalid UTF-8 are unquoted by encoding/json itself.
//
// Strings of fields that repeat across orders (statuses, currencies,
// countries, product codes and names, amounts) are shared through a small
// table of recent values; those unique to an order (RefNo, OrderNo, dates,
// CustomerReference, ExternalReference) share one allocation per order,
// and order items of a page share a few.
// Values are never reused across pages, so the orders a caller keeps stay
// as they were decoded.
package orderjson

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/ledgerline/ledgerline/extract"
)

// Pagination is the Pagination member of a search result.
type Pagination struct {
	Page, Limit, Count int
}

// internSize is the number of slots of the table of recent values.
const internSize = 1 << 12

// maxIntern is the longest value that goes through the table.
const maxIntern = 40

// itemChunk is the number of order items allocated at once.
const itemChunk = 256

// maxDepth bounds the nesting of values the decoder skips.
const maxDepth = 1000

// A Decoder decodes search results of orders. Reusing one for the pages of
// a search shares the strings that repeat between them. It is not safe for
// concurrent use; the zero value is ready to use.
type Decoder struct {
	table *[internSize]string
	items []extract.OrderItem // the chunk order items are taken from
	first int                 // the current order's first item in items
	pack  []byte              // the current order's unique values
	pend  []pending           // where they go
}

// pending is a unique value of an order, such as its RefNo, waiting in
// Decoder.pack to be set: an order's unique values share one allocation.
type pending struct {
	str        *string
	num        *json.Number
	start, end int
}

// bail is panicked with when the data is not on the decoder's path.
type bail struct{}

// state is one decoding of data.
type state struct {
	d    *Decoder
	data []byte
	pos  int
}

// Decode decodes the search result at the start of data (after
// whitespace) into items[:0] and p, and returns the items, and the offset
// after the result: what follows is not looked at, as json.Decoder.Decode
// does not look past the value it decodes. The elements of items are
// overwritten, and p must be zero.
//
// ok is false if the decoder cannot decode data exactly as encoding/json
// would; items and p may then hold part of the result, and the caller must
// reset them and decode data with encoding/json.
func (d *Decoder) Decode(data []byte, items []extract.Order, p *Pagination) (out []extract.Order, n int, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			out, n, ok = items, 0, false
		}
	}()
	s := &state{d: d, data: data}
	items = s.result(items[:0], p)
	return items, s.pos, true
}

// DecodeRPC decodes the JSON-RPC response at the start of data, whose
// result (or response) member is a search result, into items[:0] and p
// like Decode, and returns the items and the raw value of the id member
// (nil if there is none; the last one if there are several), which
// points into data. Other members
// are skipped; an error member, or a result given twice, makes ok false.
func (d *Decoder) DecodeRPC(data []byte, items []extract.Order, p *Pagination) (out []extract.Order, id []byte, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			out, id, ok = items, nil, false
		}
	}()
	s := &state{d: d, data: data}
	s.open('{')
	got := false
	for more := s.first('}'); more; more = s.next('}') {
		switch string(s.key(false)) {
		case "result", "response":
			if got {
				s.fail()
			}
			got = true
			items = s.result(items[:0], p)
		case "error":
			s.fail()
		case "id":
			s.ws()
			start := s.pos
			s.skip(0)
			id = data[start:s.pos]
		default:
			s.skip(0)
		}
	}
	if !got {
		s.fail()
	}
	return items, id, true
}

func (s *state) fail() { panic(bail{}) }

// ws skips whitespace.
func (s *state) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace.
func (s *state) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		s.fail()
	}
	return s.data[s.pos]
}

func (s *state) open(c byte) {
	if s.peek() != c {
		s.fail()
	}
	s.pos++
}

// first reports whether the object or array just opened has a member,
// consuming its end if it has none.
func (s *state) first(end byte) bool {
	if s.peek() == end {
		s.pos++
		return false
	}
	return true
}

// next consumes the separator after a member and reports whether another
// follows, or the end and reports false.
func (s *state) next(end byte) bool {
	switch s.peek() {
	case ',':
		s.pos++
		return true
	case end:
		s.pos++
		return false
	}
	s.fail()
	return false
}

// key reads an object key and the colon after it. Keys with escapes, and
// non-ASCII keys if ascii, are off the path.
func (s *state) key(ascii bool) []byte {
	s.open('"')
	start := s.pos
	for ; s.pos < len(s.data); s.pos++ {
		switch c := s.data[s.pos]; {
		case c == '"':
			k := s.data[start:s.pos]
			s.pos++
			s.open(':')
			return k
		case c == '\\', c < 0x20, ascii && c >= utf8.RuneSelf:
			s.fail()
		}
	}
	s.fail()
	return nil
}

// str reads a string value and returns its contents between the quotes,
// and whether they hold escapes or non-ASCII bytes.
func (s *state) str() (raw []byte, special bool) {
	s.open('"')
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw = s.data[start:s.pos]
			s.pos++
			return raw, special
		case c == '\\':
			special = true
			s.pos++
			if s.pos >= len(s.data) {
				s.fail()
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				if s.pos+5 > len(s.data) {
					s.fail()
				}
				for _, h := range s.data[s.pos+1 : s.pos+5] {
					if !isHex(h) {
						s.fail()
					}
				}
				s.pos += 5
			default:
				s.fail()
			}
		case c < 0x20:
			s.fail()
		default:
			if c >= utf8.RuneSelf {
				special = true
			}
			s.pos++
		}
	}
	s.fail()
	return nil, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote returns the string of a string value's contents as encoding/json
// makes it, and true, if it is not the contents as they are: when they hold
// escapes or invalid UTF-8.
func unquote(raw []byte, special bool) (string, bool) {
	if !special || !hasBackslash(raw) && utf8.Valid(raw) {
		return "", false
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var v string
	if json.Unmarshal(quoted, &v) != nil {
		panic(bail{})
	}
	return v, true
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// literal consumes the literal word, or fails.
func (s *state) literal(word string) {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		s.fail()
	}
	s.pos += len(word)
}

// null consumes a null and reports true, if one is next.
func (s *state) null() bool {
	if s.peek() != 'n' {
		return false
	}
	s.literal("null")
	return true
}

// number reads a number literal.
func (s *state) number() []byte {
	s.ws()
	end := numberEnd(s.data, s.pos)
	if end < 0 {
		s.fail()
	}
	n := s.data[s.pos:end]
	s.pos = end
	return n
}

// isNumber reports whether b is a JSON number literal.
func isNumber(b []byte) bool { return numberEnd(b, 0) == len(b) }

// numberEnd returns the end of the JSON number literal at d[i:], or -1 if
// there is none:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(d []byte, i int) int {
	digits := func() bool {
		j := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return -1
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return -1
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return -1
		}
	}
	return i
}

// skip skips a value, checking its syntax.
func (s *state) skip(depth int) {
	if depth > maxDepth {
		s.fail()
	}
	switch c := s.peek(); {
	case c == '{':
		s.pos++
		for more := s.first('}'); more; more = s.next('}') {
			s.str()
			s.open(':')
			s.skip(depth + 1)
		}
	case c == '[':
		s.pos++
		for more := s.first(']'); more; more = s.next(']') {
			s.skip(depth + 1)
		}
	case c == '"':
		s.str()
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	default:
		s.number()
	}
}

// other handles a key that names no field exactly: encoding/json would
// match it case-insensitively to one of names, which is off the path, or
// ignore its value, which is skipped.
func (s *state) other(key []byte, names []string) {
	for _, name := range names {
		if len(name) == len(key) && equalFoldASCII(name, key) {
			s.fail()
		}
	}
	s.skip(0)
}

func equalFoldASCII(name string, key []byte) bool {
	for i := range len(key) {
		a, b := name[i], key[i]
		if 'a' <= a && a <= 'z' {
			a -= 'a' - 'A'
		}
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// seen marks field bit of an object as set, failing if it was.
func (s *state) seen(mask *uint64, bit uint) {
	if *mask&(1<<bit) != 0 {
		s.fail()
	}
	*mask |= 1 << bit
}

// stringField reads a string field's value into *dst; null leaves it as it is.
// Values through the table are shared.
func (s *state) stringField(dst *string, shared bool) {
	if s.null() {
		return
	}
	raw, special := s.str()
	if v, ok := unquote(raw, special); ok {
		*dst = v
		return
	}
	*dst = s.d.text(raw, shared)
}

// numberField reads a json.Number field's value into *dst: a number literal, or a
// string holding one; null leaves it as it is.
func (s *state) numberField(dst *json.Number, shared bool) {
	switch s.peek() {
	case 'n':
		s.literal("null")
	case '"':
		raw, special := s.str()
		if special || !isNumber(raw) {
			s.fail()
		}
		*dst = json.Number(s.d.text(raw, shared))
	default:
		*dst = json.Number(s.d.text(s.number(), shared))
	}
}

// uniqueString reads a string field's value unique to the order: it is
// set by flush.
func (s *state) uniqueString(dst *string) {
	if s.null() {
		return
	}
	raw, special := s.str()
	if v, ok := unquote(raw, special); ok {
		*dst = v
		return
	}
	s.hold(dst, nil, raw)
}

// uniqueNumber reads a json.Number field's value unique to the order, as
// numberField does: it is set by flush.
func (s *state) uniqueNumber(dst *json.Number) {
	var raw []byte
	switch s.peek() {
	case 'n':
		s.literal("null")
		return
	case '"':
		var special bool
		raw, special = s.str()
		if special || !isNumber(raw) {
			s.fail()
		}
	default:
		raw = s.number()
	}
	s.hold(nil, dst, raw)
}

// hold keeps raw for flush to set into *str or *num.
func (s *state) hold(str *string, num *json.Number, raw []byte) {
	d := s.d
	start := len(d.pack)
	d.pack = append(d.pack, raw...)
	d.pend = append(d.pend, pending{str, num, start, len(d.pack)})
}

// flush sets the values hold kept, from one string.
func (s *state) flush() {
	d := s.d
	if len(d.pend) == 0 {
		return
	}
	all := string(d.pack)
	for _, p := range d.pend {
		if p.str != nil {
			*p.str = all[p.start:p.end]
		} else {
			*p.num = json.Number(all[p.start:p.end])
		}
	}
	clear(d.pend)
	d.pack, d.pend = d.pack[:0], d.pend[:0]
}

// boolField reads a bool field's value into *dst; null leaves it as it is.
func (s *state) boolField(dst *bool) {
	switch s.peek() {
	case 'n':
		s.literal("null")
	case 't':
		s.literal("true")
		*dst = true
	case 'f':
		s.literal("false")
		*dst = false
	default:
		s.fail()
	}
}

// intField reads an int field's value into *dst; null leaves it as it is.
func (s *state) intField(dst *int) {
	if s.null() {
		return
	}
	n, err := strconv.ParseInt(string(s.number()), 10, 64)
	if err != nil || int64(int(n)) != n {
		s.fail()
	}
	*dst = int(n)
}

// text returns raw as a string, shared through the table if shared.
func (d *Decoder) text(raw []byte, shared bool) string {
	if len(raw) == 0 {
		return ""
	}
	if !shared || len(raw) > maxIntern {
		return string(raw)
	}
	if d.table == nil {
		d.table = new([internSize]string)
	}
	h := uint32(2166136261)
	for _, c := range raw {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &d.table[(h^h>>15)%internSize]
	if *slot == string(raw) {
		return *slot
	}
	v := string(raw)
	*slot = v
	return v
}

var (
	resultFields     = []string{"Items", "Pagination"}
	paginationFields = []string{"Page", "Limit", "Count"}
	orderFields      = []string{"RefNo", "OrderNo", "ExternalReference", "Status", "ApproveStatus", "OrderDate", "FinishDate", "Currency", "Country", "TestOrder", "CustomerReference", "Affiliate", "NetPrice", "GrossPrice", "NetDiscountedPrice", "GrossDiscountedPrice", "Discount", "VAT", "AffiliateCommission", "AvangateCommission", "ChargebackResolution", "ChargebackReasonCode", "Items"}
	affiliateFields  = []string{"AffiliateCode"}
	itemFields       = []string{"Code", "ProductDetails", "SKU", "Quantity", "Price"}
	detailsFields    = []string{"Name"}
	priceFields      = []string{"Currency", "NetPrice", "GrossPrice", "NetDiscountedPrice", "GrossDiscountedPrice", "Discount", "VAT", "AffiliateCommission", "UnitNetPrice", "UnitGrossPrice", "UnitVAT", "UnitDiscount", "UnitNetDiscountedPrice", "UnitGrossDiscountedPrice", "UnitAffiliateCommission"}
)

// result decodes a search result object.
func (s *state) result(items []extract.Order, p *Pagination) []extract.Order {
	s.open('{')
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "Items":
			s.seen(&mask, 0)
			s.open('[')
			if items == nil {
				items = []extract.Order{} // an empty array is an empty slice
			}
			for more := s.first(']'); more; more = s.next(']') {
				if len(items) < cap(items) {
					items = items[:len(items)+1]
				} else {
					items = append(items, extract.Order{})
				}
				o := &items[len(items)-1]
				*o = extract.Order{}
				s.order(o)
			}
		case "Pagination":
			s.seen(&mask, 1)
			s.pagination(p)
		default:
			s.other(k, resultFields)
		}
	}
	return items
}

func (s *state) pagination(p *Pagination) {
	if s.null() {
		return
	}
	s.open('{')
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "Page":
			s.seen(&mask, 0)
			s.intField(&p.Page)
		case "Limit":
			s.seen(&mask, 1)
			s.intField(&p.Limit)
		case "Count":
			s.seen(&mask, 2)
			s.intField(&p.Count)
		default:
			s.other(k, paginationFields)
		}
	}
}

// order decodes an order object into the zero *o.
func (s *state) order(o *extract.Order) {
	s.open('{')
	d := s.d
	d.pack, d.pend = d.pack[:0], d.pend[:0]
	defer s.flush()
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "RefNo":
			s.seen(&mask, 0)
			s.uniqueString(&o.RefNo)
		case "OrderNo":
			s.seen(&mask, 1)
			s.uniqueNumber(&o.OrderNo)
		case "ExternalReference":
			s.seen(&mask, 2)
			s.uniqueString(&o.ExternalReference)
		case "Status":
			s.seen(&mask, 3)
			s.stringField(&o.Status, true)
		case "ApproveStatus":
			s.seen(&mask, 4)
			s.stringField(&o.ApproveStatus, true)
		case "OrderDate":
			s.seen(&mask, 5)
			s.uniqueString(&o.OrderDate)
		case "FinishDate":
			s.seen(&mask, 6)
			s.uniqueString(&o.FinishDate)
		case "Currency":
			s.seen(&mask, 7)
			s.stringField(&o.Currency, true)
		case "Country":
			s.seen(&mask, 8)
			s.stringField(&o.Country, true)
		case "TestOrder":
			s.seen(&mask, 9)
			s.boolField(&o.TestOrder)
		case "CustomerReference":
			s.seen(&mask, 10)
			s.uniqueNumber(&o.CustomerReference)
		case "Affiliate":
			s.seen(&mask, 11)
			s.affiliate(o)
		case "NetPrice":
			s.seen(&mask, 12)
			s.numberField(&o.NetPrice, true)
		case "GrossPrice":
			s.seen(&mask, 13)
			s.numberField(&o.GrossPrice, true)
		case "NetDiscountedPrice":
			s.seen(&mask, 14)
			s.numberField(&o.NetDiscountedPrice, true)
		case "GrossDiscountedPrice":
			s.seen(&mask, 15)
			s.numberField(&o.GrossDiscountedPrice, true)
		case "Discount":
			s.seen(&mask, 16)
			s.numberField(&o.Discount, true)
		case "VAT":
			s.seen(&mask, 17)
			s.numberField(&o.VAT, true)
		case "AffiliateCommission":
			s.seen(&mask, 18)
			s.numberField(&o.AffiliateCommission, true)
		case "AvangateCommission":
			s.seen(&mask, 19)
			s.numberField(&o.AvangateCommission, true)
		case "ChargebackResolution":
			s.seen(&mask, 20)
			s.stringField(&o.ChargebackResolution, true)
		case "ChargebackReasonCode":
			s.seen(&mask, 21)
			s.stringField(&o.ChargebackReasonCode, true)
		case "Items":
			s.seen(&mask, 22)
			o.Items = s.orderItems()
		default:
			s.other(k, orderFields)
		}
	}
}

func (s *state) affiliate(o *extract.Order) {
	if s.null() {
		o.Affiliate = nil
		return
	}
	s.open('{')
	a := new(extract.Affiliate)
	o.Affiliate = a
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "AffiliateCode":
			s.seen(&mask, 0)
			s.stringField(&a.AffiliateCode, true)
		default:
			s.other(k, affiliateFields)
		}
	}
}

// orderItems decodes the items of an order, null as nil.
func (s *state) orderItems() []extract.OrderItem {
	if s.null() {
		return nil
	}
	d := s.d
	s.open('[')
	d.first = len(d.items)
	for more := s.first(']'); more; more = s.next(']') {
		if s.peek() != '{' {
			s.fail()
		}
		s.orderItem(d.item())
	}
	items := d.items[d.first:len(d.items):len(d.items)]
	if len(items) == 0 {
		return []extract.OrderItem{}
	}
	return items
}

// item returns a zero order item appended to the current order's items.
// Items returned before may move.
func (d *Decoder) item() *extract.OrderItem {
	if len(d.items) == cap(d.items) {
		cur := d.items[d.first:]
		items := make([]extract.OrderItem, len(cur), max(itemChunk, 2*len(cur)))
		copy(items, cur)
		d.items, d.first = items, 0
	}
	d.items = d.items[:len(d.items)+1]
	return &d.items[len(d.items)-1]
}

func (s *state) orderItem(it *extract.OrderItem) {
	s.open('{')
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "Code":
			s.seen(&mask, 0)
			s.stringField(&it.Code, true)
		case "ProductDetails":
			s.seen(&mask, 1)
			s.productDetails(&it.ProductDetails)
		case "SKU":
			s.seen(&mask, 2)
			s.stringField(&it.SKU, true)
		case "Quantity":
			s.seen(&mask, 3)
			s.numberField(&it.Quantity, true)
		case "Price":
			s.seen(&mask, 4)
			s.price(&it.Price)
		default:
			s.other(k, itemFields)
		}
	}
}

func (s *state) productDetails(p *extract.ProductDetails) {
	if s.null() {
		return
	}
	s.open('{')
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "Name":
			s.seen(&mask, 0)
			s.stringField(&p.Name, true)
		default:
			s.other(k, detailsFields)
		}
	}
}

func (s *state) price(p *extract.ItemPrice) {
	if s.null() {
		return
	}
	s.open('{')
	var mask uint64
	for more := s.first('}'); more; more = s.next('}') {
		switch k := s.key(true); string(k) {
		case "Currency":
			s.seen(&mask, 0)
			s.stringField(&p.Currency, true)
		case "NetPrice":
			s.seen(&mask, 1)
			s.numberField(&p.NetPrice, true)
		case "GrossPrice":
			s.seen(&mask, 2)
			s.numberField(&p.GrossPrice, true)
		case "NetDiscountedPrice":
			s.seen(&mask, 3)
			s.numberField(&p.NetDiscountedPrice, true)
		case "GrossDiscountedPrice":
			s.seen(&mask, 4)
			s.numberField(&p.GrossDiscountedPrice, true)
		case "Discount":
			s.seen(&mask, 5)
			s.numberField(&p.Discount, true)
		case "VAT":
			s.seen(&mask, 6)
			s.numberField(&p.VAT, true)
		case "AffiliateCommission":
			s.seen(&mask, 7)
			s.numberField(&p.AffiliateCommission, true)
		case "UnitNetPrice":
			s.seen(&mask, 8)
			s.numberField(&p.UnitNetPrice, true)
		case "UnitGrossPrice":
			s.seen(&mask, 9)
			s.numberField(&p.UnitGrossPrice, true)
		case "UnitVAT":
			s.seen(&mask, 10)
			s.numberField(&p.UnitVAT, true)
		case "UnitDiscount":
			s.seen(&mask, 11)
			s.numberField(&p.UnitDiscount, true)
		case "UnitNetDiscountedPrice":
			s.seen(&mask, 12)
			s.numberField(&p.UnitNetDiscountedPrice, true)
		case "UnitGrossDiscountedPrice":
			s.seen(&mask, 13)
			s.numberField(&p.UnitGrossDiscountedPrice, true)
		case "UnitAffiliateCommission":
			s.seen(&mask, 14)
			s.numberField(&p.UnitAffiliateCommission, true)
		default:
			s.other(k, priceFields)
		}
	}
}
