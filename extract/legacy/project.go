package legacy

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/ledgerline/ledgerline/extract"
)

// Project returns what the legacy API carries of o, in the form Orders
// gives it: the fields the conversion table of the package documentation
// fills, statuses in the vocabulary the legacy API can tell apart
// (AUTHRECEIVED is PENDING, REVERSED is REFUND), no test flag (recorded
// responses have no demo), the country as an upper-case alpha-2 code, an
// item of quantity n as n items of quantity 1 (the API has a line per
// unit), and amounts and quantities in their shortest exact decimal form
// ("19.90" is "19.9"). Orders yields the Project of the API 6.0 order of
// each sale, so Project compares extractions of one merchant through
// different APIs. Project(Project(o)) equals Project(o).
func Project(o extract.Order) extract.Order {
	p := extract.Order{
		RefNo:                o.RefNo,
		OrderDate:            o.OrderDate,
		CustomerReference:    o.CustomerReference,
		ExternalReference:    o.ExternalReference,
		Currency:             o.Currency,
		Status:               projectStatus(o.Status),
		GrossPrice:           canonical(o.GrossPrice),
		Discount:             canonical(o.Discount),
		GrossDiscountedPrice: canonical(o.GrossDiscountedPrice),
	}
	p.BillingDetails.CountryCode = country(customer{CountryCode2: o.BillingDetails.CountryCode})
	for _, it := range o.Items {
		unit := extract.OrderItem{
			Code:           it.Code,
			ProductDetails: it.ProductDetails,
			Quantity:       canonical(it.Quantity),
			Price:          extract.ItemPrice{Currency: strings.ToUpper(it.Price.Currency), GrossPrice: canonical(it.Price.GrossPrice)},
		}
		n, each, ok := perUnit(unit.Quantity, unit.Price.GrossPrice)
		if ok {
			unit.Quantity, unit.Price.GrossPrice = "1", each
		}
		for range n {
			p.Items = append(p.Items, unit)
		}
	}
	return p
}

// perUnit splits a line of qty units costing gross: the number of units
// and the price of each, if qty is a whole number and gross divides
// exactly. Otherwise it reports one line, not ok.
func perUnit(qty, gross json.Number) (n int, each json.Number, ok bool) {
	q, err := strconv.Atoi(string(qty))
	if err != nil || q < 1 || q > 10_000 {
		return 1, "", false
	}
	if q == 1 || gross == "" {
		return q, gross, true
	}
	var g big.Rat
	if _, ok := g.SetString(string(gross)); !ok {
		return 1, "", false
	}
	g.Quo(&g, big.NewRat(int64(q), 1))
	e, err := sum([]string{g.RatString()}, false)
	if err != nil {
		return 1, "", false
	}
	return q, e, true
}

// projectStatus maps an API 6.0 status to the one the legacy API shows.
func projectStatus(s string) string {
	switch s {
	case "AUTHRECEIVED":
		return "PENDING"
	case "REVERSED":
		return "REFUND"
	}
	return s
}
