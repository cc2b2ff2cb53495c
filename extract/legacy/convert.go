package legacy

// The conversion of a sale into an API 6.0 order, described in the
// package documentation.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ledgerline/ledgerline/extract"
)

// convert turns the detail of the sale id into o.
func convert(id string, s *sale, o *extract.Order) error {
	switch {
	case s == nil:
		return errors.New("no sale in response")
	case string(s.SaleID) != id:
		return fmt.Errorf("response is for sale %q", s.SaleID)
	case len(s.Invoices) == 0:
		return errors.New("sale has no invoices")
	}
	inv := &s.Invoices[0]
	*o = extract.Order{
		RefNo:                id,
		OrderDate:            s.DatePlaced,
		TestOrder:            s.Demo == "Y",
		CustomerReference:    json.Number(s.Customer.CustomerID),
		ExternalReference:    string(inv.VendorOrderID),
		Currency:             inv.CustCurrency,
		GrossDiscountedPrice: canonical(json.Number(inv.CustomerTotal)),
	}
	if cc := strings.TrimSpace(s.Customer.CountryCode); len(cc) == 2 {
		o.BillingDetails.CountryCode = strings.ToUpper(cc)
	}
	var coupons []string
	products, refunded := 0, 0
	for _, l := range inv.Lineitems {
		switch l.Type {
		case "coupon":
			coupons = append(coupons, string(l.CustomerAmount))
			continue
		case "product", "":
		default:
			continue
		}
		products++
		if l.Status == "refund" {
			refunded++
		}
		qty := canonical(json.Number(l.Quantity))
		if qty == "" {
			qty = "1"
		}
		o.Items = append(o.Items, extract.OrderItem{
			Code:           string(l.VendorProductID),
			ProductDetails: extract.ProductDetails{Name: l.ProductName},
			Quantity:       qty,
			Price:          extract.ItemPrice{Currency: inv.CustCurrency, GrossPrice: canonical(json.Number(l.CustomerAmount))},
		})
	}
	discount, err := sum(coupons, true)
	if err != nil {
		return fmt.Errorf("coupon lines: %w", err)
	}
	o.Discount = discount
	if inv.CustomerTotal != "" {
		if o.GrossPrice, err = sum([]string{string(inv.CustomerTotal), string(discount)}, false); err != nil {
			return fmt.Errorf("customer_total: %w", err)
		}
	}
	o.Status = status(inv.Status, products > 0 && refunded == products)
	return nil
}

// status maps an invoice status to the API 6.0 vocabulary.
func status(invoice string, refunded bool) string {
	switch s := strings.ToLower(strings.TrimSpace(invoice)); s {
	case "pending":
		return "PENDING"
	case "approved", "deposited":
		if refunded {
			return "REFUND"
		}
		return "COMPLETE"
	case "declined":
		return "CANCELED"
	default:
		return strings.ToUpper(s)
	}
}

// sum adds decimal numbers exactly, negated if neg, and formats the result
// with as few decimals as it needs. Empty terms count as 0.
func sum(terms []string, neg bool) (json.Number, error) {
	var total big.Rat
	for _, t := range terms {
		if t == "" {
			continue
		}
		var r big.Rat
		if _, ok := r.SetString(t); !ok {
			return "", fmt.Errorf("%q is not a number", t)
		}
		total.Add(&total, &r)
	}
	if neg {
		total.Neg(&total)
	}
	ten := big.NewRat(10, 1)
	scaled := new(big.Rat).Set(&total)
	for places := 0; places <= 18; places++ {
		if scaled.IsInt() {
			return json.Number(total.FloatString(places)), nil
		}
		scaled.Mul(scaled, ten)
	}
	return "", fmt.Errorf("%s has more than 18 decimals", total.RatString())
}

// canonical returns n in its shortest exact decimal form; empty, and
// anything that is not a number, stay as they are.
func canonical(n json.Number) json.Number {
	if n == "" {
		return n
	}
	c, err := sum([]string{string(n)}, false)
	if err != nil {
		return n
	}
	return c
}
