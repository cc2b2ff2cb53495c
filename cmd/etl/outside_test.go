package main

import (
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/pipeline"
)

// TestOutsideLine: the summary names the API days the run searched, which
// depend on whether each search read one day or reached into the next.
func TestOutsideLine(t *testing.T) {
	window := [2]civil.Date{{Year: 2025, Month: 3, Day: 1}, {Year: 2025, Month: 3, Day: 31}}
	for _, tt := range []struct {
		oneDay bool
		want   string
	}{
		{true, "orders outside the window: 1,234 (read, not stored: the day searches, 2025-02-28..2025-04-02, one API day each, " +
			"returned them dated before 2025-03-01 or after 2025-03-31; a run whose window holds their date stores them)"},
		{false, "orders outside the window: 1,234 (read, not stored: the day searches, 2025-02-28..2025-04-01, each also asking for the next day, " +
			"returned them dated before 2025-03-01 or after 2025-03-31; a run whose window holds their date stores them)"},
	} {
		got := outsideLine(pipeline.Summary{Window: window, Skipped: 1234, OneDaySearches: tt.oneDay})
		if got != tt.want {
			t.Errorf("one-day %v:\n got %s\nwant %s", tt.oneDay, got, tt.want)
		}
	}
}
