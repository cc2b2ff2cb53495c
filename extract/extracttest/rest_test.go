package extracttest_test

import (
	"testing"

	"github.com/ledgerline/ledgerline/extract/extracttest"
)

func TestREST(t *testing.T) {
	extracttest.Run(t, extracttest.Options{Subscriptions: true}, newREST)
}
