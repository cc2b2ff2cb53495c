package reports

import (
	"slices"
	"testing"

	"cloud.google.com/go/civil"
)

// TestProvisionalNamesEveryReason: a report is PROVISIONAL for each reason
// that applies, not only the first.
func TestProvisionalNamesEveryReason(t *testing.T) {
	const (
		uncovered = "no successful run has read the whole of 2025-01 since it ended"
		fallback  = "the fees of 3 disputes rest on first_month_tier: 2024-12 had no transactions"
	)
	tests := []struct {
		name      string
		coveredBy string
		fallbacks []string
		want      []string
	}{
		{"covered, known rates", "run-1", nil, nil},
		{"not covered", "", nil, []string{uncovered}},
		{"covered, fallback fees", "run-1", []string{fallback}, []string{fallback}},
		{"not covered, fallback fees", "", []string{fallback}, []string{uncovered, fallback}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &Report{Month: civil.Date{Year: 2025, Month: 1, Day: 1},
				Totals: Totals{CoveredBy: tt.coveredBy, Fallbacks: tt.fallbacks}}
			if got := rep.Provisional(); !slices.Equal(got, tt.want) {
				t.Errorf("Provisional() = %q, want %q", got, tt.want)
			}
		})
	}
}
