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
	cur := &currencies[s.cur]
	o := extract.Order{
		RefNo:                s.refNo(),
		OrderNo:              integer(s.orderNo),
		ExternalReference:    s.externalRef(),
		OrderDate:            s.placed.In(m.loc).Format(extract.DateLayout),
		Currency:             cur.code,
		Country:              s.country,
		TestOrder:            s.test,
		CustomerReference:    integer(s.customer),
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

	var total amounts
	for k, l := range s.lines {
		a := l.unit.times(l.qty)
		total = total.plus(a)
		d := func(v int64) json.Number { return decimal(v, cur.exp) }
		o.Items[k] = extract.OrderItem{
			Code:           l.product.code,
			ProductDetails: extract.ProductDetails{Name: l.product.name},
			SKU:            "SKU-" + l.product.code,
			Quantity:       integer(l.qty),
			Price: extract.ItemPrice{
				Currency:                 cur.code,
				NetPrice:                 d(a.net),
				GrossPrice:               d(a.gross),
				NetDiscountedPrice:       d(a.netDisc),
				GrossDiscountedPrice:     d(a.grossDisc),
				Discount:                 d(a.discount),
				VAT:                      d(a.vat),
				AffiliateCommission:      d(a.affiliate),
				UnitNetPrice:             d(l.unit.net),
				UnitGrossPrice:           d(l.unit.gross),
				UnitVAT:                  d(l.unit.vat),
				UnitDiscount:             d(l.unit.discount),
				UnitNetDiscountedPrice:   d(l.unit.netDisc),
				UnitGrossDiscountedPrice: d(l.unit.grossDisc),
				UnitAffiliateCommission:  d(l.unit.affiliate),
			},
		}
	}
	o.NetPrice = decimal(total.net, cur.exp)
	o.GrossPrice = decimal(total.gross, cur.exp)
	o.NetDiscountedPrice = decimal(total.netDisc, cur.exp)
	o.GrossDiscountedPrice = decimal(total.grossDisc, cur.exp)
	o.Discount = decimal(total.discount, cur.exp)
	o.VAT = decimal(total.vat, cur.exp)
	o.AffiliateCommission = decimal(total.affiliate, cur.exp)
	o.AvangateCommission = decimal(roundDiv(total.grossDisc*490, 10000)+cur.fixedFee, cur.exp)
	return o
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
