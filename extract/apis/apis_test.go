package apis_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract/apis"
)

// TestOpen opens a client of every API in the table, and refuses an
// unknown name.
func TestOpen(t *testing.T) {
	if got := apis.Names(); !slices.Equal(got, []string{"jsonrpc", "rest", "legacy"}) {
		t.Errorf("Names() = %v", got)
	}
	cfg := apis.Config{Account: "a", MerchantCode: "M", SecretKey: "k", User: "u", Password: "p", Currency: "USD"}
	for _, name := range apis.Names() {
		src, err := apis.Open(name, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if src.API() != name {
			t.Errorf("Open(%q).API() = %q", name, src.API())
		}
	}
	if _, err := apis.Open("soap", cfg); err == nil || !strings.Contains(err.Error(), `unknown api "soap"`) {
		t.Errorf("Open(soap): error %v", err)
	}
}
