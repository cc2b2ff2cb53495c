package schemas

import (
	"strings"
	"testing"
)

func names(t Table) string {
	var n []string
	for _, c := range t.Columns {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// The orders columns of DESIGN.md section 3, in order.
const designOrders = "merchant_code, ref_no, source_api, order_no, external_reference, " +
	"status, approve_status, order_ts, order_date, finish_ts, currency, country, is_test, " +
	"customer_reference, affiliate_code, net_price, gross_price, net_discounted_price, " +
	"gross_discounted_price, discount, vat, affiliate_commission, twocheckout_commission, " +
	"chargeback_resolution, chargeback_reason_code, run_id, extracted_at, " +
	// Issue 12: the columns of the real response shape, nullable and last.
	"billing_country, delivery_country, payment_type, card_type, fx_rate, fx_markup, payout_currency, origin"

func TestOrdersFollowDesign(t *testing.T) {
	if got := names(Orders()); got != designOrders {
		t.Errorf("orders columns:\n got %s\nwant %s", got, designOrders)
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		table    Table
		column   string
		typ      Type
		nullable bool
	}{
		{Orders(), "ref_no", String, false},
		{Orders(), "order_no", Int64, true},
		{Orders(), "fx_rate", Rate, true},
		{Orders(), "fx_markup", Rate, true},
		{Orders(), "billing_country", String, true},
		{OrderItems(), "line_item_reference", String, true},
		{OrderItems(), "vat_percent", Rate, true},
		{Orders(), "is_test", Bool, false},
		{Orders(), "gross_price", Decimal, false},
		{Orders(), "order_ts", Timestamp, false},
		{Orders(), "finish_ts", Timestamp, true},
		{Orders(), "order_date", Date, false},
		{OrderItems(), "line_no", Int64, false},
		{OrderItems(), "unit_vat", Decimal, false},
		{SubscriptionHistory(), "next_billing_date", Date, true},
		{SubscriptionHistory(), "valid_from", Date, false},
		{SubscriptionHistory(), "valid_to", Date, false},
		{SubscriptionReads(), "modified_after", Date, true},
	}
	for _, tt := range tests {
		c, ok := tt.table.Column(tt.column)
		if !ok {
			t.Errorf("%s.%s missing", tt.table.Name, tt.column)
			continue
		}
		if c.Type != tt.typ || c.Nullable != tt.nullable {
			t.Errorf("%s.%s = %s nullable=%v, want %s nullable=%v", tt.table.Name, tt.column, c.Type, c.Nullable, tt.typ, tt.nullable)
		}
	}
}

func TestEveryColumnIsDescribedAndKeyed(t *testing.T) {
	for _, tb := range All() {
		seen := map[string]bool{}
		for _, c := range tb.Columns {
			if c.Description == "" {
				t.Errorf("%s.%s has no description", tb.Name, c.Name)
			}
			if seen[c.Name] {
				t.Errorf("%s.%s appears twice", tb.Name, c.Name)
			}
			seen[c.Name] = true
		}
		if _, ok := tb.Column("merchant_code"); !ok {
			t.Errorf("%s has no merchant_code", tb.Name)
		}
		for _, k := range tb.Key {
			if c, _ := tb.Column(k); c.Nullable {
				t.Errorf("%s key column %s is nullable", tb.Name, k)
			}
		}
	}
}

func TestArrowSchema(t *testing.T) {
	s := Orders().ArrowSchema()
	want := map[string]string{
		"gross_price": "decimal(18, 6)",
		"order_ts":    "timestamp[us, tz=UTC]",
		"order_date":  "date32",
		"order_no":    "int64",
		"is_test":     "bool",
		"ref_no":      "utf8",
	}
	for name, typ := range want {
		f, ok := s.FieldsByName(name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		if got := f[0].Type.String(); got != typ {
			t.Errorf("%s: %s, want %s", name, got, typ)
		}
	}
	if f, _ := s.FieldsByName("finish_ts"); !f[0].Nullable {
		t.Error("finish_ts not nullable")
	}
	if s.NumFields() != len(Orders().Columns) {
		t.Errorf("fields = %d", s.NumFields())
	}
}

func TestMalformedTablePanics(t *testing.T) {
	type bad struct {
		A string  `col:"a" desc:"a"`
		B float64 `col:"b" desc:"money must never be a float"`
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "unsupported type float64") {
			t.Fatalf("recover = %v", r)
		}
	}()
	newTable[bad]("bad", "", "a", nil, nil)
}
