package extracttest_test

import (
	"testing"

	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/legacy"
)

func TestLegacy(t *testing.T) {
	extracttest.Run(t, extracttest.Options{Project: legacy.Project}, newLegacy)
}
