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
