package transform

import (
	"testing"
	"unsafe"

	"github.com/ledgerline/ledgerline/schemas"
)

// TestAddOrderKeepsNoPageMemory: a dispute outlives its page, so the strings
// it keeps must not point into the page's body, as a decoder's strings may
// (each dispute would hold its whole page until the commit).
func TestAddOrderKeepsNoPageMemory(t *testing.T) {
	body := []byte("LLDEMO 70000001 OPEN USD MERCHANDISE_NOT_RECEIVED")
	in := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
		return len(s) > 0 && p >= lo && p < lo+uintptr(len(body))
	}
	sub := func(i, j int) string { return unsafe.String(&body[i], j-i) }
	reason := sub(25, 49)
	o := &schemas.Order{MerchantCode: sub(0, 6), RefNo: sub(7, 15), ChargebackResolution: sub(16, 20),
		Currency: sub(21, 24), ChargebackReasonCode: &reason, Status: "COMPLETE"}
	c := &Chargebacks{TransactionStatuses: []string{"COMPLETE"}}
	c.AddOrder(o)
	if len(c.disputes) != 1 {
		t.Fatalf("disputes = %d, want 1", len(c.disputes))
	}
	for ref, d := range c.disputes {
		for name, s := range map[string]string{"map key": ref, "RefNo": d.RefNo, "MerchantCode": d.MerchantCode,
			"Resolution": d.Resolution, "Currency": d.Currency, "ReasonCode": *d.ReasonCode} {
			if in(s) {
				t.Errorf("%s %q points into the page body", name, s)
			}
		}
		if d.RefNo != "70000001" || d.Resolution != "OPEN" || *d.ReasonCode != "MERCHANDISE_NOT_RECEIVED" {
			t.Errorf("dispute = %+v", d)
		}
	}
}
