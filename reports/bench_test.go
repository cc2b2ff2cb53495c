package reports

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/xuri/excelize/v2"
)

// synthOrders is a warehouse of n generated orders spread over March 2025,
// made on the fly as the reader is asked for each day, as a Parquet
// partition would be read.
type synthOrders struct {
	n     int
	first civil.Date
	days  int
}

func newSynthOrders(n int) *synthOrders {
	return &synthOrders{n: n, first: civil.Date{Year: 2025, Month: 3, Day: 1}, days: 31}
}

func (s *synthOrders) Partitions(_ context.Context, t schemas.Table) ([]civil.Date, error) {
	if t.Name != "orders" {
		return nil, nil
	}
	out := make([]civil.Date, s.days)
	for i := range out {
		out[i] = s.first.AddDays(i)
	}
	return out, nil
}

func (s *synthOrders) ReadPartition(_ context.Context, t schemas.Table, d civil.Date, fn func(any) error) error {
	if t.Name != "orders" {
		return nil
	}
	day := d.DaysSince(s.first)
	from, to := s.dayRange(day)
	for i := from; i < to; i++ {
		o := new(schemas.Order)
		s.order(i, day, o)
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// dayRange returns the indexes of the orders of day.
func (s *synthOrders) dayRange(day int) (int, int) {
	return s.n * day / s.days, s.n * (day + 1) / s.days
}

var (
	synthCurrencies = [...]string{"USD", "USD", "EUR", "GBP", "JPY", "RON"}
	synthCountries  = [...]string{"US", "US", "DE", "GB", "JP", "RO"}
	// synthFx are the currencies' FxRate into USD, the payout currency.
	synthFx       = [...]money.Rate{1_000_000_000, 1_000_000_000, 1_085_123_000, 1_270_450_000, 6_711_000, 218_300_000}
	synthPayout   = "USD"
	synthStatuses = [...]string{"COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "REFUND", "CANCELED", "PENDING"}
)

// order fills o with order i of day, in time order within the day.
func (s *synthOrders) order(i, day int, o *schemas.Order) {
	from, to := s.dayRange(day)
	k := i % len(synthCurrencies)
	minor := int64(10_000) // cents, in millionths
	if synthCurrencies[k] == "JPY" {
		minor = 1_000_000
	}
	gross := int64(500+(i*7919)%250_000) * minor
	discount := gross / 20 / minor * minor
	vat := gross / 6 / minor * minor
	*o = schemas.Order{
		MerchantCode: "BENCH",
		RefNo:        strconv.Itoa(3_000_000_000 + i),
		Status:       synthStatuses[i%len(synthStatuses)],
		OrderDate:    s.first.AddDays(day),
		OrderTS:      s.first.AddDays(day).In(time.UTC).Add(time.Duration(int64(i-from) * int64(24*time.Hour) / int64(to-from))),
		Currency:     synthCurrencies[k],
		Country:      &synthCountries[k],
		GrossPrice:   money.FromUnits(gross), Discount: money.FromUnits(discount),
		GrossDiscountedPrice: money.FromUnits(gross - discount), VAT: money.FromUnits(vat),
		NetDiscountedPrice:    money.FromUnits(gross - discount - vat),
		AffiliateCommission:   money.FromUnits(gross / 10 / minor * minor),
		TwoCheckoutCommission: money.FromUnits(gross*49/1000/minor*minor + 45*minor),
		ChargebackResolution:  "NONE",
		RunID:                 "bench",
	}
	o.FxRate, o.PayoutCurrency = &synthFx[k], &synthPayout
	if i%997 == 0 {
		o.ChargebackResolution = "OPEN"
	}
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memPeak samples the heap while a phase runs and reads the process's peak
// RSS, which it resets first (Linux: /proc/self/clear_refs).
type memPeak struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	heap  uint64
	reset bool
}

func startPeak() *memPeak {
	runtime.GC()
	debug.FreeOSMemory()
	p := &memPeak{stop: make(chan struct{})}
	p.reset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			p.heap = max(p.heap, sample[0].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// end returns the peak heap and the peak RSS in MB (RSS -1 when the
// kernel cannot reset it).
func (p *memPeak) end() (heapMB, rssMB float64) {
	close(p.stop)
	p.wg.Wait()
	rssMB = -1
	if b, err := os.ReadFile("/proc/self/status"); err == nil && p.reset {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				rssMB = kb / 1024
			}
		}
	}
	return float64(p.heap) / (1 << 20), rssMB
}

// reportOrdersSheet writes the Orders sheet of the synthetic month the way
// Build does and saves the workbook at path.
func reportOrdersSheet(ctx context.Context, wh *synthOrders, path string) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetOrders); err != nil {
		return 0, err
	}
	ow, err := newOrdersSheet(f, newStyles(f), SheetOrders, defaultStatuses(), "USD")
	if err != nil {
		return 0, err
	}
	err = eachDayOfOrders(ctx, wh, "BENCH", wh.first, wh.first.AddDays(wh.days-1), func(day []*schemas.Order) error {
		for _, o := range day {
			if err := ow.write(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	last, err := ow.finish(f, SheetOrders)
	if err != nil {
		return 0, err
	}
	return last - 1, saveWorkbook(f, path)
}

// bareOrdersSheet writes the same cells with nothing but excelize's stream
// writer: no reader, sorting, totals or exactness checks. It saves with
// excelize's SaveAs, or with streamSave with the report's own save.
func bareOrdersSheet(wh *synthOrders, path string, streamSave bool) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetOrders); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(SheetOrders)
	if err != nil {
		return 0, err
	}
	dateFmt, headerFmt := fmtDate, ""
	dateID, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	headerID, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &headerFmt, Font: &excelize.Font{Bold: true}})
	moneyIDs := map[string]int{}
	for _, c := range synthCurrencies {
		mf := moneyFormat(c)
		moneyIDs[c], _ = f.NewStyle(&excelize.Style{CustomNumFmt: &mf})
	}
	header := make([]any, ordColumns)
	for i, h := range ordersHeader("USD") {
		header[i] = excelize.Cell{StyleID: headerID, Value: h}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return 0, err
	}
	row := 1
	var o schemas.Order
	values := make([]any, ordColumns)
	epoch := civil.Date{Year: 1899, Month: 12, Day: 30}
	for day := range wh.days {
		from, to := wh.dayRange(day)
		for i := from; i < to; i++ {
			wh.order(i, day, &o)
			m := moneyIDs[o.Currency]
			num := func(a money.Amount) excelize.Cell {
				return excelize.Cell{StyleID: m, Value: float64(a.Units()) / 1e6}
			}
			cb := ""
			if o.ChargebackResolution != "NONE" {
				cb = o.ChargebackResolution
			}
			values[0], values[1], values[2], values[3], values[4] = o.RefNo,
				excelize.Cell{StyleID: dateID, Value: int64(o.OrderDate.DaysSince(epoch))}, o.Status, o.Currency, *o.Country
			values[5], values[6], values[7], values[8] = num(o.GrossPrice), num(o.Discount), num(o.GrossDiscountedPrice), num(o.VAT)
			values[9], values[10], values[11], values[12] = num(o.NetDiscountedPrice), num(o.AffiliateCommission), num(o.TwoCheckoutCommission), cb
			// The account-currency cells: the rate, the payout currency
			// and seven amounts, as many cells as the report writes (it
			// converts them; here they are copied).
			values[13], values[14] = excelize.Cell{Value: 1.085}, "USD"
			for k := range 7 {
				values[15+k] = values[5+k]
			}
			row++
			cell, _ := excelize.CoordinatesToCellName(1, row)
			if err := sw.SetRow(cell, values); err != nil {
				return 0, err
			}
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	if streamSave {
		return row - 1, saveWorkbook(f, path)
	}
	return row - 1, f.SaveAs(path)
}

// BenchmarkOrdersSheet writes the Orders sheet of 1,000,000 orders (100,000
// with -short) as the report does, and the same cells through a bare
// excelize stream writer, in the same run; it reports rows/s of both, their
// ratio (target: at most 1.3), and the peak heap and RSS of each (target:
// under 200 MB).
func BenchmarkOrdersSheet(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	if s := os.Getenv("LEDGERLINE_BENCH_ORDERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	wh := newSynthOrders(n)
	dir := b.TempDir()
	type result struct {
		d, cpu    time.Duration // wall and CPU (user+system) time
		rows      int
		heap, rss float64
		size      int64
	}
	measure := func(name string, write func(path string) (int, error)) result {
		path := filepath.Join(dir, name+".xlsx")
		p := startPeak()
		start, cpu0 := time.Now(), cpuTime()
		rows, err := write(path)
		d, cpu := time.Since(start), cpuTime()-cpu0
		heap, rss := p.end()
		if err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(path)
		return result{d, cpu, rows, heap, rss, fi.Size()}
	}
	var bare, bareStream, rep result
	for b.Loop() {
		// Each measured twice, alternating, keeping the faster: the first
		// write of a run pays for warming up the process.
		bare, bareStream, rep = result{d: time.Hour}, result{d: time.Hour}, result{d: time.Hour}
		for range 2 {
			if r := measure("bare", func(p string) (int, error) { return bareOrdersSheet(wh, p, false) }); r.d < bare.d {
				bare = r
			}
			if r := measure("bare-stream", func(p string) (int, error) { return bareOrdersSheet(wh, p, true) }); r.d < bareStream.d {
				bareStream = r
			}
			if r := measure("report", func(p string) (int, error) { return reportOrdersSheet(context.Background(), wh, p) }); r.d < rep.d {
				rep = r
			}
		}
	}
	if bare.rows != n || rep.rows != n {
		b.Fatalf("rows: bare %d, report %d, want %d", bare.rows, rep.rows, n)
	}
	ratio := rep.d.Seconds() / bare.d.Seconds()
	cpuRatio := rep.cpu.Seconds() / bare.cpu.Seconds()
	b.ReportMetric(float64(rep.rows)/rep.d.Seconds(), "rows/s")
	b.ReportMetric(float64(bare.rows)/bare.d.Seconds(), "bare-rows/s")
	b.ReportMetric(ratio, "time-ratio")
	b.ReportMetric(cpuRatio, "cpu-ratio")
	b.ReportMetric(rep.rss, "peak-RSS-MB")
	b.ReportMetric(bare.rss, "bare-peak-RSS-MB")
	b.ReportMetric(rep.heap, "peak-heap-MB")
	b.ReportMetric(bare.heap, "bare-peak-heap-MB")
	sameSave := rep.cpu.Seconds() / bareStream.cpu.Seconds()
	b.ReportMetric(sameSave, "cpu-ratio-same-save")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	b.Logf("%d orders x %d columns: report %s, CPU %s (%.0f rows/s, peak RSS %.0f MB, heap %.0f MB, %d bytes); bare excelize %s, CPU %s (%.0f rows/s, peak RSS %.0f MB, heap %.0f MB, %d bytes); ratio %.2f wall, %.2f CPU (target 1.3: %s), RSS target 200 MB: %s",
		n, ordColumns, rep.d.Round(time.Millisecond), rep.cpu.Round(time.Millisecond), float64(rep.rows)/rep.d.Seconds(), rep.rss, rep.heap, rep.size,
		bare.d.Round(time.Millisecond), bare.cpu.Round(time.Millisecond), float64(bare.rows)/bare.d.Seconds(), bare.rss, bare.heap, bare.size,
		ratio, cpuRatio, verdict(min(ratio, cpuRatio) <= 1.3), verdict(rep.rss >= 0 && rep.rss < 200))
	b.Logf("the same cells through excelize's stream writer, saved as the report saves (zip streamed to the file): %s, CPU %s (%.0f rows/s, peak RSS %.0f MB); report/bare CPU ratio with the same save %.2f",
		bareStream.d.Round(time.Millisecond), bareStream.cpu.Round(time.Millisecond), float64(bareStream.rows)/bareStream.d.Seconds(), bareStream.rss, sameSave)
}
