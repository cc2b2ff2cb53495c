package progress_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

var end = time.Date(2025, 4, 1, 2, 3, 4, 0, time.UTC)

func recordRuns(t *testing.T) *progress.Metrics {
	t.Helper()
	m, err := progress.NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	obs := m.Observer("nightly")
	obs.Page("demo", "orders", 200)
	obs.Page("demo", "orders", 50)
	obs.Page("other", "orders", 7)
	m.RunDone("nightly", "demo", pipeline.Summary{Duration: 90 * time.Second,
		Tables: []pipeline.TableSummary{{Table: "orders", Rows: 250}, {Table: "order_items", Rows: 400}}}, nil, end)
	m.RunDone("nightly", "other", pipeline.Summary{Duration: time.Second}, errors.New("boom"), end.Add(time.Minute))
	return m
}

func TestMetricsOfRuns(t *testing.T) {
	m := recordRuns(t)
	want := `
# HELP ledgerline_last_success_timestamp_seconds Unix time the last successful run of a job on an account ended.
# TYPE ledgerline_last_success_timestamp_seconds gauge
ledgerline_last_success_timestamp_seconds{account="demo",etl_job="nightly"} 1.743472984e+09
# HELP ledgerline_records_read_total Records read from the API, by stream.
# TYPE ledgerline_records_read_total counter
ledgerline_records_read_total{account="demo",etl_job="nightly",stream="orders"} 250
ledgerline_records_read_total{account="other",etl_job="nightly",stream="orders"} 7
# HELP ledgerline_rows_written_total Rows committed to a table by successful runs.
# TYPE ledgerline_rows_written_total counter
ledgerline_rows_written_total{account="demo",etl_job="nightly",table="order_items"} 400
ledgerline_rows_written_total{account="demo",etl_job="nightly",table="orders"} 250
# HELP ledgerline_run_duration_seconds Duration of the last run of a job on an account.
# TYPE ledgerline_run_duration_seconds gauge
ledgerline_run_duration_seconds{account="demo",etl_job="nightly"} 90
ledgerline_run_duration_seconds{account="other",etl_job="nightly"} 1
# HELP ledgerline_runs_total Runs of a job on an account that ended, by status (succeeded or failed).
# TYPE ledgerline_runs_total counter
ledgerline_runs_total{account="demo",etl_job="nightly",status="failed"} 0
ledgerline_runs_total{account="demo",etl_job="nightly",status="succeeded"} 1
ledgerline_runs_total{account="other",etl_job="nightly",status="failed"} 1
ledgerline_runs_total{account="other",etl_job="nightly",status="succeeded"} 0
`
	names := []string{"ledgerline_last_success_timestamp_seconds", "ledgerline_records_read_total",
		"ledgerline_rows_written_total", "ledgerline_run_duration_seconds", "ledgerline_runs_total"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if _, err := progress.NewMetrics(m.Registry()); err == nil {
		t.Error("registering the metrics twice in one registry: no error")
	}
}

// pushed is what a fake Pushgateway received.
type pushed struct {
	method, path string
	series       []string // name{labels} value, sorted
}

// fakeGateway is an httptest server acting as a Pushgateway.
func fakeGateway(t *testing.T) (*httptest.Server, func() []pushed) {
	t.Helper()
	var mu sync.Mutex
	var got []pushed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := pushed{method: r.Method, path: r.URL.Path}
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		for {
			var mf = new(dtoFamily)
			if err := dec.Decode(&mf.MetricFamily); err != nil {
				if err != io.EOF {
					t.Errorf("pushed body: %v", err)
				}
				break
			}
			p.series = append(p.series, mf.series()...)
		}
		sort.Strings(p.series)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []pushed {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(got)
		sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
		return out
	}
}

func TestPushGroupsByJobAndAccount(t *testing.T) {
	m := recordRuns(t)
	srv, got := fakeGateway(t)
	if err := m.Push(t.Context(), srv.URL, "nightly"); err != nil {
		t.Fatal(err)
	}
	want := []pushed{
		{"POST", "/metrics/job/nightly/account/demo", []string{
			`ledgerline_last_run_timestamp_seconds{etl_job="nightly"} 1.743472984e+09`,
			`ledgerline_last_success_timestamp_seconds{etl_job="nightly"} 1.743472984e+09`,
			`ledgerline_pages_read_total{etl_job="nightly",stream="orders"} 2`,
			`ledgerline_records_read_total{etl_job="nightly",stream="orders"} 250`,
			`ledgerline_rows_written_total{etl_job="nightly",table="order_items"} 400`,
			`ledgerline_rows_written_total{etl_job="nightly",table="orders"} 250`,
			`ledgerline_run_duration_seconds{etl_job="nightly"} 90`,
			`ledgerline_runs_total{etl_job="nightly",status="failed"} 0`,
			`ledgerline_runs_total{etl_job="nightly",status="succeeded"} 1`,
		}},
		// The failed account's group gets no last success time, so the
		// gateway keeps the one it has.
		{"POST", "/metrics/job/nightly/account/other", []string{
			`ledgerline_last_run_timestamp_seconds{etl_job="nightly"} 1.743473044e+09`,
			`ledgerline_pages_read_total{etl_job="nightly",stream="orders"} 1`,
			`ledgerline_records_read_total{etl_job="nightly",stream="orders"} 7`,
			`ledgerline_run_duration_seconds{etl_job="nightly"} 1`,
			`ledgerline_runs_total{etl_job="nightly",status="failed"} 1`,
			`ledgerline_runs_total{etl_job="nightly",status="succeeded"} 0`,
		}},
	}
	g := got()
	if len(g) != len(want) {
		t.Fatalf("pushes = %+v, want %d", g, len(want))
	}
	for i := range want {
		if g[i].method != want[i].method || g[i].path != want[i].path || !slices.Equal(g[i].series, want[i].series) {
			t.Errorf("push %d:\n got %s %s\n%s\nwant %s %s\n%s", i, g[i].method, g[i].path, strings.Join(g[i].series, "\n"),
				want[i].method, want[i].path, strings.Join(want[i].series, "\n"))
		}
	}
	// Another job's push sends nothing of nightly.
	if err := m.Push(t.Context(), srv.URL, "monthly"); err != nil || len(got()) != 2 {
		t.Errorf("push of a job without runs: %v, %d pushes", err, len(got()))
	}
}

func TestPushReportsGatewayErrors(t *testing.T) {
	m := recordRuns(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gateway says no", http.StatusBadRequest)
	}))
	defer srv.Close()
	err := m.Push(t.Context(), srv.URL, "nightly")
	if err == nil || !strings.Contains(err.Error(), "account demo") || !strings.Contains(err.Error(), "gateway says no") {
		t.Errorf("err = %v", err)
	}
}
