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
	"golang.org/x/text/language"
)

// convert turns the detail of the sale id into o; a sale without
// cust_currency is in currency, the account's.
func convert(id string, s *sale, currency string, o *extract.Order) error {
	switch {
	case s == nil:
		return errors.New("no sale in response")
	case string(s.SaleID) != id:
		return fmt.Errorf("response is for sale %q", s.SaleID)
	case len(s.Invoices) == 0:
		return errors.New("sale has no invoices")
	}
	inv := &s.Invoices[0]
	if c := strings.TrimSpace(inv.CustCurrency); c != "" {
		currency = c
	}
	*o = extract.Order{
		RefNo:                id,
		OrderDate:            s.DatePlaced,
		TestOrder:            s.Demo == "Y",
		CustomerReference:    json.Number(s.Customer.CustomerID),
		ExternalReference:    string(inv.VendorOrderID),
		Currency:             currency,
		GrossDiscountedPrice: canonical(json.Number(inv.CustomerTotal)),
	}
	o.BillingDetails.CountryCode = country(s.Customer)
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
			Price:          extract.ItemPrice{Currency: currency, GrossPrice: canonical(json.Number(l.CustomerAmount))},
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

// country returns the customer's ISO 3166-1 alpha-2 code, upper-cased:
// country_code_2, or else country_code, which recorded responses send as
// alpha-3 ("USA") and older documents as alpha-2. It is empty when neither
// names a country.
func country(c customer) string {
	for _, code := range []string{c.CountryCode2, c.CountryCode} {
		code = strings.TrimSpace(code)
		if len(code) != 2 && len(code) != 3 {
			continue
		}
		// ParseRegion also takes UN M.49 numbers ("840"), which are not
		// what these fields hold.
		if strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			continue
		}
		if r, err := language.ParseRegion(code); err == nil && r.IsCountry() {
			return r.String()
		}
	}
	return ""
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
