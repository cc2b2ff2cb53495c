package transform

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func rawOrder() extract.Order {
	return extract.Order{
		RefNo:                "7000001",
		OrderNo:              "42",
		Status:               "complete",
		ApproveStatus:        "OK",
		OrderDate:            "2025-03-01 01:30:00",
		FinishDate:           "2025-03-01 01:31:02",
		Currency:             "eur",
		BillingDetails:       extract.BillingDetails{CountryCode: "ro"},
		DeliveryDetails:      extract.DeliveryDetails{CountryCode: "md"},
		PaymentDetails:       extract.PaymentDetails{Type: "cc", PaymentMethod: extract.PaymentMethod{CardType: "Visa"}},
		FxRate:               "0.218432",
		FxMarkup:             "1.75",
		PayoutCurrency:       "usd",
		Origin:               "Web",
		CustomerReference:    "123456",
		Affiliate:            &extract.Affiliate{AffiliateCode: "AFF1"},
		NetPrice:             "100",
		GrossPrice:           "119.0",
		NetDiscountedPrice:   "90.00",
		GrossDiscountedPrice: "107.1",
		Discount:             "10",
		VAT:                  "17.1",
		AffiliateCommission:  "4.5",
		AvangateCommission:   "5.0000004",
		ChargebackResolution: new(string),
		ChargebackReasonCode: new(string),
		Items: []extract.OrderItem{{
			LineItemReference: "69057567c67d17d570523b4ea67fe8770fdbc5bd",
			PurchaseType:      "PRODUCT",
			Code:              "PRO-1",
			ProductDetails:    extract.ProductDetails{Name: "Pro"},
			SKU:               "SKU-PRO",
			Quantity:          "2",
			Price: extract.ItemPrice{
				Currency: "EUR", NetPrice: "100", GrossPrice: "119", NetDiscountedPrice: "90",
				GrossDiscountedPrice: "107.1", Discount: "10", VAT: "17.1", AffiliateCommission: "4.5",
				UnitNetPrice: "50", UnitGrossPrice: "59.5", UnitVAT: "8.55", UnitDiscount: "5",
				UnitNetDiscountedPrice: "45", UnitGrossDiscountedPrice: "53.55", UnitAffiliateCommission: "2.25",
				VATPercent: "19",
			},
		}},
	}
}

