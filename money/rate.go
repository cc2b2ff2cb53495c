package money

import (
	"fmt"
	"math/big"
)

// RateScale is the number of decimal places a Rate keeps: DECIMAL(18,9).
const RateScale = 9

const rateUnit = 1_000_000_000

// Rate is an exact decimal with nine places, stored as billionths: a
// chargeback rate of 0.65% is 6,500,000.
type Rate int64

// RateFromRat returns r rounded half to even to nine decimals, and whether
// rounding changed it. It fails for a value outside DECIMAL(18,9).
func RateFromRat(r *big.Rat) (Rate, bool, error) {
	scaled := new(big.Rat).Mul(r, big.NewRat(rateUnit, 1))
	num, den := scaled.Num(), scaled.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	rounded := m.Sign() != 0
	if rounded {
		// Compare 2|m| with den: above half rounds away from zero, exactly
		// half rounds to the even neighbour.
		twice := new(big.Int).Abs(m)
		twice.Lsh(twice, 1)
		switch c := twice.Cmp(den); {
		case c > 0, c == 0 && q.Bit(0) == 1:
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	if !q.IsInt64() || q.Int64() > maxUnits || q.Int64() < -maxUnits {
		return 0, false, fmt.Errorf("%w for DECIMAL(18,9): rate %s", ErrRange, r.FloatString(12))
	}
	return Rate(q.Int64()), rounded, nil
}

// RateFromUnits returns the Rate of n billionths.
func RateFromUnits(n int64) Rate { return Rate(n) }

// Units returns the rate in billionths: the unscaled value Parquet stores
// for DECIMAL(18,9).
func (r Rate) Units() int64 { return int64(r) }

// Rat returns the rate as an exact rational.
func (r Rate) Rat() *big.Rat { return big.NewRat(int64(r), rateUnit) }

// String formats the rate with nine decimals, e.g. "0.006500000".
func (r Rate) String() string {
	n := int64(r)
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign = "-"
		u = uint64(-n)
	}
	return fmt.Sprintf("%s%d.%09d", sign, u/rateUnit, u%rateUnit)
}

// Percent formats the rate as a percentage with seven decimals, exact:
// 0.0065 is "0.6500000%".
func (r Rate) Percent() string {
	n := int64(r) // percent with 7 decimals: units / 100 * 10^7 / 10^7
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign = "-"
		u = uint64(-n)
	}
	return fmt.Sprintf("%s%d.%07d%%", sign, u/10_000_000, u%10_000_000)
}
