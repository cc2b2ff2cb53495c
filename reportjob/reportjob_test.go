package reportjob

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/pipeline"
)

const testConfig = `accounts:
  - name: demo
    merchant_code: LLRJ
    secret_key: ${SECRET}
    api: sandbox
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
    sandbox: {seed: 3, orders_per_day: 10, since: 2025-01-01}
  - name: other
    merchant_code: LLOTHER
    secret_key: ${SECRET}
    api: sandbox
    currency: EUR
    chargeback_fees: {model: fixed, fee: "25"}
jobs:
  - name: nightly
    schedule: "0 2 * * *"
    accounts: [demo]
    lookback_days: 40
    destination: {type: local, path: DIR/warehouse}
  - name: monthly-accounting
    schedule: "0 6 1 * *"
    accounts: [demo]
    destination: {type: local, path: DIR/warehouse}
    reports:
      - {type: accounting, to: [finance@example.com, audit@example.com], outbox: DIR/outbox}
      - {type: accounting, to: [board@example.com], outbox: DIR/outbox}
`

func loadConfig(t *testing.T, body string) (*config.File, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(path, func(k string) (string, bool) { return "s3cr3t", k == "SECRET" })
	if err != nil {
		t.Fatal(err)
	}
	return f, dir
}

func TestJob(t *testing.T) {
	f, _ := loadConfig(t, testConfig)
	two, _ := loadConfig(t, testConfig+`  - name: monthly-again
    schedule: "0 7 1 * *"
    accounts: [demo]
    destination: {type: local, path: /nonexistent}
    reports: [{type: accounting, to: [x@example.com]}]
`)
	tests := []struct {
		name          string
		f             *config.File
		job, account  string
		want, wantErr string // wantErr a regexp
	}{
		{"named", f, "nightly", "", "nightly", ""},
		{"named, whatever its reports", f, "nightly", "other", "nightly", ""},
		{"unknown", f, "weekly", "", "", `^no job "weekly" in .*jobs\.yaml$`},
		{"the only one with a report", f, "", "", "monthly-accounting", ""},
		{"the only one for the account", f, "", "demo", "monthly-accounting", ""},
		{"none for the account", f, "", "other", "", `^no job in .*jobs\.yaml has an accounting report for account other; name one with --job$`},
		{"two", two, "", "", "", `^jobs monthly-accounting, monthly-again all have an accounting report; choose one with --job$`},
		{"two for the account", two, "", "demo", "", `^jobs monthly-accounting, monthly-again all have an accounting report for account demo; choose`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := Job(tt.f, tt.job, tt.account)
			if tt.wantErr != "" {
				if err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error()) {
					t.Errorf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || job.Name != tt.want {
				t.Errorf("Job = %s, %v; want %s", job.Name, err, tt.want)
			}
		})
	}
}

func TestAccounting(t *testing.T) {
	f, _ := loadConfig(t, testConfig)
	for _, tt := range []struct {
		job  string
		want int
	}{{"nightly", 0}, {"monthly-accounting", 2}} {
		job, _ := f.Job(tt.job)
		if got := Accounting(job); len(got) != tt.want {
			t.Errorf("%s: %d accounting reports, want %d", tt.job, len(got), tt.want)
		}
	}
}