// TestOrderNo: OrderNo is stored as sent, except 0, which 2Checkout sends
// until the order completes, and absent: both are NULL.
func TestOrderNo(t *testing.T) {
	c := &Converter{MerchantCode: "M1", SourceAPI: "rest", Source: time.UTC, Reporting: time.UTC, RunID: "run-1"}
	for _, tt := range []struct {
		in   json.Number
		want string
	}{{"42", "42"}, {"0", "NULL"}, {"", "NULL"}} {
		raw := rawOrder()
		raw.OrderNo = tt.in
		var o schemas.Order
		if _, err := c.Order(&raw, &o, nil); err != nil {
			t.Fatal(err)
		}
		got := "NULL"
		if o.OrderNo != nil {
			got = strconv.FormatInt(*o.OrderNo, 10)
		}
		if got != tt.want {
			t.Errorf("OrderNo %q stored as %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestOrderConvertsExactly(t *testing.T) {
	extracted := time.Date(2025, 3, 2, 2, 0, 0, 0, time.UTC)
	c := &Converter{MerchantCode: "M1", SourceAPI: "jsonrpc", Source: mustLoad(t, "Etc/GMT-2"),
		Reporting: time.UTC, RunID: "run-1", ExtractedAt: extracted}
	raw := rawOrder()
	var o schemas.Order
	items, err := c.Order(&raw, &o, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 01:30 at UTC+2 on 1 March is 23:30 UTC on 28 February: across midnight
	// and a month boundary.
	wantTS := time.Date(2025, 2, 28, 23, 30, 0, 0, time.UTC)
	if !o.OrderTS.Equal(wantTS) || o.OrderTS.Location() != time.UTC {
		t.Errorf("OrderTS = %v, want %v UTC", o.OrderTS, wantTS)
	}
	if o.OrderDate != (civil.Date{Year: 2025, Month: 2, Day: 28}) {
		t.Errorf("OrderDate = %v, want 2025-02-28", o.OrderDate)
	}
	if o.FinishTS == nil || !o.FinishTS.Equal(time.Date(2025, 2, 28, 23, 31, 2, 0, time.UTC)) {
		t.Errorf("FinishTS = %v", o.FinishTS)
	}
	if o.Currency != "EUR" || *o.Country != "RO" || o.Status != "COMPLETE" || *o.OrderNo != 42 {
		t.Errorf("codes = %s %s %s %d", o.Currency, *o.Country, o.Status, *o.OrderNo)
	}
	if o.GrossPrice != money.MustParse("119") || o.VAT != money.MustParse("17.1") ||
		o.GrossDiscountedPrice.Units() != 107_100_000 {
		t.Errorf("amounts = %v %v %v", o.GrossPrice, o.VAT, o.GrossDiscountedPrice)
	}
	if o.TwoCheckoutCommission.Units() != 5_000_000 || c.Rounded != 1 {
		t.Errorf("TwoCheckoutCommission = %v, rounded = %d; want 5.000000 and 1", o.TwoCheckoutCommission, c.Rounded)
	}
	if o.ChargebackResolution != "NONE" || o.ChargebackReasonCode != nil || o.ExternalReference != nil {
		t.Errorf("chargeback = %q %v, external = %v", o.ChargebackResolution, o.ChargebackReasonCode, o.ExternalReference)
	}
	if *o.AffiliateCode != "AFF1" || *o.CustomerReference != "123456" || o.RunID != "run-1" || !o.ExtractedAt.Equal(extracted) {
		t.Errorf("refs = %v %v %v %v", *o.AffiliateCode, *o.CustomerReference, o.RunID, o.ExtractedAt)
	}
	if len(items) != 1 {
		t.Fatalf("items = %d, want 1", len(items))
	}
	if *o.BillingCountry != "RO" || o.Country != o.BillingCountry || *o.DeliveryCountry != "MD" || *o.PaymentType != "CC" ||
		*o.CardType != "Visa" || o.FxRate.String() != "0.218432000" || o.FxMarkup.String() != "1.750000000" ||
		*o.PayoutCurrency != "USD" || *o.Origin != "Web" {
		t.Errorf("real-shape fields = %v %v %v %v %v %v %v %v", *o.BillingCountry, *o.DeliveryCountry, *o.PaymentType,
			*o.CardType, o.FxRate, o.FxMarkup, *o.PayoutCurrency, *o.Origin)
	}
	it := items[0]
	if *it.LineItemReference != "69057567c67d17d570523b4ea67fe8770fdbc5bd" || *it.PurchaseType != "PRODUCT" ||
		it.VATPercent.String() != "19.000000000" {
		t.Errorf("item real-shape fields = %v %v %v", *it.LineItemReference, *it.PurchaseType, it.VATPercent)
	}
	if it.LineNo != 1 || it.RefNo != "7000001" || it.OrderDate != o.OrderDate || it.Quantity != 2 ||
		it.UnitVAT.Units() != 8_550_000 || it.UnitGrossDiscountedPrice.Units() != 53_550_000 || it.Currency != "EUR" {
		t.Errorf("item = %+v", it)
	}
}

func TestOrderDateInReportingZone(t *testing.T) {
	tests := []struct {
		name      string
		source    string
		reporting string
		orderDate string
		wantUTC   time.Time
		wantDate  civil.Date
	}{
		{"UTC to UTC", "UTC", "UTC", "2025-03-31 23:30:00",
			time.Date(2025, 3, 31, 23, 30, 0, 0, time.UTC), civil.Date{Year: 2025, Month: 3, Day: 31}},
		{"after midnight in the source zone is the day before in UTC", "Etc/GMT-2", "UTC", "2025-04-01 00:15:00",
			time.Date(2025, 3, 31, 22, 15, 0, 0, time.UTC), civil.Date{Year: 2025, Month: 3, Day: 31}},
		{"23:30 UTC on 31 March is April in Bucharest", "UTC", "Europe/Bucharest", "2025-03-31 23:30:00",
			time.Date(2025, 3, 31, 23, 30, 0, 0, time.UTC), civil.Date{Year: 2025, Month: 4, Day: 1}},
		{"year boundary westwards", "Etc/GMT-2", "America/New_York", "2025-01-01 03:00:00",
			time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC), civil.Date{Year: 2024, Month: 12, Day: 31}},
		{"ISO 8601 with an offset keeps its offset", "Etc/GMT-2", "UTC", "2025-06-30T23:59:59.1234567-01:00",
			time.Date(2025, 7, 1, 0, 59, 59, 123456000, time.UTC), civil.Date{Year: 2025, Month: 7, Day: 1}},
		{"summer time in the source zone", "Europe/Bucharest", "UTC", "2025-07-01 02:00:00",
			time.Date(2025, 6, 30, 23, 0, 0, 0, time.UTC), civil.Date{Year: 2025, Month: 6, Day: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Converter{MerchantCode: "M", Source: mustLoad(t, tt.source), Reporting: mustLoad(t, tt.reporting)}
			raw := rawOrder()
			raw.OrderDate = tt.orderDate
			raw.FinishDate = ""
			var o schemas.Order
			if _, err := c.Order(&raw, &o, nil); err != nil {
				t.Fatal(err)
			}
			if !o.OrderTS.Equal(tt.wantUTC) || o.OrderDate != tt.wantDate {
				t.Errorf("got %v %v, want %v %v", o.OrderTS, o.OrderDate, tt.wantUTC, tt.wantDate)
			}
		})
	}
}

func TestOrderRejectsBadFields(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*extract.Order)
		field string
		err   error
	}{
		{"missing ref", func(o *extract.Order) { o.RefNo = "" }, "RefNo", ErrMissing},
		{"bad date", func(o *extract.Order) { o.OrderDate = "31/03/2025" }, "OrderDate", ErrTime},
		{"unknown currency", func(o *extract.Order) { o.Currency = "XYZ" }, "Currency", ErrCurrency},
		{"straddles two codes", func(o *extract.Order) { o.Currency = "D E" }, "Currency", ErrCurrency},
		{"bad country", func(o *extract.Order) { o.BillingDetails.CountryCode = "R0" }, "BillingDetails.CountryCode", ErrCountry},
		{"bad delivery country", func(o *extract.Order) { o.DeliveryDetails.CountryCode = "ROU" }, "DeliveryDetails.CountryCode", ErrCountry},
		{"bad payout currency", func(o *extract.Order) { o.PayoutCurrency = "US" }, "PayoutCurrency", ErrCurrency},
		{"bad fx rate", func(o *extract.Order) { o.FxRate = "1,08" }, "FxRate", ErrInvalid},
		{"fx rate past nine decimals", func(o *extract.Order) { o.FxRate = "1.0000000001" }, "FxRate", ErrInvalid},
		{"negative fx markup", func(o *extract.Order) { o.FxMarkup = "-1" }, "FxMarkup", ErrNegative},
		{"bad vat percent", func(o *extract.Order) { o.Items[0].Price.VATPercent = "x" }, "Items[0].Price.VATPercent", ErrInvalid},
		{"bad amount", func(o *extract.Order) { o.VAT = "1,5" }, "VAT", money.ErrSyntax},
		{"amount out of range", func(o *extract.Order) { o.GrossPrice = "1e15" }, "GrossPrice", money.ErrRange},
		{"negative quantity", func(o *extract.Order) { o.Items[0].Quantity = "-1" }, "Items[0].Quantity", ErrNegative},
		{"fractional quantity", func(o *extract.Order) { o.Items[0].Quantity = "1.5" }, "Items[0].Quantity", ErrInvalid},
		{"item amount", func(o *extract.Order) { o.Items[0].Price.UnitVAT = "x" }, "Items[0].Price.UnitVAT", money.ErrSyntax},
		{"item currency differs", func(o *extract.Order) { o.Items[0].Price.Currency = "USD" }, "Items[0].Price.Currency", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Converter{Source: time.UTC, Reporting: time.UTC}
			raw := rawOrder()
			raw.Items = append([]extract.OrderItem(nil), raw.Items...)
			tt.edit(&raw)
			var o schemas.Order
			items, err := c.Order(&raw, &o, nil)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want field %s wrapping %v", err, tt.field, tt.err)
			}
			if len(items) != 0 {
				t.Errorf("items = %d on error, want 0", len(items))
			}
		})
	}
}

