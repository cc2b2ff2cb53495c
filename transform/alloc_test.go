package transform

import (
	"testing"

	"github.com/ledgerline/ledgerline/schemas"
)

// TestItemAllocations: an order line costs a few allocations (its optional
// strings), not one per amount: the field names that errors carry are
// only spelled out for an error.
func TestItemAllocations(t *testing.T) {
	c := &Converter{MerchantCode: "M1", SourceAPI: "rest", Source: mustLoad(t, "UTC"), Reporting: mustLoad(t, "UTC"), RunID: "run-1"}
	allocs := func(lines int) float64 {
		raw := rawOrder()
		for len(raw.Items) < lines {
			raw.Items = append(raw.Items, raw.Items[0])
		}
		var o schemas.Order
		items := make([]schemas.OrderItem, 0, lines)
		return testing.AllocsPerRun(100, func() {
			var err error
			if items, err = c.Order(&raw, &o, items); err != nil {
				t.Fatal(err)
			}
		})
	}
	one, five := allocs(1), allocs(5)
	if perLine := (five - one) / 4; perLine > 4 {
		t.Errorf("%v allocations per order line (1 line: %v, 5 lines: %v), want at most 4", perLine, one, five)
	}
}
