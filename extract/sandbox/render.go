package sandbox

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/dialect"
)

// Rendering a sale as the API 6.0 records show it at a time.

// orderState is what of an order depends on the clock.
type orderState struct {
	status, approve string
	finished        bool // FinishDate is set
	cbResolution    string
	cbReason        string
}

// state returns the state of s at now.
func (s *sale) state(now time.Time) orderState {
	v := orderState{cbResolution: cbNone}
	v.finished = !s.finish.IsZero() && !now.Before(s.finish)
	ended := !s.ended.IsZero() && !now.Before(s.ended)
	switch {
	case ended:
		v.status = s.final
		v.approve = "OK"
		if s.final == statusCanceled {
			v.approve = s.reject
		}
	case v.finished:
		v.status, v.approve = statusComplete, "OK"
	case s.final == statusAuthReceived:
		v.status, v.approve = statusAuthReceived, "WAITING"
	default:
		v.status, v.approve = statusPending, "WAITING"
	}
	if !s.cbOpen.IsZero() && !now.Before(s.cbOpen) {
		v.cbResolution = cbOpen
		v.cbReason = s.cbReason
		if !now.Before(s.cbResolve) {
			v.cbResolution = s.cbResolution
		}
	}
	return v
}

// order renders s as the API shows it at now.
func (m *Merchant) order(s *sale, now time.Time) wireOrder {
	return m.renderOrder(s, now, new(numbers))
}

// renderOrder renders s as the API shows it at now, in the real shape (see
// wire.go), formatting its numbers with nums.
func (m *Merchant) renderOrder(s *sale, now time.Time, nums *numbers) wireOrder {
	cur := &currencies[s.cur]
	f := m.orderFacts(s)
	o := wireOrder{
		RefNo:               s.refNo(),
		ExternalReference:   s.externalRef(),
		VendorApproveStatus: "OK",
		MerchantCode:        m.code,
		Language:            "en",
		OrderDate:           s.placed.In(m.loc).Format(extract.DateLayout),
		BillingDetails: wireBilling{
			FirstName: f.first, LastName: f.last, Email: f.email,
			Address1: f.address, City: f.city, Zip: f.zip, CountryCode: f.billing,
		},
		DeliveryDetails: wireDelivery{
			FirstName: f.first, LastName: f.last, Email: f.email,
			Address1: f.address, City: f.city, Zip: f.zip, CountryCode: f.delivery,
		},
		PaymentDetails: wirePayment{
			Type:     f.payType,
			Currency: strings.ToLower(cur.code),
			PaymentMethod: wirePaymentMethod{
				FirstDigits: f.firstDigits, LastDigits: f.lastDigits, CardType: f.cardType,
				RecurringEnabled: f.payType == paymentCard,
			},
			CustomerIP: f.ip,
		},
		Origin:         f.origin,
		OrderFlow:      "REGULAR",
		TestOrder:      s.test,
		PayoutCurrency: payoutCurrency,
		Currency:       cur.code,
		Items:          make([]wireItem, len(s.lines)),
		Promotions:     []struct{}{},
	}

	v := s.state(now)
	o.Status, o.ApproveStatus = v.status, v.approve
	orderNo := int64(0) // 2Checkout numbers an order when it completes
	if v.finished {
		fin := s.finish.In(m.loc).Format(extract.DateLayout)
		o.FinishDate = &fin
		orderNo = s.orderNo
	}
	if !m.dialect.Has(dialect.NoChargebackFields) {
		o.ChargebackResolution, o.ChargebackReasonCode = &v.cbResolution, &v.cbReason
	}
	if s.affiliate != "" {
		aff := s.affiliate // s's memory is reused for the next page
		o.Affiliate.AffiliateCode = &aff
	}

	nums.add(&o.OrderNo, orderNo, 0)
	nums.add(&o.CustomerReference, s.customer, 0)
	nums.add(&o.FxRate, f.fxRate, f.fxRateExp)
	nums.add(&o.FxMarkup, f.fxMarkup, f.fxMarkupExp)
	vatPct := vatRates[strings.ToUpper(s.country)]
	var total amounts
	for k := range s.lines {
		total = total.plus(m.renderItem(s, k, &o.Items[k], vatPct, nums))
	}
	nums.add(&o.NetPrice, total.net, cur.exp)
	nums.add(&o.GrossPrice, total.gross, cur.exp)
	nums.add(&o.NetDiscountedPrice, total.netDisc, cur.exp)
	nums.add(&o.GrossDiscountedPr, total.grossDisc, cur.exp)
	nums.add(&o.Discount, total.discount, cur.exp)
	nums.add(&o.VAT, total.vat, cur.exp)
	nums.add(&o.AffiliateCommission, total.affiliate, cur.exp)
	nums.add(&o.AvangateCommission, roundDiv(total.grossDisc*490, 10000)+cur.fixedFee, cur.exp)
	nums.set()
	return o
}

