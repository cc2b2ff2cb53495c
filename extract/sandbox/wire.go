package sandbox

import "encoding/json"

// The records as 2Checkout sends them. These types belong to the sandbox,
// not to package extract: they follow the real REST 6.0 order recorded in
// the test fixtures of the official 2Checkout/2checkout-python-sdk
// (test/test_twocheckout.py) and the API 6.0 Subscription object
// (seeds/004), fields the job does not read and nulls included, so that
// the clients' decoding is tested against the real shape rather than
// against itself. Fields that are always null are typed any and left nil.

// wireOrder is an API 6.0 order.
type wireOrder struct {
	RefNo               string          `json:"RefNo"`
	OrderNo             json.Number     `json:"OrderNo"` // 0 until the order completes
	ExternalReference   string          `json:"ExternalReference"`
	ShopperRefNo        any             `json:"ShopperRefNo"`
	Status              string          `json:"Status"`
	ApproveStatus       string          `json:"ApproveStatus"`
	VendorApproveStatus string          `json:"VendorApproveStatus"`
	MerchantCode        string          `json:"MerchantCode"`
	Language            string          `json:"Language"`
	OrderDate           string          `json:"OrderDate"`
	FinishDate          *string         `json:"FinishDate"` // null until finished
	Source              any             `json:"Source"`
	Affiliate           wireAffiliate   `json:"Affiliate"`
	HasShipping         bool            `json:"HasShipping"`
	BillingDetails      wireBilling     `json:"BillingDetails"`
	DeliveryDetails     wireDelivery    `json:"DeliveryDetails"`
	PaymentDetails      wirePayment     `json:"PaymentDetails"`
	DeliveryInformation wireDeliveryInf `json:"DeliveryInformation"`
	CustomerDetails     any             `json:"CustomerDetails"`
	CustomerReference   json.Number     `json:"CustomerReference"`
	Origin              string          `json:"Origin"`
	AvangateCommission  json.Number     `json:"AvangateCommission"`
	OrderFlow           string          `json:"OrderFlow"`
	GiftDetails         any             `json:"GiftDetails"`
	PODetails           any             `json:"PODetails"`
	ExtraInformation    any             `json:"ExtraInformation"`
	PartnerCode         any             `json:"PartnerCode"`
	PartnerMargin       any             `json:"PartnerMargin"`
	PartnerMarginPct    any             `json:"PartnerMarginPercent"`
	ExtraMargin         any             `json:"ExtraMargin"`
	ExtraMarginPercent  any             `json:"ExtraMarginPercent"`
	ExtraDiscount       any             `json:"ExtraDiscount"`
	ExtraDiscountPct    any             `json:"ExtraDiscountPercent"`
	LocalTime           any             `json:"LocalTime"`
	TestOrder           bool            `json:"TestOrder"`
	FxRate              json.Number     `json:"FxRate"`
	FxMarkup            json.Number     `json:"FxMarkup"`
	PayoutCurrency      string          `json:"PayoutCurrency"`
	DeliveryFinalized   bool            `json:"DeliveryFinalized"`
	Errors              any             `json:"Errors"`
	Items               []wireItem      `json:"Items"`
	Promotions          []struct{}      `json:"Promotions"` // [] rather than null
	AdditionalFields    any             `json:"AdditionalFields"`
	Currency            string          `json:"Currency"`
	NetPrice            json.Number     `json:"NetPrice"`
	GrossPrice          json.Number     `json:"GrossPrice"`
	NetDiscountedPrice  json.Number     `json:"NetDiscountedPrice"`
	GrossDiscountedPr   json.Number     `json:"GrossDiscountedPrice"`
	Discount            json.Number     `json:"Discount"`
	VAT                 json.Number     `json:"VAT"`
	AffiliateCommission json.Number     `json:"AffiliateCommission"`
	CustomParameters    any             `json:"CustomParameters"`
	// The dispute fields: nil omits the key, as the dialect
	// no-chargeback-fields does (and as the recorded order does).
	ChargebackResolution *string `json:"ChargebackResolution,omitempty"`
	ChargebackReasonCode *string `json:"ChargebackReasonCode,omitempty"`
}

