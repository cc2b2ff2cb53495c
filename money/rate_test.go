package money

import (
	"math/big"
	"testing"
)

func TestRateFromRat(t *testing.T) {
	tests := []struct {
		num, den int64
		units    int64
		rounded  bool
		str, pct string
	}{
		{13, 2000, 6_500_000, false, "0.006500000", "0.6500000%"},
		{0, 1, 0, false, "0.000000000", "0.0000000%"},
		{1, 3, 333_333_333, true, "0.333333333", "33.3333333%"},
		{2, 3, 666_666_667, true, "0.666666667", "66.6666667%"},
		{1, 2_000_000_000, 0, true, "0.000000000", "0.0000000%"},       // exactly half: to even (0)
		{3, 2_000_000_000, 2, true, "0.000000002", "0.0000002%"},       // exactly half: to even (2)
		{-3, 2_000_000_000, -2, true, "-0.000000002", "-0.0000002%"},   // symmetric
		{7, 7, 1_000_000_000, false, "1.000000000", "100.0000000%"},    // every transaction disputed
		{129, 20_000, 6_450_000, false, "0.006450000", "0.6450000%"},   // just under 0.65%
		{1, 154, 6_493_506, true, "0.006493506", "0.6493506%"},         // 1 in 154
		{5, 1_000_000_000_000, 0, true, "0.000000000", "0.0000000%"},   // below half
		{6, 1_000_000_000_000_0, 0, true, "0.000000000", "0.0000000%"}, // tiny
		{2, 1_000_000_000 * 3, 1, true, "0.000000001", "0.0000001%"},   // 0.67: up
		{999_999_999, 1, 999_999_999_000_000_000, false, "999999999.000000000", "99999999900.0000000%"},
	}
	for _, tt := range tests {
		got, rounded, err := RateFromRat(big.NewRat(tt.num, tt.den))
		if err != nil {
			t.Errorf("%d/%d: %v", tt.num, tt.den, err)
			continue
		}
		if got.Units() != tt.units || rounded != tt.rounded || got.String() != tt.str || got.Percent() != tt.pct {
			t.Errorf("%d/%d = %d %v %s %s; want %d %v %s %s", tt.num, tt.den, got.Units(), rounded, got, got.Percent(),
				tt.units, tt.rounded, tt.str, tt.pct)
		}
	}
	if _, _, err := RateFromRat(big.NewRat(1_000_000_000, 1)); err == nil {
		t.Error("10^9 fits DECIMAL(18,9)?")
	}
}

// TestTimes: amount × rate rounded half to even to six decimals, in the
// integer path and in the big one (products past 63 bits), by hand.
func TestTimes(t *testing.T) {
	rate := func(s string) Rate {
		q, _ := new(big.Rat).SetString(s)
		r, rounded, err := RateFromRat(q)
		if err != nil || rounded {
			t.Fatalf("rate %s: %v", s, err)
		}
		return r
	}
	tests := []struct{ amount, rate, want string }{
		{"455", "0.0066955", "3.046452"},     // 3.0464525: a tie, to even (down)
		{"4545", "0.0066955", "30.431048"},   // 30.4310475: a tie, to even (up)
		{"-455", "0.0066955", "-3.046452"},   // negative: the same magnitude
		{"-4545", "0.0066955", "-30.431048"}, // negative tie up
		{"1000.01", "1.085123", "1085.133851"},
		{"49.99", "1.085123", "54.245299"},
		{"0.000001", "0.5", "0"},        // 0.0000005: a tie, to even 0
		{"0.000003", "0.5", "0.000002"}, // 0.0000015: a tie, to even 2
		{"12000", "1", "12000"},
		{"0", "1.234567891", "0"},
		// Large amounts: a product of units past 63 bits (amount × rate
		// of 9,223 or more) takes the big path.
		{"1000000", "1.085123457", "1085123.457"},
		{"123456.789012", "0.0066955", "826.604931"}, // 826.604930829846 → 826.604931
		{"9999.999999", "1.0000005", "10000.004999"}, // 10000.0049989999995 → 10000.004999
		{"20000.000001", "0.00000005", "0.001"},      // 0.00100000000005 → 0.001000
		{"-20000.000003", "0.0000005", "-0.01"},      // -0.0100000000015 → -0.010000
		{"100000.000005", "0.1", "10000.000000"},     // 10000.0000005: a tie, to even
		{"100000.000015", "0.1", "10000.000002"},     // 10000.0000015: a tie, to even (up)
	}
	for _, tt := range tests {
		got, err := MustParse(tt.amount).Times(rate(tt.rate))
		if err != nil || got != MustParse(tt.want) {
			t.Errorf("%s × %s = %s, %v; want %s", tt.amount, tt.rate, got, err, tt.want)
		}
	}
	if _, err := MustParse("999999999999").Times(rate("1000")); err == nil {
		t.Error("Times past DECIMAL(18,6): no error")
	}
}
