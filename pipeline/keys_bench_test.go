package pipeline

import (
	"runtime"
	"strconv"
	"testing"

	"cloud.google.com/go/civil"
)

// BenchmarkWindowKeys reports the memory the run's key set holds per
// order (bytes/key) for a million RefNos spread over 120 days, the figure
// windowKeys's comment quotes.
func BenchmarkWindowKeys(b *testing.B) {
	const n = 1_000_000
	first := civil.Date{Year: 2026, Month: 8, Day: 1}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = strconv.Itoa(70_000_000 + i*7)
	}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		w := newWindowKeys(first)
		for d := range 120 {
			for _, k := range keys[d*n/120 : (d+1)*n/120] {
				if _, err := w.see("orders", k, first.AddDays(d)); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/key")
		runtime.KeepAlive(w)
	}
}