// renderItem renders line k of s into it, and returns the line's amounts.
func (m *Merchant) renderItem(s *sale, k int, it *wireItem, vatPct int64, nums *numbers) amounts {
	cur := &currencies[s.cur]
	l := &s.lines[k]
	a := l.unit.times(l.qty)
	*it = wireItem{
		Code:              l.product.code,
		ProductDetails:    wireProductDetails{Name: l.product.name, ShortDescription: l.product.name, RenewalStatus: l.product.period == monthly || l.product.period == yearly},
		PriceOptions:      []struct{}{},
		LineItemReference: lineItemReference(m.seed, s.ref, k),
		PurchaseType:      purchaseProduct,
		Price:             wireItemPrice{Currency: strings.ToLower(cur.code)},
	}
	it.ProductDetails.DeliveryInformation.Delivery = "NO_DELIVERY"
	it.ProductDetails.DeliveryInformation.Codes = []struct{}{}
	if l.product.period != noPeriod {
		// Services and e-books are sold without a SKU.
		sku := "SKU-" + l.product.code
		it.SKU = &sku
	}
	nums.add(&it.Quantity, l.qty, 0)
	p := &it.Price
	for _, f := range [...]struct {
		dst *json.Number
		v   int64
	}{
		{&p.NetPrice, a.net}, {&p.GrossPrice, a.gross}, {&p.NetDiscountedPrice, a.netDisc},
		{&p.GrossDiscountedPrice, a.grossDisc}, {&p.Discount, a.discount}, {&p.VAT, a.vat},
		{&p.AffiliateCommission, a.affiliate}, {&p.UnitNetPrice, l.unit.net}, {&p.UnitGrossPrice, l.unit.gross},
		{&p.UnitVAT, l.unit.vat}, {&p.UnitDiscount, l.unit.discount}, {&p.UnitNetDiscountedPrice, l.unit.netDisc},
		{&p.UnitGrossDiscountedPrice, l.unit.grossDisc}, {&p.UnitAffiliateCommission, l.unit.affiliate},
		{&p.ItemUnitNetPrice, l.unit.net}, {&p.ItemUnitGrossPrice, l.unit.gross},
		{&p.ItemNetPrice, a.net}, {&p.ItemGrossPrice, a.gross},
		{&p.HandlingFeeNetPrice, 0}, {&p.HandlingFeeGrossPrice, 0},
	} {
		nums.add(f.dst, f.v, cur.exp)
	}
	nums.add(&p.VATPercent, vatPct, 2) // basis points
	return a
}

// numbers formats the numbers of a record into one string, one
// allocation however many there are, and sets each to its part. Its
// memory is reused from record to record.
type numbers struct {
	text []byte
	ends []int
	dsts []*json.Number
}

// add formats v minor units with exp decimal places, to be set to *dst.
func (n *numbers) add(dst *json.Number, v int64, exp int) {
	n.text = appendDecimal(n.text, v, exp)
	n.ends = append(n.ends, len(n.text))
	n.dsts = append(n.dsts, dst)
}

