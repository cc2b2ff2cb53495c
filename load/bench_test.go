package load_test

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// orderGen fills one reusable Order with realistic, varied, deterministic
// values for row i, without allocating: the unique strings are formatted
// into a reused buffer, which the Arrow builders copy.
type orderGen struct {
	o         schemas.Order
	refBuf    []byte
	orderNo   int64
	finish    time.Time
	customers []string
	exts      []string
	start     time.Time
}

var (
	genMerchants = []string{"ACME01", "ACME01", "ACME01", "GLOBEX7", "INITECH"}
	genSources   = []string{"jsonrpc", "jsonrpc", "jsonrpc", "rest", "legacy"}
	genStatuses  = []string{"COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "REFUND", "PENDING", "CANCELED", "AUTHRECEIVED", "REVERSED"}
	genApprove   = []string{"OK", "OK", "OK", "WAITING", "FRAUD"}
	genCurrency  = []string{"USD", "USD", "USD", "EUR", "EUR", "GBP", "JPY", "CAD", "AUD", "BRL"}
	genCountries = []string{"US", "US", "DE", "GB", "FR", "JP", "CA", "AU", "BR", "RO", "NL", "IN"}
	genAffiliate = []string{"AFF-SPRING", "AFF-REVIEWS", "AFF-BLOG42"}
	genCBRes     = []string{"OPEN", "WON", "LOST", "ACCEPTED"}
	genCBReason  = []string{"FRAUD", "PRODUCT_NOT_RECEIVED", "DUPLICATE", "NOT_AS_DESCRIBED"}
	// Product prices in millionths: 9.99, 19.00, 49.99, 99.00, 149.50, 0.99.
	genPrices = []int64{9_990_000, 19_000_000, 49_990_000, 99_000_000, 149_500_000, 990_000}
	// VAT rates in basis points.
	genVAT = []int64{0, 0, 1900, 2000, 2100, 700}
)

func newOrderGen() *orderGen {
	g := &orderGen{
		refBuf: make([]byte, 0, 32),
		start:  time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := range 20_000 {
		g.customers = append(g.customers, "CUST"+strconv.Itoa(700_000+i*37))
	}
	for i := range 1000 {
		g.exts = append(g.exts, fmt.Sprintf("SHOP-%05d-%c", i*13, 'A'+i%26))
	}
	g.o.RunID = "20240401T020000Z-6f1c"
	g.o.ExtractedAt = time.Date(2024, 4, 1, 2, 3, 4, 567000, time.UTC)
	return g
}

// mix is splitmix64: a cheap, well-spread hash of the row number.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func pick[T any](s []T, h uint64) T { return s[h%uint64(len(s))] }

// row returns the order of row i. It stays valid until the next call.
func (g *orderGen) row(i int) *schemas.Order {
	h := mix(uint64(i))
	o := &g.o
	o.MerchantCode = pick(genMerchants, h)
	g.refBuf = strconv.AppendInt(g.refBuf[:0], 230_000_000+int64(i)*7, 10)
	o.RefNo = unsafe.String(unsafe.SliceData(g.refBuf), len(g.refBuf))
	o.SourceAPI = pick(genSources, h>>3)
	if o.SourceAPI == "legacy" {
		o.OrderNo = nil
	} else {
		g.orderNo = 1_000_000 + int64(i)
		o.OrderNo = &g.orderNo
	}
	o.ExternalReference = nil
	if h>>7%10 < 3 {
		o.ExternalReference = &g.exts[h>>9%uint64(len(g.exts))]
	}
	o.Status = pick(genStatuses, h>>11)
	o.ApproveStatus = &genApprove[h>>15%uint64(len(genApprove))]
	// About 2.6 s between orders: a million orders over a month.
	o.OrderTS = g.start.Add(time.Duration(i)*2592*time.Millisecond + time.Duration(h%1_000_000)*time.Microsecond)
	y, m, d := o.OrderTS.Date()
	o.OrderDate = civil.Date{Year: y, Month: m, Day: d}
	o.FinishTS = nil
	if o.Status == "COMPLETE" || o.Status == "REFUND" {
		g.finish = o.OrderTS.Add(time.Duration(30+h>>17%600) * time.Second)
		o.FinishTS = &g.finish
	}
	o.Currency = pick(genCurrency, h>>20)
	o.Country = &genCountries[h>>24%uint64(len(genCountries))]
	o.IsTest = h>>28%100 == 0
	o.CustomerReference = &g.customers[h>>30%uint64(len(g.customers))]
	o.AffiliateCode = nil
	if h>>45%20 == 0 {
		o.AffiliateCode = &genAffiliate[h>>47%uint64(len(genAffiliate))]
	}
	qty := int64(1 + h>>50%3)
	net := pick(genPrices, h>>33) * qty
	vat := net * pick(genVAT, h>>37) / 10_000
	var disc int64
	if h>>41%8 == 0 {
		disc = net / 10
	}
	o.NetPrice = money.FromUnits(net)
	o.GrossPrice = money.FromUnits(net + vat)
	o.NetDiscountedPrice = money.FromUnits(net - disc)
	o.GrossDiscountedPrice = money.FromUnits(net - disc + (net-disc)*pick(genVAT, h>>37)/10_000)
	o.Discount = money.FromUnits(disc)
	o.VAT = money.FromUnits(vat)
	o.AffiliateCommission = 0
	if o.AffiliateCode != nil {
		o.AffiliateCommission = money.FromUnits((net - disc) * 3 / 10)
	}
	o.TwoCheckoutCommission = money.FromUnits((net-disc)*35/1000 + 350_000)
	o.ChargebackResolution = "NONE"
	o.ChargebackReasonCode = nil
	if h>>52%200 == 0 {
		o.ChargebackResolution = pick(genCBRes, h>>55)
		o.ChargebackReasonCode = &genCBReason[h>>58%uint64(len(genCBReason))]
	}
	return o
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// heapSampler records the peaks of the heap: all of its objects, and the
// live ones as of the last garbage collection.
type heapSampler struct {
	mu         sync.Mutex
	peak, live uint64
	stop       chan struct{}
	done       chan struct{}
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) sample() {
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	s.mu.Lock()
	s.peak = max(s.peak, m[0].Value.Uint64())
	s.live = max(s.live, m[1].Value.Uint64())
	s.mu.Unlock()
}

// finish stops sampling and returns the peaks in MB.
func (s *heapSampler) finish() (peak, live float64) {
	close(s.stop)
	<-s.done
	s.sample()
	return float64(s.peak) / (1 << 20), float64(s.live) / (1 << 20)
}

// cpuSeconds returns the CPU time the Go runtime has used so far: Go code,
// garbage collection and scavenging, as the runtime estimates them.
func cpuSeconds() float64 {
	m := []metrics.Sample{
		{Name: "/cpu/classes/user:cpu-seconds"},
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/cpu/classes/scavenge/total:cpu-seconds"},
	}
	metrics.Read(m)
	return m[0].Value.Float64() + m[1].Value.Float64() + m[2].Value.Float64()
}

// writeOrders writes n generated orders as Parquet to out and returns how
// long it took, the CPU time it used and the peaks of the heap meanwhile.
func writeOrders(b *testing.B, n int, out io.Writer) (elapsed time.Duration, cpu, peak, live float64) {
	g := newOrderGen()
	runtime.GC()
	hs := startHeapSampler()
	cpu0 := cpuSeconds()
	start := time.Now()
	w, err := load.NewParquetWriter(out, schemas.Orders())
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := w.Write(g.row(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	elapsed = time.Since(start)
	runtime.GC() // brings the runtime's CPU estimates up to date
	cpu = cpuSeconds() - cpu0
	peak, live = hs.finish()
	return elapsed, cpu, peak, live
}

// BenchmarkParquetWriterOrders writes 1,000,000 orders and reports the
// rate and the peaks of the heap. It also writes 100,000 orders, untimed,
// for their heap peaks: a writer whose memory stays flat peaks at about the
// same heap for both.
func BenchmarkParquetWriterOrders(b *testing.B) {
	const rows, fewer = 1_000_000, 100_000
	for range b.N {
		b.StopTimer()
		_, _, peak100k, live100k := writeOrders(b, fewer, io.Discard)
		var out countWriter
		b.StartTimer()
		elapsed, cpu, peak, live := writeOrders(b, rows, &out)
		b.StopTimer()
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(rows)/cpu, "rows/cpu-s")
		b.ReportMetric(peak, "peak-heap-MB")
		b.ReportMetric(peak100k, "peak-heap-100k-MB")
		b.ReportMetric(live, "peak-live-MB")
		b.ReportMetric(float64(out.n)/rows, "bytes/row")
		b.Logf("%d rows in %v: %.0f rows/s, %.2f CPU-s (%.0f rows/CPU-s), %.1f MB of Parquet", rows, elapsed.Round(time.Millisecond),
			float64(rows)/elapsed.Seconds(), cpu, float64(rows)/cpu, float64(out.n)/(1<<20))
		b.Logf("peak heap %.1f MB (live %.1f MB) for %d rows, %.1f MB (live %.1f MB) for %d rows: ratio %.2f (live %.2f)",
			peak, live, rows, peak100k, live100k, fewer, peak/peak100k, live/live100k)
		b.StartTimer()
	}
}
