//go:build bqemulator

// The BigQuery emulator compiles GoogleSQL from Go source, which takes about
// 15 minutes the first time on two cores: its tests run with
// 'make test-bigquery' (go test -tags bqemulator), which CI runs after
// 'make test'.

package bigquery_test

import (
	"testing"

	"github.com/ledgerline/ledgerline/load/loadtest"
)

// emulatorDecimalDigits is the most significant digits the emulator keeps
// of a Parquet decimal (it reads them through float64): the larger values of
// the suite are shown through the requests instead, by TestLoadRequests.
const emulatorDecimalDigits = 12

func TestConformance(t *testing.T) {
	opts := loadtest.Options{Slice: "M1", MaxDecimalDigits: emulatorDecimalDigits}
	loadtest.RunWith(t, opts, func(t *testing.T) loadtest.Warehouse {
		// A new emulator for each case: one that has run many jobs
		// slows down.
		w := startEmulator(t).warehouse(t, "dw")
		return loadtest.Warehouse{Begin: w.Begin, Reader: w}
	})
}