// TestRun runs the nightly job for the last day of March, then reports:
// March is built, reconciled and delivered to each report's recipients
// (to the outbox without SMTP settings); April, which no run has read
// whole, is built but not sent unless allowed.
func TestRun(t *testing.T) {
	f, dir := loadConfig(t, testConfig)
	nightly, _ := f.Job("nightly")
	job, _ := f.Job("monthly-accounting")
	acct, _ := f.Account("demo")
	now := func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := pipeline.RunAccount(t.Context(), nightly, acct, civil.Date{Year: 2025, Month: 3, Day: 31}, pipeline.Options{Logger: log, Now: now}); err != nil {
		t.Fatal(err)
	}
	march, april := civil.Date{Year: 2025, Month: 3, Day: 1}, civil.Date{Year: 2025, Month: 4, Day: 1}
	noEnv := func(string) (string, bool) { return "", false }
	tests := []struct {
		name       string
		month      civil.Date
		o          Options
		complete   bool
		deliveries int
		wantErr    string
	}{
		{"built, not sent", march, Options{}, true, 0, ""},
		{"sent to each report", march, Options{Send: true}, true, 2, ""},
		{"incomplete month not sent", april, Options{Send: true}, false, 0, "no successful run has read the whole of 2025-04 since it ended"},
		{"incomplete month sent when allowed", april, Options{Send: true, AllowIncomplete: true}, false, 2, ""},
		{"incomplete month built without sending", april, Options{}, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Dir, o.Log, o.Now, o.Getenv = t.TempDir(), log, now, noEnv
			res, err := Run(t.Context(), job, acct, tt.month, o)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if res.Report == nil || !res.Reconciled || res.Report.Totals.Complete != tt.complete || res.Report.Month != tt.month {
				t.Fatalf("result %+v", res)
			}
			if !strings.HasPrefix(res.RunID, "20250401T090000Z-") || res.Report.RunID != res.RunID {
				t.Errorf("run id %s, report's %s", res.RunID, res.Report.RunID)
			}
			if !strings.HasPrefix(res.Report.Workbook, o.Dir) {
				t.Errorf("workbook %s not in %s", res.Report.Workbook, o.Dir)
			}
			if len(res.Deliveries) != tt.deliveries {
				t.Fatalf("%d deliveries, want %d", len(res.Deliveries), tt.deliveries)
			}
			for i, want := range [][]string{{"finance@example.com", "audit@example.com"}, {"board@example.com"}}[:tt.deliveries] {
				d := res.Deliveries[i]
				if d.Method != "outbox" || !slices.Equal(d.To, want) || filepath.Dir(d.Path) != filepath.Join(dir, "outbox") {
					t.Errorf("delivery %d: %+v, want to %v in the outbox", i, d, want)
				}
			}
		})
	}
}

// TestAfterRun: after a run, the report of the run's month is sent, for a
// job with an accounting report only; a failure says how far it got.
func TestAfterRun(t *testing.T) {
	f, _ := loadConfig(t, testConfig)
	nightly, _ := f.Job("nightly")
	job, _ := f.Job("monthly-accounting")
	acct, _ := f.Account("demo")
	now := func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := Options{Log: log, Now: now, Getenv: func(string) (string, bool) { return "", false }}
	missing := job
	missing.Destination.Local = &config.LocalDestination{Path: filepath.Join(t.TempDir(), "none")}

	// No accounting report: nothing, not even reading the warehouse.
	if res, err := AfterRun(t.Context(), nightly, acct, civil.Date{Year: 2025, Month: 3, Day: 31}, o); err != nil || res.Report != nil || res.RunID != "" {
		t.Errorf("job without a report: %+v, %v", res, err)
	}
	res, err := AfterRun(t.Context(), missing, acct, civil.Date{Year: 2025, Month: 3, Day: 31}, o)
	if err == nil || !strings.HasPrefix(err.Error(), "warehouse: ") || res.Report != nil {
		t.Errorf("no warehouse: %+v, %v", res, err)
	}
	if _, err := os.Stat(missing.Destination.Local.Path); !os.IsNotExist(err) {
		t.Errorf("reading created the warehouse: %v", err)
	}

	if _, err := pipeline.RunAccount(t.Context(), nightly, acct, civil.Date{Year: 2025, Month: 3, Day: 31}, pipeline.Options{Logger: log, Now: now}); err != nil {
		t.Fatal(err)
	}
	o.Dir = t.TempDir()
	res, err = AfterRun(t.Context(), job, acct, civil.Date{Year: 2025, Month: 3, Day: 31}, o)
	if err != nil || res.Report == nil || res.Report.Month != (civil.Date{Year: 2025, Month: 3, Day: 1}) || len(res.Deliveries) != 2 {
		t.Errorf("after the run of 2025-03-31: %+v, %v", res, err)
	}
}
