//go:build bqemulator

package pipeline_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
)

// jobRecorder is a reverse proxy in front of the emulator that records the
// jobs a client starts: loads by target table, and queries by the tables
// they read (FROM) and write (DML).
type jobRecorder struct {
	mu      sync.Mutex
	loads   map[string]int // staging table's target name (by suffix) to load jobs
	reads   map[string]int // table to SELECT queries reading it
	commits int            // transactions
}

var fromTable = regexp.MustCompile("FROM `[^`.]+\\.[^`.]+\\.([a-z_]+)`")

func (r *jobRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loads, r.reads, r.commits = map[string]int{}, map[string]int{}, 0
}

// record notes the job or query in the body of a request.
func (r *jobRecorder) record(body []byte) {
	var job struct {
		Query         string // jobs.query
		Configuration struct {
			Load *struct {
				DestinationTable struct{ TableID string }
			}
			Query *struct{ Query string }
		}
	}
	if json.Unmarshal(body, &job) != nil {
		return
	}
	sql := job.Query
	if q := job.Configuration.Query; q != nil {
		sql = q.Query
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case job.Configuration.Load != nil:
		id := job.Configuration.Load.DestinationTable.TableID
		for _, t := range schemas.All() {
			if strings.HasSuffix(id, "_"+t.Name) {
				r.loads[t.Name]++
			}
		}
	case strings.HasPrefix(sql, "BEGIN TRANSACTION"):
		r.commits++
	case strings.HasPrefix(strings.TrimSpace(sql), "SELECT"):
		for _, m := range fromTable.FindAllStringSubmatch(sql, -1) {
			r.reads[m[1]]++
		}
	}
}

// startRecorder returns the URL of a recording proxy to the emulator at
// endpoint.
func startRecorder(t *testing.T, endpoint string) (string, *jobRecorder) {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rec := &jobRecorder{}
	rec.reset()
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && (strings.HasSuffix(req.URL.Path, "/jobs") || strings.HasSuffix(req.URL.Path, "/queries")) {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				t.Error(err)
			}
			// A load's upload is multipart: its first part is the job.
			if i := bytes.Index(body, []byte(`{"configuration"`)); i > 0 {
				rec.record(body[i : bytes.IndexByte(body[i:], '\n')+i])
			} else {
				rec.record(body)
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

// TestBigQueryJobsPerRunAreConstant runs the nightly job into the emulator
// with a window of one month and of three, twice each (the first run of
// an empty dataset, then the next night), and shows that every run starts
// one load job per table it writes, one commit transaction, and reads each
// state table with at most one query, whatever its window; and that the
// second night costs at most 1.5 times the first.
func TestBigQueryJobsPerRunAreConstant(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lookback int
	}{{"one month", 10}, {"three months", 70}} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint, rec := startRecorder(t, startBigQuery(t))
			acct := bigQueryAccount(t)
			job := testJob(tc.lookback)
			job.Streams = []string{"orders", "subscriptions", "chargebacks"}
			job.Destination = config.Destination{Type: config.DestinationBigQuery, BigQuery: &config.BigQueryDestination{
				Project: bqProject, Dataset: "ledgerline", Location: "EU", Endpoint: endpoint, StagingDataset: "ledgerline_staging"}}
			w, ok := warehouse(t, job).(*bigquery.Warehouse)
			if !ok {
				t.Fatal("not a *bigquery.Warehouse")
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			var took [2]time.Duration
			for night, date := range []civil.Date{{Year: 2025, Month: 3, Day: 30}, {Year: 2025, Month: 3, Day: 31}} {
				now := date.AddDays(1).In(time.UTC).Add(2 * time.Hour)
				rec.reset()
				start := time.Now()
				s, err := pipeline.RunAccount(t.Context(), job, acct, date, pipeline.Options{Logger: log, Version: "test", Now: func() time.Time { return now }})
				took[night] = time.Since(start)
				if err != nil {
					t.Fatalf("run of %s: %v", date, err)
				}
				forgetJobs(t, w.Client())
				rec.mu.Lock()
				t.Logf("night %d (%s): %d orders in %v; loads %v, reads %v, commits %d", night+1, date, count(s, "orders"),
					took[night].Round(time.Millisecond), rec.loads, rec.reads, rec.commits)
				written := 0
				for _, ts := range s.Tables {
					if ts.Rows > 0 {
						written++
						if rec.loads[ts.Table] != 1 {
							t.Errorf("night %d: %d load jobs of %s, want 1", night+1, rec.loads[ts.Table], ts.Table)
						}
					}
				}
				if n := total(rec.loads); n != written {
					t.Errorf("night %d: %d load jobs, want %d (one per table written)", night+1, n, written)
				}
				if rec.commits != 1 {
					t.Errorf("night %d: %d commit transactions, want 1", night+1, rec.commits)
				}
				for table, n := range rec.reads {
					if n > 1 {
						t.Errorf("night %d: %s read by %d queries, want at most 1", night+1, table, n)
					}
				}
				if rec.reads["chargebacks"] != 1 || rec.reads["chargeback_rates"] != 1 {
					t.Errorf("night %d: reads %v, want chargebacks and chargeback_rates read once each", night+1, rec.reads)
				}
				rec.mu.Unlock()
			}
			if took[1] > took[0]*3/2 {
				t.Errorf("the second night took %v, more than 1.5 times the first's %v", took[1], took[0])
			}
		})
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
