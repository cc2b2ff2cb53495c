package reports

import (
	"math/big"
	"testing"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
)

// TestTierText: the tier the Summary and the Chargeback fees sheet state
// for a fee basis, compared exactly. After a month without transactions
// the fee is first_month_tier's, whatever tier a zero rate would fall in.
func TestTierText(t *testing.T) {
	tiers := []config.Tier{{Below: big.NewRat(13, 2000), BelowText: "0.65%", Fee: money.FromInt(30)}, {Fee: money.FromInt(50)}}
	threshold := config.ChargebackFees{Model: config.FeeModelThreshold, Tiers: tiers}
	second := threshold
	second.FirstMonthTier = 2
	tests := []struct {
		name string
		fees config.ChargebackFees
		g    FeeBasis
		want string
	}{
		{"below the threshold", threshold, FeeBasis{HaveCounts: true, Opened: 12, Transactions: 2000}, "below 0.65%"},
		{"exactly the threshold", threshold, FeeBasis{HaveCounts: true, Opened: 13, Transactions: 2000}, "0.65% or more"},
		{"12/1415", threshold, FeeBasis{HaveCounts: true, Opened: 12, Transactions: 1415}, "0.65% or more"},
		{"no rate row", threshold, FeeBasis{}, "no rate known: lowest tier"},
		{"no transactions", threshold, FeeBasis{HaveCounts: true}, "no transactions: first_month_tier 1"},
		{"no transactions, first_month_tier 2", second, FeeBasis{HaveCounts: true}, "no transactions: first_month_tier 2"},
		{"fixed", config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.FromInt(40)}, FeeBasis{}, "fixed fee per dispute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tierText(tt.fees, &tt.g); got != tt.want {
				t.Errorf("tierText = %q, want %q", got, tt.want)
			}
		})
	}
}
