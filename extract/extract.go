// Package extract reads raw records from the 2Checkout APIs. Each API has one
// client behind the Source interface; a source yields pages of raw records as
// a stream, so memory holds one page at a time however long the window is.
//
// The raw records mirror the API 6.0 objects. Numbers are json.Number, never
// float64, so amounts reach the transform exactly as they were sent.
package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"cloud.google.com/go/civil"
)

// Stream names.
const (
	StreamOrders        = "orders"
	StreamSubscriptions = "subscriptions"
)

// Window is an inclusive range of dates in the account's API time zone, the
// dates that the API's StartDate/EndDate filters compare against.
type Window struct {
	From, To civil.Date
}

func (w Window) String() string { return w.From.String() + ".." + w.To.String() }

// Page is one page of a search result.
type Page[T any] struct {
	// Number is the page number, from 1.
	Number int
	// Count is the total number of results the API reported for the search.
	Count int
	Items []T
}

// Source reads one account's records from one 2Checkout API.
//
// Orders and Subscriptions call yield once per page, in page order, and stop
// at the first error, from the API or from yield. The Page passed to yield
// is only valid during the call.
type Source interface {
	// API names the API the source reads: "jsonrpc", "rest" or "legacy".
	API() string
	// Orders yields the orders placed within w.
	Orders(ctx context.Context, w Window, yield func(Page[Order]) error) error
	// Subscriptions yields the subscriptions of the account f asks for:
	// the zero filter, every one.
	Subscriptions(ctx context.Context, f SubscriptionFilter, yield func(Page[Subscription]) error) error
}

// SubscriptionFilter narrows a subscription search. The zero value asks
// for every subscription.
type SubscriptionFilter struct {
	// ModifiedAfter, when not zero, asks only for the subscriptions
	// modified on or after that day in the API's zone (the documented
	// ModifiedAfter filter, Y-m-d). Whether the API dates every change is
	// not documented: callers read everything again from time to time.
	ModifiedAfter civil.Date
}

// Order is a raw 2Checkout order (API 6.0 Order object, the fields the job
// uses), in the shape real responses have: the billing country is
// BillingDetails.CountryCode. There is no top-level Country: no recorded
// response carries one (DESIGN, "What real responses look like").
type Order struct {
	RefNo                string          `json:"RefNo"`
	OrderNo              json.Number     `json:"OrderNo"`
	ExternalReference    string          `json:"ExternalReference"`
	Status               string          `json:"Status"`
	ApproveStatus        string          `json:"ApproveStatus"`
	OrderDate            string          `json:"OrderDate"`
	FinishDate           string          `json:"FinishDate"`
	Currency             string          `json:"Currency"`
	BillingDetails       BillingDetails  `json:"BillingDetails"`
	DeliveryDetails      DeliveryDetails `json:"DeliveryDetails"`
	PaymentDetails       PaymentDetails  `json:"PaymentDetails"`
	FxRate               json.Number     `json:"FxRate"`
	FxMarkup             json.Number     `json:"FxMarkup"`
	PayoutCurrency       string          `json:"PayoutCurrency"`
	Origin               string          `json:"Origin"`
	TestOrder            bool            `json:"TestOrder"`
	CustomerReference    json.Number     `json:"CustomerReference"`
	Affiliate            *Affiliate      `json:"Affiliate"`
	NetPrice             json.Number     `json:"NetPrice"`
	GrossPrice           json.Number     `json:"GrossPrice"`
	NetDiscountedPrice   json.Number     `json:"NetDiscountedPrice"`
	GrossDiscountedPrice json.Number     `json:"GrossDiscountedPrice"`
	Discount             json.Number     `json:"Discount"`
	VAT                  json.Number     `json:"VAT"`
	AffiliateCommission  json.Number     `json:"AffiliateCommission"`
	AvangateCommission   json.Number     `json:"AvangateCommission"`
	// The dispute fields are nil when the response does not carry them:
	// unknown, which is not NONE.
	ChargebackResolution *string     `json:"ChargebackResolution"`
	ChargebackReasonCode *string     `json:"ChargebackReasonCode"`
	Items                []OrderItem `json:"Items"`
}

// BillingDetails is the billing address of an order.
type BillingDetails struct {
	CountryCode string `json:"CountryCode"` // lower-case in real responses
}

// DeliveryDetails is the delivery address of an order.
type DeliveryDetails struct {
	CountryCode string `json:"CountryCode"`
}

// PaymentDetails is how an order was paid.
type PaymentDetails struct {
	Type          string        `json:"Type"` // CC, PAYPAL, ...
	PaymentMethod PaymentMethod `json:"PaymentMethod"`
}

// PaymentMethod details the payment instrument.
type PaymentMethod struct {
	CardType string `json:"CardType"` // null unless paid by card
}

// Affiliate is the affiliate of an order.
type Affiliate struct {
	AffiliateCode string `json:"AffiliateCode"`
}

// OrderItem is one line of a raw order.
type OrderItem struct {
	Code              string         `json:"Code"`
	ProductDetails    ProductDetails `json:"ProductDetails"`
	SKU               string         `json:"SKU"`
	Quantity          json.Number    `json:"Quantity"`
	LineItemReference string         `json:"LineItemReference"`
	PurchaseType      string         `json:"PurchaseType"`
	Price             ItemPrice      `json:"Price"`
}

