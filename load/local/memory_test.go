package local_test

import (
	"runtime"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestClosedWritersHoldNoMemory: a run keeps the writer of every partition
// of its window until the commit (120 days of orders and items), so a
// writer that has closed must let go of its buffers. Before, each kept its
// builders, buffer pool and 256 KB file buffer: 617 MB for these 120
// partitions of 5,000 rows, about 5 MB each (now under 10 MB in all).
func TestClosedWritersHoldNoMemory(t *testing.T) {
	ctx := t.Context()
	d, err := local.Open(t.TempDir(), "M1", "20240229T010000Z-1")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort(ctx)
	orders := schemas.Orders()
	first := civil.Date{Year: 2024, Month: 1, Day: 1}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const days, rows = 120, 5000
	for i := range days {
		date := first.AddDays(i)
		w, err := d.Partition(ctx, orders, date)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range loadtest.Rows(orders, date, rows, 0) {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	held := int64(heap()) - int64(before)
	if held > 40<<20 {
		t.Errorf("%d closed writers hold %.1f MB, want under 40 MB", days, float64(held)/(1<<20))
	}
	t.Logf("%d closed writers hold %.1f MB", days, float64(held)/(1<<20))
}
