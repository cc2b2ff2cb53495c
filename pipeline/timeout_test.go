package pipeline_test

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/faults"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestRunTimeoutEndsTheRun: a run that outlives its job's run_timeout
// (every sandbox response held 2s, run_timeout 1s) stops within seconds
// with an error that says run_timeout, commits nothing but its failed
// etl_runs record (issue 11, F8: an overall deadline per run).
func TestRunTimeoutEndsTheRun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "warehouse")
	acct, job := testAccount(t), testJob(3)
	acct.Sandbox.Faults = faults.Spec{Slow: 1, SlowDelay: 2 * time.Second}
	job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
	job.RunTimeout = time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := time.Now()
	_, err := pipeline.RunAccount(t.Context(), job, acct, businessDate, pipeline.Options{Logger: log})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %v with run_timeout 1s", took)
	}
	if !errors.Is(err, pipeline.ErrRunTimeout) || !strings.Contains(err.Error(), "job nightly, account demo: run_timeout exceeded (1s)") {
		t.Fatalf("err = %v, want it to say the run_timeout of job nightly, account demo", err)
	}
	r, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := load.Runs(t.Context(), r, load.RunQuery{Merchant: acct.MerchantCode})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != pipeline.StatusFailed || runs[0].Error == nil || !strings.Contains(*runs[0].Error, "run_timeout exceeded") {
		t.Fatalf("etl_runs = %+v, want one failed run naming run_timeout", runs)
	}
	orders, err := r.Partitions(t.Context(), schemas.Orders())
	if err != nil || len(orders) != 0 {
		t.Errorf("orders partitions %v (%v), want none", orders, err)
	}
}