func TestSubscription(t *testing.T) {
	c := &Converter{MerchantCode: "M1", Source: mustLoad(t, "Etc/GMT-2"), Reporting: time.UTC, RunID: "r"}
	raw := extract.Subscription{
		SubscriptionReference:     "SUB1",
		StartDate:                 "2025-01-01 00:30:00",
		ExpirationDate:            "2026-01-01 00:30:00",
		NextBillingDate:           "2026-01-01",
		RecurringEnabled:          true,
		SubscriptionEnabled:       true,
		Product:                   extract.SubscriptionProduct{ProductCode: "SUB-PRO", ProductName: "Pro yearly", ProductQuantity: "3"},
		EndUser:                   extract.EndUser{CountryCode: "de"},
		AvangateCustomerReference: "987",
	}
	var s schemas.Subscription
	if err := c.Subscription(&raw, &s); err != nil {
		t.Fatal(err)
	}
	if !s.StartTS.Equal(time.Date(2024, 12, 31, 22, 30, 0, 0, time.UTC)) || s.ActivationTS != nil ||
		!s.ExpirationTS.Equal(time.Date(2025, 12, 31, 22, 30, 0, 0, time.UTC)) {
		t.Errorf("times = %v %v %v", s.StartTS, s.ActivationTS, s.ExpirationTS)
	}
	if *s.NextBillingDate != (civil.Date{Year: 2026, Month: 1, Day: 1}) || s.ValidFrom != (civil.Date{Year: 2024, Month: 12, Day: 31}) || s.ValidTo != schemas.OpenValidTo() ||
		s.ProductQuantity != 3 || *s.EndUserCountry != "DE" || *s.CustomerReference != "987" || s.PartnerCode != nil {
		t.Errorf("subscription = %+v", s)
	}
	raw.Product.ProductQuantity = "-2"
	var fe *FieldError
	if err := c.Subscription(&raw, &s); !errors.As(err, &fe) || fe.Field != "Product.ProductQuantity" {
		t.Errorf("negative quantity: err = %v", err)
	}
}

