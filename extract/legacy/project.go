package legacy

import (
	"strings"

	"github.com/ledgerline/ledgerline/extract"
)

// Project returns what the legacy API carries of o, in the form Orders
// gives it: the fields the conversion table of the package documentation
// fills, statuses in the vocabulary the legacy API can tell apart
// (AUTHRECEIVED is PENDING, REVERSED is REFUND), the country upper-cased,
// and amounts and quantities in their shortest exact decimal form ("19.90"
// is "19.9"). Orders yields the Project of the API 6.0 order of each sale,
// so Project compares extractions of one merchant through different APIs.
// Project(Project(o)) equals Project(o).
func Project(o extract.Order) extract.Order {
	p := extract.Order{
		RefNo:                o.RefNo,
		OrderDate:            o.OrderDate,
		TestOrder:            o.TestOrder,
		CustomerReference:    o.CustomerReference,
		ExternalReference:    o.ExternalReference,
		Currency:             o.Currency,
		Status:               projectStatus(o.Status),
		GrossPrice:           canonical(o.GrossPrice),
		Discount:             canonical(o.Discount),
		GrossDiscountedPrice: canonical(o.GrossDiscountedPrice),
	}
	if cc := strings.TrimSpace(o.BillingDetails.CountryCode); len(cc) == 2 {
		p.BillingDetails.CountryCode = strings.ToUpper(cc)
	}
	for _, it := range o.Items {
		p.Items = append(p.Items, extract.OrderItem{
			Code:           it.Code,
			ProductDetails: it.ProductDetails,
			Quantity:       canonical(it.Quantity),
			Price:          extract.ItemPrice{Currency: strings.ToUpper(it.Price.Currency), GrossPrice: canonical(it.Price.GrossPrice)},
		})
	}
	return p
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
