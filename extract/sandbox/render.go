package sandbox

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ledgerline/ledgerline/extract"
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
func (m *Merchant) order(s *sale, now time.Time) extract.Order {
	return m.renderOrder(s, now, new(numbers))
}

// renderOrder renders s as the API shows it at now, formatting its numbers
// with nums.
func (m *Merchant) renderOrder(s *sale, now time.Time, nums *numbers) extract.Order {
	cur := &currencies[s.cur]
	o := extract.Order{
		RefNo:                s.refNo(),
		ExternalReference:    s.externalRef(),
		OrderDate:            s.placed.In(m.loc).Format(extract.DateLayout),
		Currency:             cur.code,
		Country:              s.country,
		TestOrder:            s.test,
		ChargebackResolution: cbNone,
		Items:                make([]extract.OrderItem, len(s.lines)),
	}

	v := s.state(now)
	o.Status, o.ApproveStatus = v.status, v.approve
	if v.finished {
		o.FinishDate = s.finish.In(m.loc).Format(extract.DateLayout)
	}
	o.ChargebackResolution, o.ChargebackReasonCode = v.cbResolution, v.cbReason
	if s.affiliate != "" {
		o.Affiliate = &extract.Affiliate{AffiliateCode: s.affiliate}
	}

	nums.add(&o.OrderNo, s.orderNo, 0)
	nums.add(&o.CustomerReference, s.customer, 0)
	var total amounts
	for k, l := range s.lines {
		a := l.unit.times(l.qty)
		total = total.plus(a)
		it := &o.Items[k]
		*it = extract.OrderItem{
			Code:           l.product.code,
			ProductDetails: extract.ProductDetails{Name: l.product.name},
			SKU:            "SKU-" + l.product.code,
			Price:          extract.ItemPrice{Currency: cur.code},
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
		} {
			nums.add(f.dst, f.v, cur.exp)
		}
	}
	nums.add(&o.NetPrice, total.net, cur.exp)
	nums.add(&o.GrossPrice, total.gross, cur.exp)
	nums.add(&o.NetDiscountedPrice, total.netDisc, cur.exp)
	nums.add(&o.GrossDiscountedPrice, total.grossDisc, cur.exp)
	nums.add(&o.Discount, total.discount, cur.exp)
	nums.add(&o.VAT, total.vat, cur.exp)
	nums.add(&o.AffiliateCommission, total.affiliate, cur.exp)
	nums.add(&o.AvangateCommission, roundDiv(total.grossDisc*490, 10000)+cur.fixedFee, cur.exp)
	nums.set()
	return o
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

// subscription renders line k of s as a subscription at now.
func (m *Merchant) subscription(s *sale, k int, now time.Time) extract.Subscription {
	l := &s.lines[k]
	h := mix(m.seed ^ mix(kindCustomer<<56^uint64(s.customer)))
	first := firstNames[h%uint64(len(firstNames))]
	last := lastNames[(h>>16)%uint64(len(lastNames))]
	sub := extract.Subscription{
		SubscriptionReference:     m.subscriptionRef(ordinal(s.date), s.index, k),
		StartDate:                 s.placed.In(m.loc).Format(extract.DateLayout),
		ActivationDate:            s.finish.In(m.loc).Format(extract.DateLayout),
		SubscriptionEnabled:       true,
		Product:                   extract.SubscriptionProduct{ProductCode: l.product.code, ProductName: l.product.name, ProductQuantity: integer(l.qty)},
		AvangateCustomerReference: integer(s.customer),
		Lifetime:                  l.product.period == lifetime,
		TestSubscription:          s.test,
		MerchantCode:              m.code,
		EndUser: extract.EndUser{
			FirstName:   first,
			LastName:    last,
			CountryCode: s.country,
			Email:       strings.ToLower(first+"."+last) + strconv.FormatInt(s.customer%1000, 10) + "@example.com",
		},
	}
	if (h>>32)%10 < 4 {
		sub.ExternalCustomerReference = "CUST-" + strconv.FormatInt(s.customer, 10)
	}
	if l.product.period != lifetime {
		step := func(n int) time.Time {
			if l.product.period == yearly {
				return s.placed.In(m.loc).AddDate(n, 0, 0)
			}
			return s.placed.In(m.loc).AddDate(0, n, 0)
		}
		// Renewals happen at the end of each period while automatic renewal
		// is on.
		renewals := 0
		if l.sub.recurring {
			for !now.Before(step(renewals+1)) && (l.sub.stopAfter < 0 || renewals < l.sub.stopAfter) {
				renewals++
			}
		}
		expires := step(renewals + 1)
		expired := !now.Before(expires)
		sub.ExpirationDate = expires.Format(extract.DateLayout)
		sub.NextBillingDate = expires.Format("2006-01-02")
		sub.RecurringEnabled = l.sub.recurring && !expired && (l.sub.stopAfter < 0 || renewals < l.sub.stopAfter)
		sub.SubscriptionEnabled = !expired
	}
	if !s.ended.IsZero() && !now.Before(s.ended) {
		// Refunded or reversed: the subscription is canceled.
		sub.SubscriptionEnabled = false
		sub.RecurringEnabled = false
	}
	return sub
}
