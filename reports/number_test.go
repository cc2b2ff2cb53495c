package reports

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"github.com/xuri/excelize/v2"
)

// writtenText returns the <v> text excelize writes for a cell value.
func writtenText(t *testing.T, v any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{Value: v}}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	s, err := g.GetCellValue("Sheet1", "A1", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := g.GetCellType("Sheet1", "A1"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Fatalf("%v written as cell type %v, not a number", v, typ)
	}
	return s
}

// TestCellAmountText holds the claim of cellAmount: the cell holds exactly
// the amount's decimal text, as excelize writes it.
func TestCellAmountText(t *testing.T) {
	tests := []struct {
		amount string
		want   string // the <v> text; empty: an error
	}{
		{"0", "0"},
		{"30", "30"},
		{"-12.5", "-12.5"},
		{"0.1", "0.1"},
		{"0.07", "0.07"},
		{"1.005", "1.005"},
		{"0.000001", "0.000001"},
		{"-0.000001", "-0.000001"},
		{"224796.13", "224796.13"},
		{"8901134", "8901134"},
		{"999999999.999999", "999999999.999999"}, // 15 digits: the fast path's edge
		{"1000000000.5", "1000000000.5"},         // units 10^15 and more: by text
		{"123456789012.34", "123456789012.34"},   // 14 digits beyond 2^53 units
		{"999999999999.99", "999999999999.99"},   // the largest two-decimal amount
		{"999999999999", "999999999999"},         // whole: int64
		{"-999999999999.999999", ""},             // 18 digits
		{"1234567890.123456", ""},                // 16 digits
		{"0.30000000000000004", "0.3"},           // rounded on parse to 6 decimals
		{"1.5e-6", "0.000002"},                   // half to even
		{"2.675", "2.675"},                       // a classic binary trap
		{"0.1e2", "10"},
	}
	for _, tt := range tests {
		a, _, err := money.Parse(tt.amount)
		if err != nil {
			t.Fatal(err)
		}
		v, err := cellAmount(a)
		if tt.want == "" {
			if err == nil {
				t.Errorf("cellAmount(%s) = %v, want an error", tt.amount, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("cellAmount(%s): %v", tt.amount, err)
			continue
		}
		if got := writtenText(t, v); got != tt.want {
			t.Errorf("cellAmount(%s) written as %q, want %q", tt.amount, got, tt.want)
		}
		if got := decimalText(a.Units(), money.Scale); got != tt.want {
			t.Errorf("decimalText(%s) = %q, want %q", tt.amount, got, tt.want)
		}
	}
}

// TestCellAmountRandom checks the claim for a million random amounts of up
// to 15 significant digits, at every scale, with the formatting excelize
// applies to a float (strconv 'f', -1; see excelize's setCellFloat).
func TestCellAmountRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	for range n {
		digits := 1 + r.IntN(15)
		m := r.Int64N(pow(digits))
		// Any placement of the digits within DECIMAL(18,6).
		units := m * pow(r.IntN(18-digits+1))
		if units > 999_999_999_999_999_999 || units < 0 {
			continue
		}
		if r.IntN(2) == 0 {
			units = -units
		}
		v, err := cellDecimal(units, money.Scale)
		if err != nil {
			t.Fatalf("%d: %v", units, err)
		}
		var got string
		switch v := v.(type) {
		case int64:
			got = strconv.FormatInt(v, 10)
		case float64:
			got = strconv.FormatFloat(v, 'f', -1, 64)
		}
		if want := decimalText(units, money.Scale); got != want {
			t.Fatalf("units %d written as %s, want %s", units, got, want)
		}
	}
}

func pow(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func TestCellRate(t *testing.T) {
	for _, tt := range []struct {
		units int64
		want  string
	}{{6_500_000, "0.0065"}, {8_450_704, "0.008450704"}, {0, "0"}, {1_000_000_000, "1"}, {1, "0.000000001"}} {
		v, err := cellRate(money.RateFromUnits(tt.units))
		if err != nil {
			t.Fatal(err)
		}
		if got := writtenText(t, v); got != tt.want {
			t.Errorf("rate %d written as %q, want %q", tt.units, got, tt.want)
		}
	}
}

func TestAmountText(t *testing.T) {
	tests := []struct {
		amount, currency, text, grouped string
	}{
		{"30", "USD", "30.00", "30.00"},
		{"1234567.5", "USD", "1234567.50", "1,234,567.50"},
		{"12.3456", "USD", "12.3456", "12.3456"},
		{"8901134", "JPY", "8901134", "8,901,134"},
		{"1.5", "JPY", "1.5", "1.5"},
		{"-1000.1", "KWD", "-1000.100", "-1,000.100"},
		{"0", "EUR", "0.00", "0.00"},
		{"100", "CLF", "100.0000", "100.0000"},
	}
	for _, tt := range tests {
		a := money.MustParse(tt.amount)
		if got := amountText(a, tt.currency); got != tt.text {
			t.Errorf("amountText(%s %s) = %q, want %q", tt.amount, tt.currency, got, tt.text)
		}
		if got := groupedAmount(a, tt.currency); got != tt.grouped {
			t.Errorf("groupedAmount(%s %s) = %q, want %q", tt.amount, tt.currency, got, tt.grouped)
		}
	}
}

func TestMoneyFormat(t *testing.T) {
	for cur, want := range map[string]string{
		"USD": `#,##0.00 "USD"`, "JPY": `#,##0 "JPY"`, "KWD": `#,##0.000 "KWD"`, "RON": `#,##0.00 "RON"`,
	} {
		if got := moneyFormat(cur); got != want {
			t.Errorf("moneyFormat(%s) = %s, want %s", cur, got, want)
		}
	}
}

func TestDateSerial(t *testing.T) {
	for d, want := range map[civil.Date]int64{
		{Year: 1900, Month: 3, Day: 1}:  61,
		{Year: 2025, Month: 3, Day: 1}:  45717,
		{Year: 2025, Month: 3, Day: 31}: 45747,
	} {
		if got := dateSerial(d); got != want {
			t.Errorf("dateSerial(%s) = %d, want %d", d, got, want)
		}
	}
	ts := time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)
	if got := timeSerial(ts, time.UTC); got != 45717.75 {
		t.Errorf("timeSerial = %v", got)
	}
}

func TestParseMonth(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{{"2025-03", "2025-03-01"}, {"2025-12", "2025-12-01"}, {"2025-3", ""}, {"2025-13", ""}, {"2025-03-01", ""}, {"", ""}} {
		got, err := ParseMonth(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseMonth(%q) = %s, want an error", tt.in, got)
		case tt.want != "" && (err != nil || got.String() != tt.want):
			t.Errorf("ParseMonth(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if !regexp.MustCompile(`^March 2025$`).MatchString(monthName(civil.Date{Year: 2025, Month: 3, Day: 1})) {
		t.Error(monthName(civil.Date{Year: 2025, Month: 3, Day: 1}))
	}
}
