package apiclient_test

import (
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apiclient"
	"github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// BenchmarkCheckStrings weighs the string cap against decoding the same
// 200-order page, the work it follows on every page.
func BenchmarkCheckStrings(b *testing.B) {
	since := civil.Date{Year: 2024, Month: 1, Day: 1}
	m, err := sandbox.New(sandbox.Config{MerchantCode: "M", SecretKey: "k", Seed: 7, OrdersPerDay: 2000, Since: since,
		Now: func() time.Time { return since.AddDays(60).In(time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	orders := m.OrdersOn(since.AddDays(20))[:200]
	body, err := apijson.Marshal(orders)
	if err != nil {
		b.Fatal(err)
	}
	key := func(o *extract.Order) string { return o.RefNo }
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			var got []extract.Order
			if err := apijson.Unmarshal(body, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if err := apiclient.CheckStrings(orders, 64<<10, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