type wireAffiliate struct {
	AffiliateCode   *string `json:"AffiliateCode"` // null when none
	AffiliateSource any     `json:"AffiliateSource"`
	AffiliateName   any     `json:"AffiliateName"`
	AffiliateURL    any     `json:"AffiliateUrl"`
}

type wireBilling struct {
	FiscalCode  any    `json:"FiscalCode"`
	TaxOffice   any    `json:"TaxOffice"`
	Phone       any    `json:"Phone"`
	FirstName   string `json:"FirstName"`
	LastName    string `json:"LastName"`
	Company     any    `json:"Company"`
	Email       string `json:"Email"`
	Address1    string `json:"Address1"`
	Address2    any    `json:"Address2"`
	City        string `json:"City"`
	Zip         string `json:"Zip"`
	CountryCode string `json:"CountryCode"` // lower-case
	State       any    `json:"State"`
}

type wireDelivery struct {
	Phone       any    `json:"Phone"`
	FirstName   string `json:"FirstName"`
	LastName    string `json:"LastName"`
	Company     any    `json:"Company"`
	Email       string `json:"Email"`
	Address1    string `json:"Address1"`
	Address2    any    `json:"Address2"`
	City        string `json:"City"`
	Zip         string `json:"Zip"`
	CountryCode string `json:"CountryCode"` // lower-case
	State       any    `json:"State"`
}

type wirePayment struct {
	Type          string            `json:"Type"`
	Currency      string            `json:"Currency"` // lower-case
	PaymentMethod wirePaymentMethod `json:"PaymentMethod"`
	CustomerIP    string            `json:"CustomerIP"`
}

type wirePaymentMethod struct {
	Authorize3DS       any     `json:"Authorize3DS"`
	Vendor3DSReturnURL any     `json:"Vendor3DSReturnURL"`
	Vendor3DSCancelURL any     `json:"Vendor3DSCancelURL"`
	FirstDigits        *string `json:"FirstDigits"` // cards only
	LastDigits         *string `json:"LastDigits"`
	CardType           *string `json:"CardType"`
	RecurringEnabled   bool    `json:"RecurringEnabled"`
}

type wireDeliveryInf struct {
	ShippingMethod struct {
		Code           any `json:"Code"`
		TrackingURL    any `json:"TrackingUrl"`
		TrackingNumber any `json:"TrackingNumber"`
		Comment        any `json:"Comment"`
	} `json:"ShippingMethod"`
}

// wireItem is one line of an order.
type wireItem struct {
	Code                       string             `json:"Code"`
	ProductDetails             wireProductDetails `json:"ProductDetails"`
	PriceOptions               []struct{}         `json:"PriceOptions"`
	Price                      wireItemPrice      `json:"Price"`
	LineItemReference          string             `json:"LineItemReference"`
	PurchaseType               string             `json:"PurchaseType"`
	ExternalReference          string             `json:"ExternalReference"`
	Quantity                   json.Number        `json:"Quantity"`
	SKU                        *string            `json:"SKU"` // null for some products
	CrossSell                  any                `json:"CrossSell"`
	Trial                      any                `json:"Trial"`
	AdditionalFields           any                `json:"AdditionalFields"`
	Promotion                  any                `json:"Promotion"`
	RecurringOptions           any                `json:"RecurringOptions"`
	SubscriptionStartDate      any                `json:"SubscriptionStartDate"`
	SubscriptionCustomSettings any                `json:"SubscriptionCustomSettings"`
}

type wireProductDetails struct {
	Name                string `json:"Name"`
	ShortDescription    string `json:"ShortDescription"`
	Tangible            bool   `json:"Tangible"`
	IsDynamic           bool   `json:"IsDynamic"`
	ExtraInfo           any    `json:"ExtraInfo"`
	RenewalStatus       bool   `json:"RenewalStatus"`
	Subscriptions       any    `json:"Subscriptions"`
	DeliveryInformation struct {
		Delivery            string     `json:"Delivery"`
		DownloadFile        any        `json:"DownloadFile"`
		DeliveryDescription string     `json:"DeliveryDescription"`
		CodesDescription    string     `json:"CodesDescription"`
		Codes               []struct{} `json:"Codes"`
	} `json:"DeliveryInformation"`
}

