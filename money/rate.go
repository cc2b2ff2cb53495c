package money

import (
	"fmt"
	"math/big"
	"math/bits"
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

// Times returns a × r rounded half to even to six decimals, exactly: an
// amount converted with an FX rate. The product of their units has 6 + 9
// decimals, so Parse of it with exponent -15 rounds it as every amount is
// rounded, with DECIMAL(18,6)'s range check. The common case, a product
// that fits 63 bits (converted amounts below 9,223), is rounded in
// integers: it is every order line of a report.
func (a Amount) Times(r Rate) (Amount, error) {
	if r < 0 {
		return 0, fmt.Errorf("negative FX rate %s", r)
	}
	u, neg := a.Units(), a < 0
	if neg {
		u = -u
	}
	hi, lo := bits.Mul64(uint64(u), uint64(r.Units()))
	if hi != 0 || lo >= 1<<63 {
		p := new(big.Int).Mul(big.NewInt(a.Units()), big.NewInt(r.Units()))
		v, _, err := Parse(p.String() + "e-15")
		if err != nil {
			return 0, fmt.Errorf("%s × %s: %w", a, r, err)
		}
		return v, nil
	}
	const drop = 1_000_000_000 // 10^(15-6)
	q, rem := lo/drop, lo%drop
	if 2*rem > drop || (2*rem == drop && q%2 == 1) {
		q++
	}
	// q < 2^63 / 10^9: far inside DECIMAL(18,6).
	v := FromUnits(int64(q))
	if neg {
		v = v.Neg()
	}
	return v, nil
}