// TestOrderRequiresAmountsAndItems is F4: an order missing a required
// amount, or without Items, is rejected with the field named instead of
// being stored with 0 or without lines; amounts that may be absent become
// 0. The legacy API requires fewer amounts, since it has fewer.
func TestOrderRequiresAmountsAndItems(t *testing.T) {
	required6 := []string{"NetPrice", "GrossPrice", "NetDiscountedPrice", "GrossDiscountedPrice", "VAT", "AvangateCommission",
		"Items", "Items[0].Price.NetPrice", "Items[0].Price.GrossPrice", "Items[0].Price.NetDiscountedPrice",
		"Items[0].Price.GrossDiscountedPrice", "Items[0].Price.VAT"}
	requiredLegacy := []string{"GrossPrice", "GrossDiscountedPrice", "Items", "Items[0].Price.GrossPrice"}
	optional := []string{"Discount", "AffiliateCommission", "Items[0].Price.Discount", "Items[0].Price.AffiliateCommission",
		"Items[0].Price.UnitNetPrice", "Items[0].Price.UnitGrossPrice", "Items[0].Price.UnitVAT", "Items[0].Price.UnitDiscount",
		"Items[0].Price.UnitNetDiscountedPrice", "Items[0].Price.UnitGrossDiscountedPrice", "Items[0].Price.UnitAffiliateCommission"}
	drop := func(o *extract.Order, field string) {
		p := &o.Items[0].Price
		fields := map[string]*json.Number{"NetPrice": &o.NetPrice, "GrossPrice": &o.GrossPrice,
			"NetDiscountedPrice": &o.NetDiscountedPrice, "GrossDiscountedPrice": &o.GrossDiscountedPrice, "Discount": &o.Discount,
			"VAT": &o.VAT, "AffiliateCommission": &o.AffiliateCommission, "AvangateCommission": &o.AvangateCommission,
			"Items[0].Price.NetPrice": &p.NetPrice, "Items[0].Price.GrossPrice": &p.GrossPrice,
			"Items[0].Price.NetDiscountedPrice": &p.NetDiscountedPrice, "Items[0].Price.GrossDiscountedPrice": &p.GrossDiscountedPrice,
			"Items[0].Price.Discount": &p.Discount, "Items[0].Price.VAT": &p.VAT, "Items[0].Price.AffiliateCommission": &p.AffiliateCommission,
			"Items[0].Price.UnitNetPrice": &p.UnitNetPrice, "Items[0].Price.UnitGrossPrice": &p.UnitGrossPrice,
			"Items[0].Price.UnitVAT": &p.UnitVAT, "Items[0].Price.UnitDiscount": &p.UnitDiscount,
			"Items[0].Price.UnitNetDiscountedPrice":   &p.UnitNetDiscountedPrice,
			"Items[0].Price.UnitGrossDiscountedPrice": &p.UnitGrossDiscountedPrice,
			"Items[0].Price.UnitAffiliateCommission":  &p.UnitAffiliateCommission}
		if field == "Items" {
			o.Items = nil
			return
		}
		*fields[field] = ""
	}
	for _, api := range []string{"jsonrpc", "rest", SourceLegacy} {
		required := required6
		if api == SourceLegacy {
			required = requiredLegacy
		}
		for _, field := range append(append([]string(nil), required6...), optional...) {
			t.Run(api+"/"+field, func(t *testing.T) {
				c := &Converter{SourceAPI: api, Source: time.UTC, Reporting: time.UTC}
				raw := rawOrder()
				raw.Items = append([]extract.OrderItem(nil), raw.Items...)
				drop(&raw, field)
				var o schemas.Order
				items, err := c.Order(&raw, &o, nil)
				if !slices.Contains(required, field) {
					if err != nil || len(items) != 1 {
						t.Fatalf("err = %v, %d items; want the order, the absent amount 0", err, len(items))
					}
					return
				}
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != field || !errors.Is(err, ErrMissing) {
					t.Fatalf("err = %v, want field %s missing", err, field)
				}
				if len(items) != 0 {
					t.Errorf("items = %d on error, want 0", len(items))
				}
			})
		}
	}
}

