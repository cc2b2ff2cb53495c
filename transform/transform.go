// Package transform turns raw 2Checkout records into canonical rows: exact
// decimals, UTC microsecond timestamps, dates in the account's reporting time
// zone, upper-case ISO codes. A record that cannot be converted yields a
// *FieldError naming the field and the reason, never a half-filled row.
package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// Converter converts the records of one account in one run.
type Converter struct {
	MerchantCode string
	SourceAPI    string
	// Source is the time zone of the API's zone-less timestamps.
	Source *time.Location
	// Reporting decides order dates.
	Reporting   *time.Location
	RunID       string
	ExtractedAt time.Time

	// Rounded counts amounts that had more than six decimals and were
	// rounded half to even.
	Rounded int64
}

// FieldError says which field of a raw record is wrong and why.
type FieldError struct {
	Field string
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %s: %v (value %q)", e.Field, e.Err, e.Value)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Errors the FieldError may wrap.
var (
	ErrMissing  = errors.New("required value missing")
	ErrInvalid  = errors.New("invalid value")
	ErrCurrency = errors.New("not an ISO 4217 currency code")
	ErrCountry  = errors.New("not an ISO 3166-1 alpha-2 country code")
	ErrTime     = errors.New("not a date and time")
	ErrNegative = errors.New("must not be negative")
)

// SourceLegacy is the SourceAPI of orders read from the legacy Admin API,
// which sends fewer amounts than API 6.0.
const SourceLegacy = "legacy"

// Order converts a raw order into o and its lines, appended to items[:0],
// and returns the lines. o and items are reused between calls so that a page
// converts without allocating per row.
//
// An order missing a required value is rejected with a *FieldError naming
// the field (ErrMissing), never stored with a zero in its place:
//
//   - Required of every order: RefNo, OrderDate, Currency, Status,
//     GrossPrice, GrossDiscountedPrice, and at least one entry in Items;
//     of every item: Code, Quantity, Price.GrossPrice.
//   - Required of API 6.0 orders (JSON-RPC, REST) as well: NetPrice,
//     NetDiscountedPrice, VAT, AvangateCommission; of their items:
//     Price.NetPrice, Price.NetDiscountedPrice, Price.GrossDiscountedPrice,
//     Price.VAT. The legacy API has none of these; they are 0 there.
//   - May be absent or null (stored as 0 or NULL): Discount and
//     AffiliateCommission (0 with no discount or affiliate), the items'
//     Price.Discount, Price.AffiliateCommission and Unit* amounts (0),
//     and OrderNo (0 until the order completes: NULL), ExternalReference,
//     ApproveStatus, FinishDate, BillingDetails, DeliveryDetails,
//     PaymentDetails, FxRate, FxMarkup, PayoutCurrency, Origin,
//     CustomerReference, Affiliate, ChargebackReasonCode, and the items'
//     ProductDetails.Name, SKU, LineItemReference, PurchaseType,
//     Price.VATPercent and Price.Currency (the order's) (NULL).
//   - ChargebackResolution absent is ResolutionUnknown, never NONE (see
//     disputeFields).
func (c *Converter) Order(raw *extract.Order, o *schemas.Order, items []schemas.OrderItem) ([]schemas.OrderItem, error) {
	items = items[:0]
	if raw.RefNo == "" {
		return items, &FieldError{Field: "RefNo", Err: ErrMissing}
	}
	ts, err := c.timestamp("OrderDate", raw.OrderDate)
	if err != nil {
		return items, err
	}
	currency, ok := currencyCode(raw.Currency)
	if !ok {
		return items, &FieldError{Field: "Currency", Value: raw.Currency, Err: ErrCurrency}
	}
	status := strings.ToUpper(strings.TrimSpace(raw.Status))
	if status == "" {
		return items, &FieldError{Field: "Status", Err: ErrMissing}
	}
	*o = schemas.Order{
		MerchantCode:         c.MerchantCode,
		RefNo:                raw.RefNo,
		SourceAPI:            c.SourceAPI,
		ExternalReference:    optString(raw.ExternalReference),
		Status:               status,
		ApproveStatus:        optString(strings.ToUpper(raw.ApproveStatus)),
		OrderTS:              ts,
		OrderDate:            civil.DateOf(ts.In(c.Reporting)),
		Currency:             currency,
		IsTest:               raw.TestOrder,
		CustomerReference:    optString(raw.CustomerReference.String()),
		ChargebackResolution: ResolutionUnknown,
		PaymentType:          optString(strings.ToUpper(strings.TrimSpace(raw.PaymentDetails.Type))),
		CardType:             optString(strings.TrimSpace(raw.PaymentDetails.PaymentMethod.CardType)),
		Origin:               optString(strings.TrimSpace(raw.Origin)),
		RunID:                c.RunID,
		ExtractedAt:          c.ExtractedAt,
	}
	disputeFields(raw, o)
	if raw.OrderNo != "" {
		n, err := strconv.ParseInt(raw.OrderNo.String(), 10, 64)
		if err != nil {
			return items, &FieldError{Field: "OrderNo", Value: raw.OrderNo.String(), Err: ErrInvalid}
		}
		// 2Checkout sends OrderNo 0 until the order completes: no number yet.
		if n != 0 {
			o.OrderNo = &n
		}
	}
	if raw.FinishDate != "" {
		f, err := c.timestamp("FinishDate", raw.FinishDate)
		if err != nil {
			return items, err
		}
		o.FinishTS = &f
	}
	if err := c.orderReal(raw, o); err != nil {
		return items, err
	}
	if raw.Affiliate != nil {
		o.AffiliateCode = optString(raw.Affiliate.AffiliateCode)
	}
	if err := c.orderAmounts(raw, o); err != nil {
		return items, err
	}
	if len(raw.Items) == 0 {
		return items, &FieldError{Field: "Items", Err: ErrMissing}
	}
	for i := range raw.Items {
		it, err := c.item(o, i, &raw.Items[i])
		if err != nil {
			return items[:0], err
		}
		items = append(items, it)
	}
	return items, nil
}

// orderReal converts the fields of the real response shape that need
// checking: the countries, the payout currency and the FX rates. country
// keeps its meaning, the billing country, as billing_country.
// disputeFields sets o's chargeback resolution and reason code from raw:
// a present but empty resolution means no dispute (NONE); an absent one
// leaves o's ResolutionUnknown, since whether the order is disputed is not
// known.
func disputeFields(raw *extract.Order, o *schemas.Order) {
	if raw.ChargebackResolution != nil {
		o.ChargebackResolution = "NONE"
		if r := strings.ToUpper(strings.TrimSpace(*raw.ChargebackResolution)); r != "" {
			o.ChargebackResolution = r
		}
	}
	if raw.ChargebackReasonCode != nil {
		o.ChargebackReasonCode = optString(*raw.ChargebackReasonCode)
	}
}

func (c *Converter) orderReal(raw *extract.Order, o *schemas.Order) error {
	for _, f := range [...]struct {
		name, v string
		dst     **string
	}{
		{"BillingDetails.CountryCode", raw.BillingDetails.CountryCode, &o.BillingCountry},
		{"DeliveryDetails.CountryCode", raw.DeliveryDetails.CountryCode, &o.DeliveryCountry},
	} {
		if f.v == "" {
			continue
		}
		cc, ok := countryCode(f.v)
		if !ok {
			return &FieldError{Field: f.name, Value: f.v, Err: ErrCountry}
		}
		*f.dst = &cc
	}
	o.Country = o.BillingCountry
	if raw.PayoutCurrency != "" {
		cur, ok := currencyCode(raw.PayoutCurrency)
		if !ok {
			return &FieldError{Field: "PayoutCurrency", Value: raw.PayoutCurrency, Err: ErrCurrency}
		}
		o.PayoutCurrency = &cur
	}
	var err error
	if o.FxRate, err = optRate("FxRate", raw.FxRate); err != nil {
		return err
	}
	o.FxMarkup, err = optRate("FxMarkup", raw.FxMarkup)
	return err
}

// optRate parses an exact decimal rate into DECIMAL(18,9), nil when absent.
// A rate with more than nine decimals is refused rather than rounded: no
// API sends one, so it means a misread field.
func optRate(field string, n json.Number) (*money.Rate, error) {
	if n == "" {
		return nil, nil
	}
	if a, rounded, err := money.Parse(n.String()); err == nil && !rounded && a >= 0 && a.Units() < 1_000_000_000_000_000 {
		// Six decimals or fewer, the common case: no big.Rat per line.
		v := money.RateFromUnits(a.Units() * (1_000_000_000 / 1_000_000))
		return &v, nil
	}
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return nil, &FieldError{Field: field, Value: n.String(), Err: ErrInvalid}
	}
	v, rounded, err := money.RateFromRat(r)
	switch {
	case err != nil:
		return nil, &FieldError{Field: field, Value: n.String(), Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	case rounded:
		return nil, &FieldError{Field: field, Value: n.String(), Err: fmt.Errorf("%w: more than %d decimals", ErrInvalid, money.RateScale)}
	case v < 0:
		return nil, &FieldError{Field: field, Value: n.String(), Err: ErrNegative}
	}
	return &v, nil
}

// orderAmounts converts the order's amounts into o.
func (c *Converter) orderAmounts(raw *extract.Order, o *schemas.Order) error {
	api6 := c.SourceAPI != SourceLegacy
	return c.amounts([]amountField{
		{"NetPrice", raw.NetPrice, &o.NetPrice, api6},
		{"GrossPrice", raw.GrossPrice, &o.GrossPrice, true},
		{"NetDiscountedPrice", raw.NetDiscountedPrice, &o.NetDiscountedPrice, api6},
		{"GrossDiscountedPrice", raw.GrossDiscountedPrice, &o.GrossDiscountedPrice, true},
		{"Discount", raw.Discount, &o.Discount, false},
		{"VAT", raw.VAT, &o.VAT, api6},
		{"AffiliateCommission", raw.AffiliateCommission, &o.AffiliateCommission, false},
		{"AvangateCommission", raw.AvangateCommission, &o.TwoCheckoutCommission, api6},
	})
}

func (c *Converter) item(o *schemas.Order, i int, raw *extract.OrderItem) (schemas.OrderItem, error) {
	field := func(name string) string { return fmt.Sprintf("Items[%d].%s", i, name) }
	if raw.Code == "" {
		return schemas.OrderItem{}, &FieldError{Field: field("Code"), Err: ErrMissing}
	}
	// The line's optional values share one allocation.
	opt := &itemOptionals{name: raw.ProductDetails.Name, sku: raw.SKU, ref: raw.LineItemReference,
		purchase: strings.ToUpper(strings.TrimSpace(raw.PurchaseType))}
	it := schemas.OrderItem{
		MerchantCode:      o.MerchantCode,
		RefNo:             o.RefNo,
		LineNo:            int64(i + 1),
		OrderDate:         o.OrderDate,
		ProductCode:       raw.Code,
		ProductName:       nonEmpty(&opt.name),
		SKU:               nonEmpty(&opt.sku),
		Currency:          o.Currency,
		LineItemReference: nonEmpty(&opt.ref),
		PurchaseType:      nonEmpty(&opt.purchase),
		RunID:             o.RunID,
		ExtractedAt:       o.ExtractedAt,
	}
	q, err := strconv.ParseInt(raw.Quantity.String(), 10, 64)
	switch {
	case err != nil:
		return it, &FieldError{Field: field("Quantity"), Value: raw.Quantity.String(), Err: ErrInvalid}
	case q < 0:
		return it, &FieldError{Field: field("Quantity"), Value: raw.Quantity.String(), Err: ErrNegative}
	}
	it.Quantity = q
	if raw.Price.Currency != "" {
		cur, ok := currencyCode(raw.Price.Currency)
		if !ok {
			return it, &FieldError{Field: field("Price.Currency"), Value: raw.Price.Currency, Err: ErrCurrency}
		}
		if cur != o.Currency {
			return it, &FieldError{Field: field("Price.Currency"), Value: raw.Price.Currency,
				Err: fmt.Errorf("%w: differs from the order currency %s", ErrInvalid, o.Currency)}
		}
	}
	p := &raw.Price
	if p.VATPercent != "" {
		v, err := optRate("Price.VATPercent", p.VATPercent)
		if err != nil {
			if fe, ok := errors.AsType[*FieldError](err); ok {
				fe.Field = field(fe.Field) // spelled out only for an error
			}
			return it, err
		}
		opt.vat = *v
		it.VATPercent = &opt.vat
	}
	api6 := c.SourceAPI != SourceLegacy
	err = c.amounts([]amountField{
		{"Price.NetPrice", p.NetPrice, &it.NetPrice, api6},
		{"Price.GrossPrice", p.GrossPrice, &it.GrossPrice, true},
		{"Price.NetDiscountedPrice", p.NetDiscountedPrice, &it.NetDiscountedPrice, api6},
		{"Price.GrossDiscountedPrice", p.GrossDiscountedPrice, &it.GrossDiscountedPrice, api6},
		{"Price.Discount", p.Discount, &it.Discount, false},
		{"Price.VAT", p.VAT, &it.VAT, api6},
		{"Price.AffiliateCommission", p.AffiliateCommission, &it.AffiliateCommission, false},
		{"Price.UnitNetPrice", p.UnitNetPrice, &it.UnitNetPrice, false},
		{"Price.UnitGrossPrice", p.UnitGrossPrice, &it.UnitGrossPrice, false},
		{"Price.UnitVAT", p.UnitVAT, &it.UnitVAT, false},
		{"Price.UnitDiscount", p.UnitDiscount, &it.UnitDiscount, false},
		{"Price.UnitNetDiscountedPrice", p.UnitNetDiscountedPrice, &it.UnitNetDiscountedPrice, false},
		{"Price.UnitGrossDiscountedPrice", p.UnitGrossDiscountedPrice, &it.UnitGrossDiscountedPrice, false},
		{"Price.UnitAffiliateCommission", p.UnitAffiliateCommission, &it.UnitAffiliateCommission, false},
	})
	if fe, ok := errors.AsType[*FieldError](err); ok {
		// The item's position is spelled only for an error, not per amount.
		fe.Field = field(fe.Field)
	}
	return it, err
}

// Subscription converts a raw subscription into s, a current version valid
// from the subscription's start date.
func (c *Converter) Subscription(raw *extract.Subscription, s *schemas.Subscription) error {
	if raw.SubscriptionReference == "" {
		return &FieldError{Field: "SubscriptionReference", Err: ErrMissing}
	}
	if raw.Product.ProductCode == "" {
		return &FieldError{Field: "Product.ProductCode", Err: ErrMissing}
	}
	start, err := c.timestamp("StartDate", raw.StartDate)
	if err != nil {
		return err
	}
	*s = schemas.Subscription{
		MerchantCode:              c.MerchantCode,
		SubscriptionReference:     raw.SubscriptionReference,
		ValidFrom:                 civil.DateOf(start.In(c.Reporting)),
		ValidTo:                   schemas.OpenValidTo(),
		ProductCode:               raw.Product.ProductCode,
		ProductName:               optString(raw.Product.ProductName),
		StartTS:                   start,
		RecurringEnabled:          raw.RecurringEnabled,
		SubscriptionEnabled:       raw.SubscriptionEnabled,
		Lifetime:                  raw.Lifetime,
		IsTest:                    raw.TestSubscription,
		IsTrial:                   raw.IsTrial,
		CustomerReference:         optString(raw.AvangateCustomerReference.String()),
		ExternalCustomerReference: optString(raw.ExternalCustomerReference),
		PartnerCode:               optString(raw.PartnerCode),
		RunID:                     c.RunID,
		ExtractedAt:               c.ExtractedAt,
	}
	if q := raw.Product.ProductQuantity.String(); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		switch {
		case err != nil:
			return &FieldError{Field: "Product.ProductQuantity", Value: q, Err: ErrInvalid}
		case n < 0:
			return &FieldError{Field: "Product.ProductQuantity", Value: q, Err: ErrNegative}
		}
		s.ProductQuantity = n
	}
	for _, f := range [...]struct {
		name string
		in   string
		out  **time.Time
	}{
		{"ActivationDate", raw.ActivationDate, &s.ActivationTS},
		{"ExpirationDate", raw.ExpirationDate, &s.ExpirationTS},
	} {
		if f.in == "" {
			continue
		}
		t, err := c.timestamp(f.name, f.in)
		if err != nil {
			return err
		}
		*f.out = &t
	}
	if raw.NextBillingDate != "" {
		d, err := civil.ParseDate(dateOnly(raw.NextBillingDate))
		if err != nil {
			return &FieldError{Field: "NextBillingDate", Value: raw.NextBillingDate, Err: ErrTime}
		}
		s.NextBillingDate = &d
	}
	if raw.EndUser.CountryCode != "" {
		cc, ok := countryCode(raw.EndUser.CountryCode)
		if !ok {
			return &FieldError{Field: "EndUser.CountryCode", Value: raw.EndUser.CountryCode, Err: ErrCountry}
		}
		s.EndUserCountry = &cc
	}
	return nil
}

