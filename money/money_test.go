package money

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    int64 // millionths
		rounded bool
		err     error
	}{
		{"0", 0, false, nil},
		{"12", 12_000_000, false, nil},
		{"12.5", 12_500_000, false, nil},
		{"-0.01", -10_000, false, nil},
		{"+3.000001", 3_000_001, false, nil},
		{"0.1", 100_000, false, nil}, // the float64 trap: exact here
		{"1e2", 100_000_000, false, nil},
		{"1.5E-3", 1_500, false, nil},
		{"0.0000005", 0, true, nil},   // half to even: 0
		{"0.0000015", 2, true, nil},   // half to even: 2
		{"0.0000025", 2, true, nil},   // half to even: 2
		{"0.00000251", 3, true, nil},  // above half
		{"-0.0000015", -2, true, nil}, // symmetric
		{"2.1234560000", 2_123_456, false, nil},
		{"999999999999.999999", 999_999_999_999_999_999, false, nil},
		{"999999999999.9999995", 0, false, ErrRange},
		{"1000000000000", 0, false, ErrRange},
		{"1e12", 0, false, ErrRange},
		{"", 0, false, ErrSyntax},
		{"abc", 0, false, ErrSyntax},
		{"1.", 0, false, ErrSyntax},
		{".5", 0, false, ErrSyntax},
		{"1e", 0, false, ErrSyntax},
		{"1,5", 0, false, ErrSyntax},
		{"NaN", 0, false, ErrSyntax},
	}
	for _, tt := range tests {
		got, rounded, err := Parse(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) error = %v", tt.in, err)
			continue
		}
		if got.Units() != tt.want || rounded != tt.rounded {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", tt.in, got.Units(), rounded, tt.want, tt.rounded)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		units int64
		want  string
	}{
		{0, "0.000000"},
		{12_500_000, "12.500000"},
		{-10_000, "-0.010000"},
		{999_999_999_999_999_999, "999999999999.999999"},
	}
	for _, tt := range tests {
		if got := FromUnits(tt.units).String(); got != tt.want {
			t.Errorf("String(%d) = %q, want %q", tt.units, got, tt.want)
		}
		back, _, err := Parse(tt.want)
		if err != nil || back.Units() != tt.units {
			t.Errorf("Parse(String(%d)) = %d, %v", tt.units, back.Units(), err)
		}
	}
}

func TestUnmarshalTextRejectsRounding(t *testing.T) {
	var a Amount
	if err := a.UnmarshalText([]byte("30.0000001")); !errors.Is(err, ErrRange) {
		t.Fatalf("UnmarshalText = %v, want ErrRange", err)
	}
	if err := a.UnmarshalText([]byte("30.50")); err != nil || a != MustParse("30.5") {
		t.Fatalf("UnmarshalText = %v, %v", a, err)
	}
}

func TestAddOverflowPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on overflow")
		}
	}()
	FromUnits(1 << 62).Add(FromUnits(1 << 62))
}

// TestParsePlainAgreesWithRat checks Parse's allocation-free path for plain
// decimals against exact rational arithmetic, over generated inputs at the
// path's edges: leading zeros, 12 integer digits, 0 to 7 decimals.
func TestParsePlainAgreesWithRat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		intPart := strconv.FormatUint(r.Uint64N(1_000_000_000_000), 10)
		if r.IntN(10) == 0 {
			intPart = "00" + intPart
		}
		s := intPart
		if nf := r.IntN(8); nf > 0 {
			s += "." + fmt.Sprintf("%0*d", nf, r.Uint64N(pow10(nf)))
		}
		if r.IntN(2) == 0 {
			s = "-" + s
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot read %q", s)
		}
		got, rounded, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		exact := got.Rat().Cmp(want) == 0
		if exact == rounded {
			t.Fatalf("Parse(%q) = %s, rounded %v; exact value %s", s, got, rounded, want.FloatString(8))
		}
		if !exact {
			// Seven decimals: the result is within half a millionth.
			diff := new(big.Rat).Sub(got.Rat(), want)
			if diff.Abs(diff).Cmp(big.NewRat(1, 2_000_000)) > 0 {
				t.Fatalf("Parse(%q) = %s, more than half a millionth from %s", s, got, want.FloatString(8))
			}
		}
	}
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"1234.50", "0.000001", "1.5e3"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