// TestChargebackFieldPresence: a missing ChargebackResolution is UNKNOWN,
// never NONE, and makes no chargebacks row; a present empty one is NONE.
func TestChargebackFieldPresence(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tt := range []struct {
		name               string
		resolution, reason *string
		want               string
		wantReason         string // "NULL" for nil
		disputes           int
	}{
		{"absent", nil, nil, ResolutionUnknown, "NULL", 0},
		{"present empty", str(""), str(""), "NONE", "NULL", 0},
		{"present NONE", str("NONE"), str(""), "NONE", "NULL", 0},
		{"open", str("open"), str("FRAUD"), "OPEN", "FRAUD", 1},
		{"reason without resolution", nil, str("FRAUD"), ResolutionUnknown, "FRAUD", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Converter{MerchantCode: "M1", SourceAPI: "rest", Source: time.UTC, Reporting: time.UTC}
			raw := rawOrder()
			raw.ChargebackResolution, raw.ChargebackReasonCode = tt.resolution, tt.reason
			var o schemas.Order
			if _, err := c.Order(&raw, &o, nil); err != nil {
				t.Fatal(err)
			}
			reason := "NULL"
			if o.ChargebackReasonCode != nil {
				reason = *o.ChargebackReasonCode
			}
			if o.ChargebackResolution != tt.want || reason != tt.wantReason {
				t.Errorf("resolution %q reason %s, want %q %s", o.ChargebackResolution, reason, tt.want, tt.wantReason)
			}
			cb := Chargebacks{TransactionStatuses: []string{"COMPLETE"}}
			cb.AddOrder(&o)
			if n := len(cb.disputes); n != tt.disputes {
				t.Errorf("%d disputes, want %d", n, tt.disputes)
			}
		})
	}
}
