package extract_test

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

// orderPage is a REST search result of orders.
type orderPage struct {
	Items      []extract.Order `json:"Items"`
	Pagination struct {
		Page  int `json:"Page"`
		Limit int `json:"Limit"`
		Count int `json:"Count"`
	} `json:"Pagination"`
}

// benchPages returns the sandbox's orders of a busy month as pages of 200,
// encoded as the REST API sends them.
func benchPages(tb testing.TB) [][]byte {
	tb.Helper()
	m, err := sandbox.New(sandbox.Config{MerchantCode: "M", SecretKey: "k", Seed: 7, OrdersPerDay: 2000, Since: benchSince,
		Now: func() time.Time { return benchSince.AddDays(60).In(time.UTC) }})
	if err != nil {
		tb.Fatal(err)
	}
	var orders []extract.Order
	for d := range 3 {
		orders = append(orders, m.OrdersOn(benchSince.AddDays(20+d))...)
	}
	var pages [][]byte
	for i := 0; i+200 <= len(orders); i += 200 {
		var p orderPage
		p.Items = orders[i : i+200]
		p.Pagination.Page, p.Pagination.Limit, p.Pagination.Count = i/200+1, 200, len(orders)
		b, err := stdjson.Marshal(p)
		if err != nil {
			tb.Fatal(err)
		}
		pages = append(pages, b)
	}
	return pages
}

var decoders = []struct {
	name   string
	decode func(data []byte, p *orderPage) error
}{
	{"encoding/json", func(data []byte, p *orderPage) error { return stdjson.Unmarshal(data, p) }},
	{"encoding/json-stream", func(data []byte, p *orderPage) error {
		return stdjson.NewDecoder(bytes.NewReader(data)).Decode(p)
	}},
	{"apijson", func(data []byte, p *orderPage) error { return apijson.Unmarshal(data, p) }},
}

// BenchmarkDecodeOrders decodes pages of 200 sandbox orders with
// encoding/json and with apijson (goccy/go-json), the clients' decoder,
// after checking that apijson decodes them exactly as encoding/json does
// (amounts as json.Number, never float64). ns/op is per page.
//
// It chose the library: medians of 6 runs on the shared 2-core machine,
// when the hand-written decoder and the other candidates were still in it:
//
//	decoder              ns/op/page   vs encoding/json   allocs/page
//	encoding/json          11.3 ms         1.00             7243
//	encoding/json stream   12.6 ms         1.11             7257
//	orderjson (by hand)     3.1 ms         0.27             1141
//	go-json-experiment      8.1 ms         0.72             5645
//	goccy/go-json           2.8 ms         0.24              718
//	bytedance/sonic         2.8 ms         0.25             9196
//
// goccy/go-json is as fast as the hand-written decoder and takes
// encoding/json's API, tags and json.Number as they are.
//
//	go test -run '^$' -bench DecodeOrders ./extract/
func BenchmarkDecodeOrders(b *testing.B) {
	pages := benchPages(b)
	want := make([]orderPage, len(pages))
	for i, pg := range pages {
		if err := stdjson.Unmarshal(pg, &want[i]); err != nil {
			b.Fatal(err)
		}
	}
	for _, d := range decoders {
		for i, pg := range pages {
			var got orderPage
			if err := d.decode(pg, &got); err != nil {
				b.Fatalf("%s: %v", d.name, err)
			}
			if !reflect.DeepEqual(got, want[i]) {
				b.Fatalf("%s: page %d decodes differently from encoding/json", d.name, i+1)
			}
		}
	}
	size := 0
	for _, pg := range pages {
		size += len(pg)
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(size / len(pages)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var p orderPage
				if err := d.decode(pages[i%len(pages)], &p); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
