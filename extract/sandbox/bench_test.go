package sandbox_test

import (
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract/sandbox"
)

func BenchmarkOrdersOn(b *testing.B) {
	m, err := sandbox.New(sandbox.Config{MerchantCode: "M", SecretKey: "k", Since: since, Now: func() time.Time { return since.AddDays(60).In(time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	day := since.AddDays(30)
	n := 0
	for b.Loop() {
		n += len(m.OrdersOn(day))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "orders/s")
}
