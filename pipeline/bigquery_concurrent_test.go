//go:build bqemulator

package pipeline_test

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/pipeline"
)

// pageHook is an Observer that calls fn once, at the first page.
type pageHook struct {
	fn   func()
	done bool
}

func (h *pageHook) Page(string, string, int) {
	if !h.done {
		h.done = true
		h.fn()
	}
}

// TestBigQueryConcurrentRunsSerial runs, on BigQuery, a run of one account
// (the nightly of 7 April) from start to commit while another run of the
// account (31 March) is between its Begin and its commit, having begun
// reading its pages and the chargeback state (F9). The later commit of
// the 31 March run fails with bigquery.ErrStateConflict: it commits no
// data, its failure is recorded in etl_runs, and the tables are as the
// 7 April run left them, the result of a serial order. Its rerun then
// commits.
func TestBigQueryConcurrentRunsSerial(t *testing.T) {
	endpoint := startBigQuery(t)
	acct := bigQueryAccount(t)
	job := testJob(10)
	job.Streams = []string{"orders", "subscriptions", "chargebacks"}
	job.Destination = config.Destination{Type: config.DestinationBigQuery, BigQuery: &config.BigQueryDestination{
		Project: bqProject, Dataset: "ledgerline", Location: "EU", Endpoint: endpoint, StagingDataset: "ledgerline_staging"}}
	w, ok := warehouse(t, job).(*bigquery.Warehouse)
	if !ok {
		t.Fatal("OpenWarehouse of a bigquery destination is not a *bigquery.Warehouse")
	}
	bqWH := bigQueryReader{w, t}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d1, d2 := civil.Date{Year: 2025, Month: 3, Day: 31}, civil.Date{Year: 2025, Month: 4, Day: 7}
	opts := func(d civil.Date) pipeline.Options {
		now := d.AddDays(1).In(time.UTC).Add(2 * time.Hour)
		return pipeline.Options{Logger: log, Version: "test", Now: func() time.Time { return now }}
	}

	var between map[string]tableRows
	var d2Run string
	o1 := opts(d1)
	o1.Observer = &pageHook{fn: func() {
		s, err := pipeline.RunAccount(t.Context(), job, acct, d2, opts(d2))
		if err != nil {
			t.Errorf("run of %s, while the run of %s is open: %v", d2, d1, err)
		}
		d2Run = s.RunID
		between = snapshot(t, bqWH)
	}}
	s1, err := pipeline.RunAccount(t.Context(), job, acct, d1, o1)
	if !errors.Is(err, bigquery.ErrStateConflict) {
		t.Fatalf("run of %s: %v, want ErrStateConflict", d1, err)
	}
	if want := "another run of merchant " + acct.MerchantCode + " committed since this run read its state; rerun it"; !strings.Contains(err.Error(), want) {
		t.Errorf("run of %s: error %q does not say %q", d1, err, want)
	}
	if between == nil {
		t.Fatal("the run of d1 read no page")
	}
	diffSnapshots(t, "after the conflicting commit", between, snapshot(t, bqWH), "etl_runs")
	runs, err := load.Runs(t.Context(), w, load.RunQuery{Merchant: acct.MerchantCode})
	forgetJobs(t, w.Client())
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range runs {
		status[r.RunID] = r.Status
	}
	if want := map[string]string{d2Run: load.StatusSucceeded, s1.RunID: load.StatusFailed}; len(status) != 2 || status[d2Run] != want[d2Run] || status[s1.RunID] != want[s1.RunID] {
		t.Errorf("etl_runs statuses %v, want %v", status, want)
	}

	// The rerun reads the new state and commits.
	if _, err := pipeline.RunAccount(t.Context(), job, acct, d1, opts(d1)); err != nil {
		t.Fatalf("rerun of %s: %v", d1, err)
	}
}
