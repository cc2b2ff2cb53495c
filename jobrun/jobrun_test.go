package jobrun

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runlock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const testConfig = `accounts:
  - name: demo
    merchant_code: LLJOB
    secret_key: ${SECRET}
    api: sandbox
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
    sandbox: {seed: 5, orders_per_day: 8, since: 2025-01-01}
jobs:
  - name: nightly
    schedule: "0 2 * * *"
    accounts: [demo]
    streams: [orders, chargebacks]
    lookback_days: 1
    destination: {type: local, path: DIR/warehouse}
`

func load(t *testing.T) (config.Job, config.Account) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(testConfig, "DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(path, func(k string) (string, bool) { return "s3cr3t", k == "SECRET" })
	if err != nil {
		t.Fatal(err)
	}
	job, _ := f.Job("nightly")
	acct, _ := f.Account("demo")
	return job, acct
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLockDir(t *testing.T) {
	tests := []struct {
		name     string
		override string
		dest     config.Destination
		want     string
	}{
		{"override", "/var/lock/etl", config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: "/data/wh"}}, "/var/lock/etl"},
		{"override wins over BigQuery", "/var/lock/etl", config.Destination{Type: config.DestinationBigQuery, BigQuery: &config.BigQueryDestination{Project: "p", Dataset: "d"}}, "/var/lock/etl"},
		{"local warehouse", "", config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: "/data/wh"}}, "/data/wh/.locks"},
		{"BigQuery", "", config.Destination{Type: config.DestinationBigQuery, BigQuery: &config.BigQueryDestination{Project: "acme", Dataset: "ledger"}},
			filepath.Join(os.TempDir(), "ledgerline-locks", "acme.ledger")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := LockDir(tt.override, config.Job{Name: "nightly", Destination: tt.dest}); err != nil || got != tt.want {
				t.Errorf("LockDir = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunLockedRefusesASecondRun(t *testing.T) {
	job, acct := load(t)
	r := Runner{Log: quiet, Command: "etl run nightly"}
	l, err := r.Lock(job, acct)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(job.Destination.Local.Path, ".locks", "nightly.demo.lock"); l.Path() != want {
		t.Errorf("lock %s, want %s", l.Path(), want)
	}
	date := civil.Date{Year: 2025, Month: 3, Day: 1}
	_, err = r.RunLocked(t.Context(), job, acct, date)
	if !errors.Is(err, runlock.ErrHeld) || !strings.Contains(err.Error(), "(etl run nightly)") {
		t.Fatalf("second run: %v", err)
	}
	l.Release()
	if _, err := r.RunLocked(t.Context(), job, acct, date); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// pages counts the pages an observer hears, and records the days.
type pages struct {
	mu   sync.Mutex
	n    map[string]int
	days []string // "stream done/total"
}

func (p *pages) Days(_, stream string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.days = append(p.days, fmt.Sprintf("%s %d/%d", stream, done, total))
}

func (p *pages) Page(_, stream string, _ int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n[stream]++
}

// TestRunObservesAndRecordsMetrics: a run's pages go to the observer and
// to the metrics, and its outcome to the metrics, stamped by the clock.
func TestRunObservesAndRecordsMetrics(t *testing.T) {
	job, acct := load(t)
	end := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		observer bool
		metrics  bool
	}{
		{"observer and metrics", true, true},
		{"metrics only", false, true},
		{"observer only", true, false},
		{"neither", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Runner{Log: quiet, Version: "test", Now: func() time.Time { return end }}
			obs := &pages{n: map[string]int{}}
			if tt.observer {
				r.Observer = obs
			}
			reg := prometheus.NewRegistry()
			if tt.metrics {
				m, err := progress.NewMetrics(reg)
				if err != nil {
					t.Fatal(err)
				}
				r.Metrics = m
			}
			s, err := r.Run(t.Context(), job, acct, civil.Date{Year: 2025, Month: 3, Day: 1})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s.RunID, "20250401T090000Z-") {
				t.Errorf("run id %s: not from the runner's clock", s.RunID)
			}
			if tt.observer && obs.n["orders"] == 0 {
				t.Errorf("observer heard %v", obs.n)
			}
			// The orders are read by API day, the window's days, one
			// before and two after (the sandbox's EndDate covers its own
			// day, so each search reads one day), and the observer hears
			// each, also through the metrics' tee.
			if !s.OneDaySearches {
				t.Error("the sandbox's days were searched overlapping, want one day each")
			}
			if days := s.Window[1].DaysSince(s.Window[0]) + 4; tt.observer {
				var want []string
				for i := range days + 1 {
					want = append(want, fmt.Sprintf("orders %d/%d", i, days))
				}
				if !slices.Equal(obs.days, want) {
					t.Errorf("days heard %v, want %v", obs.days, want)
				}
			}
			if !tt.metrics {
				return
			}
			runs := r.Metrics.Registry()
			for _, name := range []string{"ledgerline_runs_total", "ledgerline_records_read_total"} {
				if n, err := testutil.GatherAndCount(runs, name); err != nil || n == 0 {
					t.Errorf("%s: %d series, %v", name, n, err)
				}
			}
			want := `
# HELP ledgerline_last_success_timestamp_seconds Unix time the last successful run of a job on an account ended.
# TYPE ledgerline_last_success_timestamp_seconds gauge
ledgerline_last_success_timestamp_seconds{account="demo",etl_job="nightly"} 1.7434980e+09
`
			if err := testutil.GatherAndCompare(runs, strings.NewReader(want), "ledgerline_last_success_timestamp_seconds"); err != nil {
				t.Error(err)
			}
		})
	}
}