// set sets the numbers added to their destinations, and readies n for the
// next record.
func (n *numbers) set() {
	s := string(n.text)
	start := 0
	for i, end := range n.ends {
		*n.dsts[i] = json.Number(s[start:end])
		start = end
	}
	clear(n.dsts)
	n.text, n.ends, n.dsts = n.text[:0], n.ends[:0], n.dsts[:0]
}

// createsSubscriptions reports whether s's subscription lines become
// subscriptions: the order completes at some point.
func (s *sale) createsSubscriptions() bool { return !s.finish.IsZero() }

// subscriptionVisibleAt is when s's subscriptions become searchable.
func (s *sale) subscriptionVisibleAt() time.Time {
	t := s.placed.Add(subscriptionLag)
	if s.finish.After(t) {
		t = s.finish
	}
	return t
}

// term is where a periodic subscription stands at a time: its renewals so
// far, the end of its current period, whether that end has passed.
type term struct {
	renewals int
	last     time.Time // the last renewal; zero before the first
	expires  time.Time
	expired  bool
}

// subscriptionTerm is line k of s's term at now; false for a lifetime
// subscription. Renewals happen at the end of each period while automatic
// renewal is on.
func (m *Merchant) subscriptionTerm(s *sale, k int, now time.Time) (term, bool) {
	l := &s.lines[k]
	if l.product.period == lifetime {
		return term{}, false
	}
	step := func(n int) time.Time {
		if l.product.period == yearly {
			return s.placed.In(m.loc).AddDate(n, 0, 0)
		}
		return s.placed.In(m.loc).AddDate(0, n, 0)
	}
	var t term
	if l.sub.recurring {
		for !now.Before(step(t.renewals+1)) && (l.sub.stopAfter < 0 || t.renewals < l.sub.stopAfter) {
			t.renewals++
		}
	}
	if t.renewals > 0 {
		t.last = step(t.renewals)
	}
	t.expires = step(t.renewals + 1)
	t.expired = !now.Before(t.expires)
	return t, true
}

// subscription renders line k of s as a subscription at now.
func (m *Merchant) subscription(s *sale, k int, now time.Time) wireSubscription {
	l := &s.lines[k]
	who := m.person(s.customer)
	sub := wireSubscription{
		SubscriptionReference: m.subscriptionRef(ordinal(s.date), s.index, k),
		StartDate:             s.placed.In(m.loc).Format(extract.DateLayout),
		ActivationDate:        s.finish.In(m.loc).Format(extract.DateLayout),
		SubscriptionEnabled:   true,
		Product: wireSubProduct{
			ProductCode: l.product.code, ProductID: integer(productID(l.product)), ProductName: l.product.name,
			ProductQuantity: integer(l.qty), PriceOptionCodes: []string{},
		},
		DeliveryInfo:              wireSubDelivery{Codes: []struct{}{}},
		ReceiveNotifications:      true,
		AvangateCustomerReference: integer(s.customer),
		Lifetime:                  l.product.period == lifetime,
		TestSubscription:          s.test,
		MerchantCode:              m.code,
		EndUser: wireEndUser{
			FirstName:   who.first,
			LastName:    who.last,
			CountryCode: s.country,
			City:        who.city,
			Address1:    who.address,
			Zip:         who.zip,
			Email:       who.email,
			Language:    "en",
		},
	}
	if who.hasExternalRef {
		sub.ExternalCustomerReference = "CUST-" + strconv.FormatInt(s.customer, 10)
	}
	if t, ok := m.subscriptionTerm(s, k, now); ok {
		sub.ExpirationDate = t.expires.Format(extract.DateLayout)
		sub.NextBillingDate = t.expires.Format("2006-01-02")
		sub.RecurringEnabled = l.sub.recurring && !t.expired && (l.sub.stopAfter < 0 || t.renewals < l.sub.stopAfter)
		sub.SubscriptionEnabled = !t.expired
	}
	if !s.ended.IsZero() && !now.Before(s.ended) {
		// Refunded or reversed: the subscription is canceled.
		sub.SubscriptionEnabled = false
		sub.RecurringEnabled = false
	}
	return sub
}
