package extract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/legacy"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// The benchmark extracts N sandbox orders over loopback HTTP through each
// API, the sandbox serving in the same process, and reports:
//
//	orders/s       orders extracted a second (sales for legacy, each with
//	               its detail_sale call)
//	MB/s           response body bytes on the wire a second (1 MB = 10^6 B)
//	allocs/order   heap allocations per order, of client and sandbox
//	peak-heap-MB   the largest heap (live objects and garbage not yet
//	               collected) sampled every 2 ms during the run
//
// Targets on the 2-core CI machine: jsonrpc and rest at least 50,000
// orders/s, legacy at least 5,000 sales/s, and a peak heap under 64 MB for
// 100k and for 1M orders.
//
// Each case extracts its N orders once per b.Loop iteration (make bench
// runs one); the clients run with their default settings but no rate
// limit, over an HTTP transport that keeps its connections. Legacy runs
// 100k only (a request per sale), and -short skips the 1M cases:
//
//	go test -run '^$' -bench Extract -benchtime 1x ./extract/

const (
	benchCode   = "BENCH01"
	benchSecret = "bench-secret-key"
	// benchPerDay is the merchant's average orders a day (each day within
	// ±20% of it), so that a window of a few days holds N orders.
	benchPerDay = sandbox.MaxOrdersPerDay
)

var benchSince = civil.Date{Year: 2024, Month: time.January, Day: 1}

type benchAPI struct {
	name  string
	sizes []int
	new   func(srv *sandbox.Server, base http.RoundTripper, now func() time.Time) (extract.Source, error)
}

var benchAPIs = []benchAPI{
	{"jsonrpc", []int{100_000, 1_000_000}, func(srv *sandbox.Server, base http.RoundTripper, now func() time.Time) (extract.Source, error) {
		return jsonrpc.New(jsonrpc.Config{
			Account:      "bench",
			Endpoint:     srv.URL(),
			MerchantCode: benchCode,
			SecretKey:    benchSecret,
			Now:          now,
			Transport:    benchTransport(base),
		})
	}},
	{"rest", []int{100_000, 1_000_000}, func(srv *sandbox.Server, base http.RoundTripper, now func() time.Time) (extract.Source, error) {
		return rest.New(rest.Config{
			Account:      "bench",
			Endpoint:     srv.RESTURL(),
			MerchantCode: benchCode,
			SecretKey:    benchSecret,
			Now:          now,
			Transport:    benchTransport(base),
		})
	}},
	// The clients' default settings, rate limit included (50 requests a
	// second): what a real account's nightly extraction costs.
	{"jsonrpc-default-rate", []int{100_000}, func(srv *sandbox.Server, base http.RoundTripper, now func() time.Time) (extract.Source, error) {
		return jsonrpc.New(jsonrpc.Config{
			Account:      "bench",
			Endpoint:     srv.URL(),
			MerchantCode: benchCode,
			SecretKey:    benchSecret,
			Now:          now,
			Transport:    transport.Config{Base: base},
		})
	}},
	{"legacy", []int{100_000}, func(srv *sandbox.Server, base http.RoundTripper, now func() time.Time) (extract.Source, error) {
		return legacy.New(legacy.Config{
			Account:   "bench",
			Endpoint:  srv.LegacyURL(),
			User:      sandbox.DefaultLegacyUser,
			Password:  benchSecret,
			Currency:  "USD",
			Transport: benchTransport(base),
		})
	}},
}

// benchTransport is the clients' transport: the defaults but no rate limit.
func benchTransport(base http.RoundTripper) transport.Config {
	return transport.Config{Base: base, Rate: rate.Inf}
}

func BenchmarkExtract(b *testing.B) {
	for _, api := range benchAPIs {
		b.Run(api.name, func(b *testing.B) {
			for _, n := range api.sizes {
				b.Run(sizeName(n), func(b *testing.B) {
					if n > 100_000 && testing.Short() {
						b.Skip("1M orders: skipped in -short mode")
					}
					benchExtract(b, api, n)
				})
			}
		})
	}
}

func sizeName(n int) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// errEnough stops an extraction once it has read N orders.
var errEnough = errors.New("enough orders")

func benchExtract(b *testing.B, api benchAPI, n int) {
	// A window of whole days that holds at least n orders: each day has
	// at least 80% of benchPerDay.
	days := (n+benchPerDay*8/10-1)/(benchPerDay*8/10) + 1
	w := extract.Window{From: benchSince.AddDays(1), To: benchSince.AddDays(days)}
	at := benchSince.AddDays(days + 30).In(time.UTC).Add(12 * time.Hour)
	now := func() time.Time { return at }
	m, err := sandbox.New(sandbox.Config{
		MerchantCode: benchCode,
		SecretKey:    benchSecret,
		Seed:         7,
		OrdersPerDay: benchPerDay,
		Since:        benchSince,
		Now:          now,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := sandbox.Serve(ctx, m, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()

	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	defer base.CloseIdleConnections()
	counter := &countingTransport{base: base}

	var total time.Duration
	var orders, mallocs uint64
	var peak uint64
	for b.Loop() {
		src, err := api.new(srv, counter, now)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		sampler := startHeapSampler()
		start := time.Now()
		got, err := consume(ctx, src, w, n)
		elapsed := time.Since(start)
		p := sampler.stop()
		runtime.ReadMemStats(&after)
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("extracted %d orders, want %d", got, n)
		}
		total += elapsed
		orders += uint64(got)
		mallocs += after.Mallocs - before.Mallocs
		peak = max(peak, p)
	}
	secs := total.Seconds()
	b.ReportMetric(float64(orders)/secs, "orders/s")
	b.ReportMetric(float64(counter.bytes.Load())/1e6/secs, "MB/s")
	b.ReportMetric(float64(mallocs)/float64(orders), "allocs/order")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// consume extracts orders of w from src the way a pipeline does, touching
// every order and keeping none, until it has read n.
func consume(ctx context.Context, src extract.Source, w extract.Window, n int) (int, error) {
	got := 0
	var sink int
	err := src.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		for i := range p.Items {
			o := &p.Items[i]
			if o.RefNo == "" {
				return fmt.Errorf("page %d: order %d has no RefNo", p.Number, i)
			}
			sink += len(o.Items) + len(o.GrossPrice)
			got++
			if got == n {
				return errEnough
			}
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	_ = sink
	return got, err
}

// countingTransport counts the response body bytes that its base reads.
type countingTransport struct {
	base  http.RoundTripper
	bytes atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.bytes}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// heapSampler records the largest heap seen while it runs.
type heapSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{})}
	sample := []metrics.Sample{{Name: heapMetric}}
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			s.peak = max(s.peak, sample[0].Value.Uint64())
		}
	}
	read()
	s.wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.done)
	s.wg.Wait()
	return s.peak
}