// ProductDetails describes the product of an order line.
type ProductDetails struct {
	Name string `json:"Name"`
}

// ItemPrice holds the amounts of an order line.
type ItemPrice struct {
	Currency                 string      `json:"Currency"`
	NetPrice                 json.Number `json:"NetPrice"`
	GrossPrice               json.Number `json:"GrossPrice"`
	NetDiscountedPrice       json.Number `json:"NetDiscountedPrice"`
	GrossDiscountedPrice     json.Number `json:"GrossDiscountedPrice"`
	Discount                 json.Number `json:"Discount"`
	VAT                      json.Number `json:"VAT"`
	AffiliateCommission      json.Number `json:"AffiliateCommission"`
	UnitNetPrice             json.Number `json:"UnitNetPrice"`
	UnitGrossPrice           json.Number `json:"UnitGrossPrice"`
	UnitVAT                  json.Number `json:"UnitVAT"`
	UnitDiscount             json.Number `json:"UnitDiscount"`
	UnitNetDiscountedPrice   json.Number `json:"UnitNetDiscountedPrice"`
	UnitGrossDiscountedPrice json.Number `json:"UnitGrossDiscountedPrice"`
	UnitAffiliateCommission  json.Number `json:"UnitAffiliateCommission"`
	VATPercent               json.Number `json:"VATPercent"`
}

// Subscription is a raw 2Checkout subscription (API 6.0 Subscription object,
// the fields the job uses).
type Subscription struct {
	SubscriptionReference     string              `json:"SubscriptionReference"`
	StartDate                 string              `json:"StartDate"`
	ActivationDate            string              `json:"ActivationDate"`
	ExpirationDate            string              `json:"ExpirationDate"`
	NextBillingDate           string              `json:"NextBillingDate"`
	RecurringEnabled          bool                `json:"RecurringEnabled"`
	SubscriptionEnabled       bool                `json:"SubscriptionEnabled"`
	Product                   SubscriptionProduct `json:"Product"`
	EndUser                   EndUser             `json:"EndUser"`
	AvangateCustomerReference json.Number         `json:"AvangateCustomerReference"`
	ExternalCustomerReference string              `json:"ExternalCustomerReference"`
	Lifetime                  bool                `json:"Lifetime"`
	TestSubscription          bool                `json:"TestSubscription"`
	IsTrial                   bool                `json:"IsTrial"`
	PartnerCode               string              `json:"PartnerCode"`
	MerchantCode              string              `json:"MerchantCode"`
}

// SubscriptionProduct is the product of a subscription.
type SubscriptionProduct struct {
	ProductCode     string      `json:"ProductCode"`
	ProductName     string      `json:"ProductName"`
	ProductQuantity json.Number `json:"ProductQuantity"`
}

// EndUser is the end user of a subscription.
type EndUser struct {
	FirstName   string `json:"FirstName"`
	LastName    string `json:"LastName"`
	CountryCode string `json:"CountryCode"`
	Email       string `json:"Email"`
}

// APIError is an error the 2Checkout API returned: a JSON-RPC error object,
// a REST error body or a legacy errors[] entry.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// ErrAuthentication is wrapped by errors that mean the credentials were
// refused, which retrying cannot fix.
var ErrAuthentication = errors.New("authentication failed")

// ErrUnsupported is wrapped by errors that mean the API cannot serve a
// stream at all (the legacy Admin API has no subscription search), so that
// a pipeline can skip the stream with a warning instead of failing the run.
var ErrUnsupported = errors.New("not supported by this API")

// Is lets errors.Is(err, ErrAuthentication) match the API's codes for
// refused credentials.
func (e *APIError) Is(target error) bool {
	return target == ErrAuthentication && (e.Code == "AUTHENTICATION_FAILED" || e.Code == "AUTHENTICATION_ERROR")
}

// RequestError says which call of which stream failed, and why: the
// account, the stream, the API day or window searched, the method, the
// page and the cause.
type RequestError struct {
	Account string // account name
	Stream  string // StreamOrders or StreamSubscriptions; empty for login
	// Window is the orders search's window of API days; zero for
	// subscriptions and logins.
	Window Window
	Method string // API method or path
	Page   int    // page number; 0 when not paging
	Err    error
}

func (e *RequestError) Error() string {
	msg := "account " + e.Account
	if e.Stream != "" {
		msg += ", stream " + e.Stream
	}
	switch {
	case e.Window.From.IsZero():
	case e.Window.From == e.Window.To:
		msg += ", API day " + e.Window.From.String()
	default:
		msg += ", API days " + e.Window.String()
	}
	msg += ", " + e.Method
	if e.Page > 0 {
		msg += fmt.Sprintf(", page %d", e.Page)
	}
	return msg + ": " + e.Err.Error()
}

func (e *RequestError) Unwrap() error { return e.Err }

// InWindow returns err with the window w of the search that failed: a
// *RequestError is copied with its Window set; other errors, such as the
// caller's own from yield, are returned as they are.
func InWindow(err error, w Window) error {
	re, ok := errors.AsType[*RequestError](err)
	if !ok || re != err || !re.Window.From.IsZero() {
		return err
	}
	cp := *re
	cp.Window = w
	return &cp
}
