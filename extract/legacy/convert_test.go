package legacy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		invoice  string
		refunded bool
		want     string
	}{
		{"pending", false, "PENDING"},
		{"approved", false, "COMPLETE"},
		{"deposited", false, "COMPLETE"},
		{"approved", true, "REFUND"},
		{"deposited", true, "REFUND"},
		{"declined", false, "CANCELED"},
		{" Approved ", false, "COMPLETE"},
		{"pending", true, "PENDING"},
		{"fraud_review", false, "FRAUD_REVIEW"},
		{"", false, ""},
	}
	for _, tt := range tests {
		if got := status(tt.invoice, tt.refunded); got != tt.want {
			t.Errorf("status(%q, %v) = %q, want %q", tt.invoice, tt.refunded, got, tt.want)
		}
	}
}

func TestSum(t *testing.T) {
	tests := []struct {
		terms []string
		neg   bool
		want  json.Number
		err   bool
	}{
		{nil, false, "0", false},
		{nil, true, "0", false},
		{[]string{"", ""}, true, "0", false},
		{[]string{"107.10", "11.90"}, false, "119", false},
		{[]string{"-4.35"}, true, "4.35", false},
		{[]string{"0.1", "0.2"}, false, "0.3", false}, // exactly, unlike float64
		{[]string{"1400", "-140"}, false, "1260", false},
		{[]string{"1e2", "0.5"}, false, "100.5", false},
		{[]string{"123456789012.345678", "0.000001"}, false, "123456789012.345679", false},
		{[]string{"12,50"}, false, "", true},
	}
	for _, tt := range tests {
		got, err := sum(tt.terms, tt.neg)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("sum(%q, %v) = %q, %v; want %q, error %v", tt.terms, tt.neg, got, err, tt.want, tt.err)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		in   string
		want number
		err  bool
	}{
		{`"12.50"`, "12.50", false},
		{`12.50`, "12.50", false},
		{`"-0.5"`, "-0.5", false},
		{`1e3`, "1e3", false},
		{`" 7 "`, "7", false},
		{`""`, "", false},
		{`null`, "", false},
		{`"12,50"`, "", true},
		{`"0x10"`, "", true},
		{`"01"`, "", true},
		{`"1."`, "", true},
		{`"NaN"`, "", true},
		{`"\"1\""`, "", true},
		{`true`, "", true},
		{`{}`, "", true},
	}
	for _, tt := range tests {
		var v struct {
			N number `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n":`+tt.in+`}`), &v)
		if v.N != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: %q, %v; want %q, error %v", tt.in, v.N, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), "field") {
			t.Errorf("%s: error %v does not name the field", tt.in, err)
		}
	}
}

// TestConvert converts a detail_sale body shaped like the real API's: every
// value a string, nulls, lines without quantity, a renewal invoice.
func TestConvert(t *testing.T) {
	const body = `{
  "response_code": "OK",
  "response_message": "Sale detail retrieved",
  "sale": {
    "sale_id": "4774380224",
    "date_placed": "2012-07-18 10:13:19",
    "recurring_decline": null,
    "customer": {"customer_id": "4774380233", "country_code": "USA", "first_name": "Ann", "pay_method": {"method": "credit card"}},
    "invoices": [
      {
        "invoice_id": "4774380242", "status": "deposited", "vendor_order_id": null,
        "cust_currency": "EUR", "customer_total": "39.80", "usd_total": "48.95", "vendor_total": "48.95", "fees_2co": "2.95",
        "lineitems": [
          {"lineitem_id": "1", "type": "product", "status": "bill", "vendor_product_id": "P-1", "product_name": "Widget",
           "customer_amount": "29.90", "usd_amount": "36.78", "billing": {"amount": "29.90"}},
          {"lineitem_id": "2", "type": "shipping", "status": "bill", "product_name": "Shipping", "customer_amount": "4.90"},
          {"lineitem_id": "3", "type": "", "status": "bill", "vendor_product_id": 1234, "product_name": "Gadget",
           "quantity": "2", "customer_amount": "10.00"},
          {"lineitem_id": "4", "type": "coupon", "status": "bill", "product_name": "Coupon", "customer_amount": "-5.00"}
        ]
      },
      {"invoice_id": "4774380250", "status": "approved", "customer_total": "39.80", "lineitems": []}
    ]
  }
}`
	var resp detailResponse
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	if err := resp.err(); err != nil {
		t.Fatal(err)
	}
	var got extract.Order
	if err := convert("4774380224", resp.Sale, &got); err != nil {
		t.Fatal(err)
	}
	want := extract.Order{
		RefNo:                "4774380224",
		Status:               "COMPLETE",
		OrderDate:            "2012-07-18 10:13:19",
		Currency:             "EUR",
		CustomerReference:    "4774380233",
		GrossPrice:           "44.8",
		GrossDiscountedPrice: "39.8",
		Discount:             "5",
		Items: []extract.OrderItem{
			{Code: "P-1", ProductDetails: extract.ProductDetails{Name: "Widget"}, Quantity: "1",
				Price: extract.ItemPrice{Currency: "EUR", GrossPrice: "29.9"}},
			{Code: "1234", ProductDetails: extract.ProductDetails{Name: "Gadget"}, Quantity: "2",
				Price: extract.ItemPrice{Currency: "EUR", GrossPrice: "10"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("converted\n%+v\nwant\n%+v", got, want)
	}

	// Refunded only when every product line is.
	lines := resp.Sale.Invoices[0].Lineitems
	lines[0].Status = "refund"
	if convert("4774380224", resp.Sale, &got); got.Status != "COMPLETE" {
		t.Errorf("one product line of two refunded: status %s", got.Status)
	}
	lines[2].Status = "refund"
	if convert("4774380224", resp.Sale, &got); got.Status != "REFUND" {
		t.Errorf("every product line refunded: status %s", got.Status)
	}
}
