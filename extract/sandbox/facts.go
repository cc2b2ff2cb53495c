package sandbox

import (
	"fmt"
	"strconv"
	"strings"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apijson"
)

// The facts of the real order shape that the older flat shape lacked:
// names and addresses, payment, FX, origin. Each is drawn from its own
// hash of the sale, so that adding them left every other fact as it was.

const (
	// payoutCurrency is the currency 2Checkout pays the account in.
	payoutCurrency  = "USD"
	paymentCard     = "CC"
	paymentPayPal   = "PAYPAL"
	purchaseProduct = "PRODUCT"

	fxRateExp   = 6 // decimals of a non-USD FxRate
	fxMarkupExp = 2 // decimals of a non-USD FxMarkup

	kindFacts = kindCustomer + 0x20 // a hash domain apart from generate.go's
)

// fxBase is the USD value of one unit of each currency, in millionths, by
// currency index; an order's FxRate varies within ±1% of it.
var fxBase = [len(currencies)]int64{1_000000, 1_085000, 1_270000, 218000, 6700}

var cardTypes = [...]struct{ name, prefix string }{
	{"Visa", "4"}, {"Visa", "4"}, {"Visa", "4"}, {"MasterCard", "5"}, {"MasterCard", "5"}, {"AMEX", "37"},
}

var cities = [...]struct{ city, zip string }{
	{"Springfield", "12345"}, {"Riverside", "92501"}, {"Bucharest", "010011"}, {"Lyon", "69001"}, {"Osaka", "530-0001"},
}

// person is the customer of a sale.
type person struct {
	first, last, email string
	address, city, zip string
	hasExternalRef     bool // subscriptions carry ExternalCustomerReference
	hash               uint64
}

func (m *Merchant) person(customer int64) person {
	h := mix(m.seed ^ mix(kindCustomer<<56^uint64(customer)))
	first := firstNames[h%uint64(len(firstNames))]
	last := lastNames[(h>>16)%uint64(len(lastNames))]
	c := cities[(h>>40)%uint64(len(cities))]
	return person{
		first: first, last: last,
		email:          strings.ToLower(first+"."+last) + strconv.FormatInt(customer%1000, 10) + "@example.com",
		address:        strconv.FormatUint(1+(h>>48)%200, 10) + " Main Street",
		city:           c.city,
		zip:            c.zip,
		hasExternalRef: (h>>32)%10 < 4,
		hash:           h,
	}
}

// orderFacts are the facts of a sale's order that only the real shape
// shows.
type orderFacts struct {
	person
	billing, delivery string // lower-case country codes
	payType           string
	cardType          *string // nil unless paid by card
	firstDigits       *string
	lastDigits        *string
	ip                string
	origin            string
	fxRate            int64 // in 10^-fxRateExp, or 1 for USD
	fxRateExp         int
	fxMarkup          int64 // in 10^-fxMarkupExp, or 0 for USD
	fxMarkupExp       int
}

// OrderFacts are the facts, as the real order shape sends them, that tests
// compare a pipeline's rows with.
type OrderFacts struct {
	BillingCountry, DeliveryCountry string // lower-case, as sent
	PaymentType, CardType           string // CardType empty unless by card
	FxRate, FxMarkup                string // exact decimals, as sent
	PayoutCurrency, Origin          string
	Lines                           []LineFacts
}

// LineFacts are the facts of an order line that only the real shape shows.
type LineFacts struct {
	LineItemReference, PurchaseType string
	VATPercent                      string // exact decimal, as sent
}

// FactsOf returns the facts of the order with RefNo refNo placed on day
// (in the API time zone), and whether there is one.
func (m *Merchant) FactsOf(day civil.Date, refNo string) (OrderFacts, bool) {
	p := m.plan(day)
	for i := range len(p.secs) {
		s := m.sale(p, i)
		if s.refNo() != refNo {
			continue
		}
		f := m.orderFacts(s)
		out := OrderFacts{
			BillingCountry: f.billing, DeliveryCountry: f.delivery, PaymentType: f.payType,
			FxRate:         string(appendDecimal(nil, f.fxRate, f.fxRateExp)),
			FxMarkup:       string(appendDecimal(nil, f.fxMarkup, f.fxMarkupExp)),
			PayoutCurrency: payoutCurrency, Origin: f.origin,
		}
		if f.cardType != nil {
			out.CardType = *f.cardType
		}
		vat := string(appendDecimal(nil, vatRates[strings.ToUpper(s.country)], 2))
		for k := range s.lines {
			out.Lines = append(out.Lines, LineFacts{lineItemReference(m.seed, s.ref, k), purchaseProduct, vat})
		}
		return out, true
	}
	return OrderFacts{}, false
}

func (m *Merchant) orderFacts(s *sale) orderFacts {
	f := orderFacts{person: m.person(s.customer)}
	h := mix(m.seed ^ mix(kindFacts<<56^s.ref))
	cur := &currencies[s.cur]
	f.billing = strings.ToLower(s.country)
	f.delivery = f.billing
	if h%20 == 0 {
		// Now and then the goods go to another country of the currency.
		f.delivery = strings.ToLower(cur.countries[(h>>8)%uint64(len(cur.countries))])
	}
	f.payType = paymentCard
	if (h>>16)%100 < 15 {
		f.payType = paymentPayPal
	} else {
		c := cardTypes[(h>>24)%uint64(len(cardTypes))]
		name, lastDigits := c.name, fmt.Sprintf("%04d", (h>>32)%10000)
		first := c.prefix + fmt.Sprintf("%03d", (h>>44)%1000)[:4-len(c.prefix)]
		f.cardType, f.firstDigits, f.lastDigits = &name, &first, &lastDigits
	}
	f.ip = fmt.Sprintf("%d.%d.%d.%d", 11+(h>>8)%200, (h>>16)%256, (h>>24)%256, 1+(h>>32)%254)
	f.origin = "Web"
	if (h>>52)%4 == 0 {
		f.origin = "API"
	}
	if cur.code == payoutCurrency {
		f.fxRate, f.fxMarkup = 1, 0
		return f
	}
	base := fxBase[s.cur]
	f.fxRate, f.fxRateExp = base+base*(int64((h>>20)%201)-100)/10000, fxRateExp
	f.fxMarkup, f.fxMarkupExp = 150+25*int64((h>>36)%3), fxMarkupExp
	return f
}

// lineItemReference is the stable hex id of line k of the order ref.
func lineItemReference(seed, ref uint64, k int) string {
	a := mix(seed ^ mix(kindFacts<<56^ref^uint64(k+1)<<48))
	b := mix(a ^ 0x9e3779b97f4a7c15)
	c := mix(b)
	return fmt.Sprintf("%016x%016x%08x", a, b, uint32(c))
}

// productID is 2Checkout's numeric id of p.
func productID(p *product) int64 {
	for i := range products {
		if &products[i] == p {
			return 4_639_000 + int64(i)
		}
	}
	return 0
}

// decodeOrders returns orders as a client decodes them.
func decodeOrders(orders []wireOrder) []extract.Order {
	out := make([]extract.Order, len(orders))
	for i := range orders {
		out[i] = decodeRecord[extract.Order](orders[i])
	}
	return out
}

// decodeRecord encodes v as the sandbox sends it and decodes it into a T
// as the clients do. The sandbox's own types cannot fail to encode.
func decodeRecord[T any](v any) T {
	var t T
	b, err := apijson.Marshal(v)
	if err == nil {
		err = apijson.Unmarshal(b, &t)
	}
	if err != nil {
		panic(fmt.Sprintf("sandbox: decoding its own record: %v", err))
	}
	return t
}
