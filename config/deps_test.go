package config

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies checks what config must not depend on: the sandbox
// (fault specifications come from the leaf package extract/faults) and the
// warehouses, which depend on config.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{
		"github.com/ledgerline/ledgerline/extract/sandbox",
		"github.com/ledgerline/ledgerline/load",
	} {
		for _, d := range deps {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("config depends on %s", d)
			}
		}
	}
}
