package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ledgerline/ledgerline/extract"
)

// Field coverage: the share of a stream's records that carried each field
// the tables depend on. A field the API stops sending (a permission
// withdrawn, a changed response shape) would otherwise turn into NULLs or
// defaults without a trace; every run records the counts in etl_runs and
// prints the fields under 100%.

// ErrNoChargebackData is wrapped by the error of a run that includes the
// chargebacks stream when no order of its window carries
// ChargebackResolution.
var ErrNoChargebackData = errors.New("orders carry no ChargebackResolution")

// orderFields are the order fields counted, and how to tell one is present.
var orderFields = [...]struct {
	name    string
	present func(*extract.Order) bool
}{
	{"ChargebackResolution", func(o *extract.Order) bool { return o.ChargebackResolution != nil }},
	{"ChargebackReasonCode", func(o *extract.Order) bool { return o.ChargebackReasonCode != nil }},
	{"BillingDetails.CountryCode", func(o *extract.Order) bool { return o.BillingDetails.CountryCode != "" }},
	{"CustomerReference", func(o *extract.Order) bool { return o.CustomerReference != "" }},
	{"FxRate", func(o *extract.Order) bool { return o.FxRate != "" }},
	{"PayoutCurrency", func(o *extract.Order) bool { return o.PayoutCurrency != "" }},
	{"PaymentDetails.Type", func(o *extract.Order) bool { return o.PaymentDetails.Type != "" }},
	{"Origin", func(o *extract.Order) bool { return o.Origin != "" }},
}

// subscriptionFields are the subscription fields counted.
var subscriptionFields = [...]struct {
	name    string
	present func(*extract.Subscription) bool
}{
	{"StartDate", func(s *extract.Subscription) bool { return s.StartDate != "" }},
	{"Product.ProductName", func(s *extract.Subscription) bool { return s.Product.ProductName != "" }},
	{"Product.ProductQuantity", func(s *extract.Subscription) bool { return s.Product.ProductQuantity != "" }},
	{"EndUser.CountryCode", func(s *extract.Subscription) bool { return s.EndUser.CountryCode != "" }},
	{"AvangateCustomerReference", func(s *extract.Subscription) bool { return s.AvangateCustomerReference != "" }},
}

// counts are one stream's counts: records seen and, by field, those that
// carried it.
type counts struct {
	Records int64            `json:"records"`
	Present map[string]int64 `json:"present"`
}

// Coverage is the field coverage of a run, by stream. The zero value is
// ready to use; it is not safe for concurrent use (pages are counted as
// they are written, in order).
type Coverage map[string]*counts

func (c *Coverage) stream(name string) *counts {
	if *c == nil {
		*c = Coverage{}
	}
	s := (*c)[name]
	if s == nil {
		s = &counts{Present: map[string]int64{}}
		for _, f := range fieldNames(name) {
			s.Present[f] = 0 // a field no record carried is listed, at 0
		}
		(*c)[name] = s
	}
	return s
}

// fieldMask holds, one bit per orderFields entry, the fields an order
// carried: counted when the writer knows the order was not read before.
type fieldMask uint8

func orderFieldMask(o *extract.Order) fieldMask {
	var m fieldMask
	for i, f := range orderFields {
		if f.present(o) {
			m |= 1 << i
		}
	}
	return m
}

// orderCounts counts the orders of a page.
type orderCounts struct {
	records int64
	present [len(orderFields)]int64
}

func (oc *orderCounts) add(m fieldMask) {
	oc.records++
	for i := range orderFields {
		if m&(1<<i) != 0 {
			oc.present[i]++
		}
	}
}

// addOrders adds a page's order counts.
func (c *Coverage) addOrders(oc orderCounts) {
	s := c.stream(extract.StreamOrders)
	s.Records += oc.records
	for i, f := range orderFields {
		s.Present[f.name] += oc.present[i]
	}
}

// addSubscription counts one subscription.
func (c *Coverage) addSubscription(sub *extract.Subscription) {
	s := c.stream(extract.StreamSubscriptions)
	s.Records++
	for _, f := range subscriptionFields {
		if f.present(sub) {
			s.Present[f.name]++
		}
	}
}

// JSON is the compact JSON that etl_runs.field_coverage holds, e.g.
// {"orders":{"records":120,"present":{"ChargebackResolution":120,...}}};
// empty for a run that read nothing.
func (c Coverage) JSON() string {
	if len(c) == 0 {
		return ""
	}
	b, err := json.Marshal(c) // map keys sorted: the same counts, the same text
	if err != nil {
		return ""
	}
	return string(b)
}

// Incomplete returns one line per stream listing the fields carried by
// fewer than all its records, with their share, e.g.
// "orders: ChargebackResolution 0.0% (0 of 120)"; none when every field is
// complete.
func (c Coverage) Incomplete() []string {
	var out []string
	for _, stream := range []string{extract.StreamOrders, extract.StreamSubscriptions} {
		s := c[stream]
		if s == nil || s.Records == 0 {
			continue
		}
		var parts []string
		for _, name := range fieldNames(stream) {
			if n := s.Present[name]; n < s.Records {
				parts = append(parts, fmt.Sprintf("%s %s (%d of %d)", name, share(n, s.Records), n, s.Records))
			}
		}
		if len(parts) > 0 {
			out = append(out, stream+": "+strings.Join(parts, ", "))
		}
	}
	return out
}

func fieldNames(stream string) []string {
	var names []string
	if stream == extract.StreamOrders {
		for _, f := range orderFields {
			names = append(names, f.name)
		}
		return names
	}
	for _, f := range subscriptionFields {
		names = append(names, f.name)
	}
	return names
}

// share formats n of total as a percentage with one decimal, rounded down
// so that a share under 100% never prints as 100.0%.
func share(n, total int64) string {
	tenths := n * 1000 / total
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}

// checkChargebackCoverage fails a run that computes chargebacks from
// orders none of which carried ChargebackResolution, and warns when only
// some did: the others are unknown, and make no chargebacks rows.
func (r *Run) checkChargebackCoverage(log *slog.Logger, c Coverage) error {
	s := c[extract.StreamOrders]
	if s == nil || s.Records == 0 {
		return nil
	}
	n := s.Present["ChargebackResolution"]
	switch {
	case n == 0:
		return fmt.Errorf("account %s: %w: none of the %d orders read for the window has the field, so disputes and fees cannot be computed; "+
			"grant the API user permission to read chargeback data, or set `chargebacks: unavailable` on the account",
			r.Account.Name, ErrNoChargebackData, s.Records)
	case n < s.Records:
		log.Warn("some orders carry no ChargebackResolution; their disputes are unknown and make no chargebacks rows",
			"share", share(n, s.Records), "with", n, "orders", s.Records)
	}
	return nil
}