type wireItemPrice struct {
	UnitNetPrice             json.Number `json:"UnitNetPrice"`
	UnitGrossPrice           json.Number `json:"UnitGrossPrice"`
	UnitVAT                  json.Number `json:"UnitVAT"`
	UnitDiscount             json.Number `json:"UnitDiscount"`
	UnitNetDiscountedPrice   json.Number `json:"UnitNetDiscountedPrice"`
	UnitGrossDiscountedPrice json.Number `json:"UnitGrossDiscountedPrice"`
	UnitAffiliateCommission  json.Number `json:"UnitAffiliateCommission"`
	ItemUnitNetPrice         json.Number `json:"ItemUnitNetPrice"`
	ItemUnitGrossPrice       json.Number `json:"ItemUnitGrossPrice"`
	ItemNetPrice             json.Number `json:"ItemNetPrice"`
	ItemGrossPrice           json.Number `json:"ItemGrossPrice"`
	VATPercent               json.Number `json:"VATPercent"`
	HandlingFeeNetPrice      json.Number `json:"HandlingFeeNetPrice"`
	HandlingFeeGrossPrice    json.Number `json:"HandlingFeeGrossPrice"`
	Currency                 string      `json:"Currency"`
	NetPrice                 json.Number `json:"NetPrice"`
	GrossPrice               json.Number `json:"GrossPrice"`
	NetDiscountedPrice       json.Number `json:"NetDiscountedPrice"`
	GrossDiscountedPrice     json.Number `json:"GrossDiscountedPrice"`
	Discount                 json.Number `json:"Discount"`
	VAT                      json.Number `json:"VAT"`
	AffiliateCommission      json.Number `json:"AffiliateCommission"`
}

// wireSubscription is an API 6.0 Subscription object.
type wireSubscription struct {
	SubscriptionReference     string          `json:"SubscriptionReference"`
	StartDate                 string          `json:"StartDate"`
	ActivationDate            string          `json:"ActivationDate"`
	ExpirationDate            string          `json:"ExpirationDate"`
	RecurringEnabled          bool            `json:"RecurringEnabled"`
	NextBillingDate           string          `json:"NextBillingDate"`
	SubscriptionEnabled       bool            `json:"SubscriptionEnabled"`
	Product                   wireSubProduct  `json:"Product"`
	EndUser                   wireEndUser     `json:"EndUser"`
	SKU                       any             `json:"SKU"`
	DeliveryInfo              wireSubDelivery `json:"DeliveryInfo"`
	ReceiveNotifications      bool            `json:"ReceiveNotifications"`
	Lifetime                  bool            `json:"Lifetime"`
	PartnerCode               string          `json:"PartnerCode"`
	AvangateCustomerReference json.Number     `json:"AvangateCustomerReference"`
	ExternalCustomerReference string          `json:"ExternalCustomerReference"`
	TestSubscription          bool            `json:"TestSubscription"`
	IsTrial                   bool            `json:"IsTrial"`
	MerchantCode              string          `json:"MerchantCode"`
}

type wireSubProduct struct {
	ProductCode      string      `json:"ProductCode"`
	ProductID        json.Number `json:"ProductId"`
	ProductName      string      `json:"ProductName"`
	ProductQuantity  json.Number `json:"ProductQuantity"`
	ProductVersion   string      `json:"ProductVersion"`
	PriceOptionCodes []string    `json:"PriceOptionCodes"`
}

type wireEndUser struct {
	FirstName   string `json:"FirstName"`
	LastName    string `json:"LastName"`
	CountryCode string `json:"CountryCode"`
	State       any    `json:"State"`
	City        string `json:"City"`
	Address1    string `json:"Address1"`
	Address2    any    `json:"Address2"`
	Zip         string `json:"Zip"`
	Email       string `json:"Email"`
	Phone       any    `json:"Phone"`
	Company     any    `json:"Company"`
	Fax         any    `json:"Fax"`
	Language    string `json:"Language"`
}

type wireSubDelivery struct {
	Description string     `json:"Description"`
	Codes       []struct{} `json:"Codes"`
}
