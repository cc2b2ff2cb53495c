package sandbox

import "testing"

func TestDecimal(t *testing.T) {
	for _, tt := range []struct {
		v    int64
		exp  int
		want string
	}{
		{0, 0, "0"}, {0, 2, "0"}, {5, 2, "0.05"}, {-5, 2, "-0.05"}, {10, 2, "0.1"}, {1990, 2, "19.9"},
		{2000, 2, "20"}, {-2000, 2, "-20"}, {123456789, 3, "123456.789"}, {100000, 4, "10"},
		{1, 4, "0.0001"}, {12345, 0, "12345"}, {-12345, 0, "-12345"}, {1 << 40, 2, "10995116277.76"},
	} {
		if got := string(decimal(tt.v, tt.exp)); got != tt.want {
			t.Errorf("decimal(%d, %d) = %s, want %s", tt.v, tt.exp, got, tt.want)
		}
	}
}