// timestampLayouts are the forms the APIs use for zone-less local times, and
// the ISO 8601 forms with an offset, which are honoured as given.
var timestampLayouts = [...]string{
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05.999999",
	"2006-01-02T15:04:05.999999",
	"2006-01-02",
}

// timestamp parses an API time in the source time zone and returns it in UTC,
// truncated to microseconds (the contract's precision).
func (c *Converter) timestamp(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, &FieldError{Field: field, Err: ErrMissing}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	for _, layout := range timestampLayouts {
		if t, err := time.ParseInLocation(layout, s, c.Source); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, &FieldError{Field: field, Value: s, Err: ErrTime}
}

// amount parses a JSON number exactly. An absent or null amount is
// ErrMissing if required, else 0.
// amountField is one amount of a record: its field name, the API's text,
// where its value goes, and whether it must be present.
type amountField struct {
	name     string
	in       json.Number
	out      *money.Amount
	required bool
}

// amounts converts fields in order and stops at the first error.
func (c *Converter) amounts(fields []amountField) error {
	for _, f := range fields {
		if err := c.amount(f.name, f.in, f.out, f.required); err != nil {
			return err
		}
	}
	return nil
}

func (c *Converter) amount(field string, n json.Number, out *money.Amount, required bool) error {
	if n == "" {
		*out = 0
		if required {
			return &FieldError{Field: field, Err: ErrMissing}
		}
		return nil
	}
	a, rounded, err := money.Parse(string(n))
	if err != nil {
		return &FieldError{Field: field, Value: string(n), Err: err}
	}
	if rounded {
		c.Rounded++
	}
	*out = a
	return nil
}

// itemOptionals holds the optional values of an order line, so that
// pointing to them costs one allocation a line rather than one each.
type itemOptionals struct {
	name, sku, ref, purchase string
	vat                      money.Rate
}

// nonEmpty returns p, or nil if *p is empty.
func nonEmpty(p *string) *string {
	if *p == "" {
		return nil
	}
	return p
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dateOnly drops a time part from a date the API may send as a timestamp.
func dateOnly(s string) string {
	if len(s) > 10 && (s[10] == ' ' || s[10] == 'T') {
		return s[:10]
	}
	return s
}
