package dialect

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"", "default", false},
		{"default", "default", false},
		{"rest-201", "rest-201", false},
		{"rest-201, enddate-exclusive,rest-201", "enddate-exclusive,rest-201", false},
		{"rest-200", "", true},
	} {
		s, err := Parse(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("Parse(%q): error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && s.String() != tc.want {
			t.Errorf("Parse(%q) = %q, want %q", tc.in, s, tc.want)
		}
	}
	if s := Of(DSTTimezone); !s.Has(DSTTimezone) || s.Has(REST201) {
		t.Errorf("Of(%s).Has is wrong: %v", DSTTimezone, s)
	}
}
