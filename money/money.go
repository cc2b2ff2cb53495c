// Package money holds exact decimal amounts: the DECIMAL(18,6) of the table
// contract, kept as a scaled int64 so that no amount ever passes through a
// binary floating-point value.
package money

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Scale is the number of decimal places an Amount keeps.
const Scale = 6

// Precision is the number of significant digits an Amount may have.
const Precision = 18

// unit is 10^Scale: the number of Amount units in 1.
const unit = 1_000_000

// maxUnits is the largest magnitude that fits DECIMAL(18,6):
// 999,999,999,999.999999.
const maxUnits = 999_999_999_999_999_999

// Amount is an exact decimal with six places, stored as millionths.
// The zero value is 0.
type Amount int64

// ErrSyntax is returned for text that is not a decimal number.
var ErrSyntax = errors.New("not a decimal number")

// ErrRange is returned for a value outside DECIMAL(18,6).
var ErrRange = errors.New("out of range")

// FromUnits returns the Amount of n millionths.
func FromUnits(n int64) Amount { return Amount(n) }

// FromInt returns the Amount of n whole units.
func FromInt(n int64) Amount { return Amount(n * unit) }

// Units returns the amount in millionths: the unscaled value that Parquet
// stores for DECIMAL(18,6).
func (a Amount) Units() int64 { return int64(a) }

// Rat returns the amount as an exact rational.
func (a Amount) Rat() *big.Rat { return big.NewRat(int64(a), unit) }

// Parse reads a decimal in JSON number syntax (optional sign, digits,
// optional fraction, optional exponent), as it arrives in a json.Number.
// Digits past the sixth decimal are rounded half to even; rounded reports
// whether that changed the value, so a run can count such amounts.
func Parse(s string) (a Amount, rounded bool, err error) {
	if s == "" {
		return 0, false, fmt.Errorf("%w: empty", ErrSyntax)
	}
	neg := false
	rest := s
	switch rest[0] {
	case '-':
		neg = true
		rest = rest[1:]
	case '+':
		rest = rest[1:]
	}
	if n, ok := parsePlain(rest); ok {
		if neg {
			n = -n
		}
		return Amount(n), false, nil
	}
	mant, exp := rest, 0
	if i := strings.IndexAny(rest, "eE"); i >= 0 {
		mant = rest[:i]
		e, ok := parseExp(rest[i+1:])
		if !ok {
			return 0, false, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
		if frac == "" {
			return 0, false, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, false, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	// The value is digits × 10^(exp - len(frac)); shift so that the first
	// len(digits)+shift digits are millionths and the rest are dropped.
	digits := strings.TrimLeft(intPart+frac, "0")
	shift := exp - len(frac) + Scale
	if digits == "" {
		return 0, false, nil
	}
	var keep, drop string
	switch {
	case shift >= 0:
		if len(digits)+shift > Precision {
			return 0, false, fmt.Errorf("%w for DECIMAL(18,6): %s", ErrRange, s)
		}
		keep = digits + strings.Repeat("0", shift)
	case -shift >= len(digits):
		keep, drop = "", strings.Repeat("0", -shift-len(digits))+digits
	default:
		keep, drop = digits[:len(digits)+shift], digits[len(digits)+shift:]
	}
	if len(keep) > Precision {
		return 0, false, fmt.Errorf("%w for DECIMAL(18,6): %s", ErrRange, s)
	}
	var n int64
	for i := 0; i < len(keep); i++ {
		n = n*10 + int64(keep[i]-'0')
	}
	if drop != "" {
		rounded = strings.Trim(drop, "0") != ""
		if roundUp(n, drop) {
			n++
		}
	}
	if n > maxUnits {
		return 0, false, fmt.Errorf("%w for DECIMAL(18,6): %s", ErrRange, s)
	}
	if neg {
		n = -n
	}
	return Amount(n), rounded, nil
}

// parsePlain reads the shape nearly every API amount has, digits with at
// most six decimals and no exponent ("1234.50"), without allocating; it
// reports false for anything else, which Parse's general path then reads.
// It is the hot path of order conversion (several amounts per line item).
func parsePlain(s string) (int64, bool) {
	var n int64
	intDigits, fracDigits, dot := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if dot {
				fracDigits++
			} else {
				intDigits++
			}
			n = n*10 + int64(c-'0')
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	// 12 integer digits is the most DECIMAL(18,6) holds; leading zeros
	// counted as digits only send such input to the general path.
	if intDigits == 0 || intDigits > Precision-Scale || fracDigits > Scale || (dot && fracDigits == 0) {
		return 0, false
	}
	for ; fracDigits < Scale; fracDigits++ {
		n *= 10
	}
	return n, true
}

// MustParse is Parse for constants in code and tests; it panics on error.
func MustParse(s string) Amount {
	a, _, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// roundUp reports whether kept value n must be incremented given the dropped
// digits, rounding half to even.
func roundUp(n int64, drop string) bool {
	switch {
	case drop[0] > '5':
		return true
	case drop[0] < '5':
		return false
	case strings.Trim(drop[1:], "0") != "":
		return true
	default:
		return n%2 == 1
	}
}

func parseExp(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || !allDigits(s) || len(s) > 4 {
		return 0, false
	}
	e := 0
	for i := 0; i < len(s); i++ {
		e = e*10 + int(s[i]-'0')
	}
	if neg {
		e = -e
	}
	return e, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the amount with exactly six decimals, e.g. "-12.500000".
func (a Amount) String() string {
	n := int64(a)
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign = "-"
		u = uint64(-n)
	}
	return fmt.Sprintf("%s%d.%06d", sign, u/unit, u%unit)
}

// Add returns a+b exactly; it panics if the sum overflows int64, which takes
// over nine million maximal amounts.
func (a Amount) Add(b Amount) Amount {
	s := a + b
	if (s > a) != (b > 0) {
		panic("money: overflow")
	}
	return s
}

// Neg returns -a.
func (a Amount) Neg() Amount { return -a }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int {
	switch {
	case a < 0:
		return -1
	case a > 0:
		return 1
	}
	return 0
}

// MarshalText implements encoding.TextMarshaler with the String form.
func (a Amount) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it rejects values that
// would need rounding, because configuration amounts must be exact.
func (a *Amount) UnmarshalText(b []byte) error {
	v, rounded, err := Parse(string(b))
	if err != nil {
		return err
	}
	if rounded {
		return fmt.Errorf("%w: %s has more than %d decimals", ErrRange, b, Scale)
	}
	*a = v
	return nil
}
