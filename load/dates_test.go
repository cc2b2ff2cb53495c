package load

import (
	"testing"
	"time"

	"cloud.google.com/go/civil"
)

func TestDaysSinceEpoch(t *testing.T) {
	epoch := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(d civil.Date) {
		t.Helper()
		want := int64(d.In(time.UTC).Sub(epoch).Hours()) / 24
		if d.Year < 1700 || d.Year > 2200 {
			// Durations overflow far from the epoch; count in seconds.
			want = (d.In(time.UTC).Unix() - epoch.Unix()) / 86400
		}
		if got := daysSinceEpoch(d); got != want {
			t.Fatalf("daysSinceEpoch(%v) = %d, want %d", d, got, want)
		}
		if back := dateFromDays(want); back != d {
			t.Fatalf("dateFromDays(%d) = %v, want %v", want, back, d)
		}
		if !validDate(d) {
			t.Fatalf("validDate(%v) = false", d)
		}
	}
	for d := (civil.Date{Year: 1890, Month: 1, Day: 1}); d.Year < 2110; d = d.AddDays(1) {
		check(d)
	}
	for _, d := range []civil.Date{
		{Year: 1, Month: 1, Day: 1},
		{Year: 1, Month: 12, Day: 31},
		{Year: 400, Month: 2, Day: 29},
		{Year: 1600, Month: 2, Day: 29},
		{Year: 9999, Month: 12, Day: 31},
	} {
		check(d)
	}
}

func TestValidDate(t *testing.T) {
	tests := []struct {
		d    civil.Date
		want bool
	}{
		{civil.Date{}, false},
		{civil.Date{Year: 2023, Month: 2, Day: 29}, false},
		{civil.Date{Year: 2024, Month: 2, Day: 29}, true},
		{civil.Date{Year: 1900, Month: 2, Day: 29}, false},
		{civil.Date{Year: 2000, Month: 2, Day: 29}, true},
		{civil.Date{Year: 2024, Month: 4, Day: 31}, false},
		{civil.Date{Year: 2024, Month: 13, Day: 1}, false},
		{civil.Date{Year: 2024, Month: 1, Day: 0}, false},
		{civil.Date{Year: 0, Month: 12, Day: 31}, false},
		{civil.Date{Year: 10000, Month: 1, Day: 1}, false},
	}
	for _, tt := range tests {
		if got := validDate(tt.d); got != tt.want {
			t.Errorf("validDate(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}
