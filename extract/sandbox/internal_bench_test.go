package sandbox

import (
	"testing"
	"time"

	"cloud.google.com/go/civil"
)

// BenchmarkSubscriptionsFirstPage measures the first searchSubscriptions
// page of a two-year-old account, which counts every day's subscriptions
// once.
func BenchmarkSubscriptionsFirstPage(b *testing.B) {
	since := civil.Date{Year: 2024, Month: time.January, Day: 1}
	now := since.AddDays(730).In(time.UTC)
	for b.Loop() {
		m, err := New(Config{MerchantCode: "M", SecretKey: "k", Since: since, Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		m.searchSubscriptions(since, since.AddDays(1000), 0, 200, now)
	}
}
