package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/runlock"
	"github.com/ledgerline/ledgerline/schemas"
)

func newCLI(env map[string]string) (*cli, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cli{
		stdout: &out, stderr: &errb,
		getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		now:    func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) },
	}, &out, &errb
}

const testConfig = `accounts:
  - name: demo
    merchant_code: LLCLI
    secret_key: ${CLI_SECRET}
    api: sandbox
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
    sandbox: {seed: 3, orders_per_day: 20, since: 2025-01-01}
jobs:
  - name: nightly
    schedule: "0 2 * * *"
    accounts: [demo]
    streams: [orders, subscriptions]
    lookback_days: 5
    destination: {type: local, path: WAREHOUSE}
`

func writeConfig(t *testing.T, body string) (path, warehouse string) {
	t.Helper()
	dir := t.TempDir()
	warehouse = filepath.Join(dir, "warehouse")
	path = filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "WAREHOUSE", warehouse)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, warehouse
}

func TestExitCodes(t *testing.T) {
	good, _ := writeConfig(t, testConfig)
	bad, _ := writeConfig(t, strings.Replace(testConfig, "lookback_days: 5", "lookback_days: five", 1))
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string // regexp
		stderr string // regexp
	}{
		{"no command", nil, env, exitUsage, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, env, exitUsage, "", `unknown command "frobnicate"`},
		{"help", []string{"--help"}, env, exitOK, "etl run JOB", ""},
		{"version", []string{"version"}, env, exitOK, `^etl \S+\n$`, ""},
		{"validate ok", []string{"validate", "-c", good}, env, exitOK, `OK \(1 account, 1 job\)`, ""},
		{"validate help", []string{"validate", "--help"}, env, exitOK, "", `-c file`},
		{"validate bad type", []string{"validate", "-c", bad}, env, exitUsage, "", `jobs\.yaml:14: jobs\[0\]\.lookback_days: .*integer`},
		{"validate missing env", []string{"validate", "-c", good}, nil, exitUsage, "", `jobs\.yaml:4: accounts\[0\]\.secret_key: .*CLI_SECRET`},
		{"validate missing file", []string{"validate", "-c", "/nonexistent/jobs.yaml"}, env, exitUsage, "", "nonexistent"},
		{"run unknown job", []string{"run", "weekly", "-c", good}, env, exitUsage, "", `no job "weekly"`},
		{"run bad date", []string{"run", "nightly", "--date", "2025-13-01", "-c", good}, env, exitUsage, "", `--date "2025-13-01"`},
		{"run without job", []string{"run", "-c", good}, env, exitUsage, "", "Usage: etl run"},
		// The clock is 2025-04-01 09:00 UTC: today and later are not over.
		{"run today", []string{"run", "nightly", "--date", "2025-04-01", "-c", good}, env, exitUsage, "", `--date 2025-04-01 is after yesterday \(2025-03-31 in UTC\): that day is not over`},
		{"run future", []string{"run", "nightly", "--date", "2025-12-05", "-c", good}, env, exitUsage, "", `--date 2025-12-05 is after yesterday`},
		{"run bad config", []string{"run", "nightly", "-c", bad}, env, exitUsage, "", "lookback_days"},
		{"sandbox without serve", []string{"sandbox"}, env, exitUsage, "", "etl sandbox serve"},
		{"sandbox bad flag", []string{"sandbox", "serve", "--seed", "x"}, env, exitUsage, "", "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out, errb := newCLI(tt.env)
			if code := c.main(context.Background(), tt.args); code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errb)
			}
			if tt.stdout != "" && !regexp.MustCompile(tt.stdout).MatchString(out.String()) {
				t.Errorf("stdout %q does not match %q", out, tt.stdout)
			}
			if tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(errb.String()) {
				t.Errorf("stderr %q does not match %q", errb, tt.stderr)
			}
			if strings.Contains(out.String()+errb.String(), "s3cr3t-value") {
				t.Error("the secret key was printed")
			}
		})
	}
}

func TestRunPrintsSummaryAndIsRepeatable(t *testing.T) {
	path, warehouse := writeConfig(t, testConfig)
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	var summaries []string
	for range 2 {
		c, out, errb := newCLI(env)
		// Flags after the job name, as users type them.
		if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-31"}); code != exitOK {
			t.Fatalf("exit %d: %s", code, errb)
		}
		if strings.Contains(errb.String(), "s3cr3t-value") {
			t.Error("the secret key was logged")
		}
		if !strings.Contains(errb.String(), `"msg":"run committed"`) {
			t.Errorf("no JSON log line for the commit: %s", errb)
		}
		summaries = append(summaries, out.String())
	}
	rows := regexp.MustCompile(`(?m)^\s*(orders|order_items|subscription_history|total)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)`)
	// Rows written and partitions, per table: a rerun reads only the
	// subscriptions changed since, and writes the same.
	written := func(out string) (w []string) {
		for _, m := range rows.FindAllStringSubmatch(out, -1) {
			w = append(w, m[1]+" "+m[3]+" "+m[4])
		}
		return w
	}
	first, second := written(summaries[0]), written(summaries[1])
	if len(first) != 4 || strings.Join(first, "\n") != strings.Join(second, "\n") {
		t.Fatalf("summaries differ or lack tables:\n%s\n%s", summaries[0], summaries[1])
	}
	if !strings.Contains(summaries[0], "date 2025-03-31, orders window 2025-03-01..2025-03-31") {
		t.Errorf("summary lacks the window: %s", summaries[0])
	}
	runs := readRuns(t, warehouse)
	if len(runs) != 2 {
		t.Fatalf("etl_runs has %d rows, want 2", len(runs))
	}
	for _, r := range runs {
		if r.Status != "succeeded" || r.Job != "nightly" || r.Account != "demo" || r.MerchantCode != "LLCLI" ||
			r.BusinessDate.String() != "2025-03-31" || r.WindowFrom.String() != "2025-03-01" || r.Orders != 636 ||
			r.Subs == 0 || r.Error != nil || r.Version != version {
			t.Errorf("etl_runs row = %+v", r)
		}
	}
	files, err := filepath.Glob(filepath.Join(warehouse, "orders", "order_date=2025-03-*", "*.parquet"))
	if err != nil || len(files) != 31 {
		t.Errorf("orders partition files = %v (%v), want 31 (March)", files, err)
	}
}

func TestDefaultDateIsYesterdayInJobZone(t *testing.T) {
	path, _ := writeConfig(t, strings.Replace(testConfig, `schedule: "0 2 * * *"`, "schedule: \"0 2 * * *\"\n    timezone: Pacific/Auckland", 1))
	c, out, errb := newCLI(map[string]string{"CLI_SECRET": "x"})
	// 2025-04-01 09:00 UTC is 22:00 on 1 April in Auckland: yesterday is 31 March.
	// In UTC it would also be 31 March, so move the clock to 13:00 UTC,
	// which is already 2 April in Auckland.
	c.now = func() time.Time { return time.Date(2025, 4, 1, 13, 0, 0, 0, time.UTC) }
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "date 2025-04-01,") {
		t.Errorf("summary: %s", out)
	}
}

// TestRunFailsOnPersistentServerErrors: a fault that outlasts the retry
// budget fails the run with exit code 1 and a message naming the account,
// stream, page and cause; a transient storm of the same faults does not.
func TestRunFailsOnPersistentServerErrors(t *testing.T) {
	retry := "    retry: {attempts: 3, base_delay: 1ms, max_delay: 5ms, max_retry_after: 5ms}\n"
	for _, tt := range []struct {
		name   string
		faults string
		code   int
	}{
		{"persistent", "500=1", exitFailed},
		{"transient", "500=0.2,429=0.2:1ms,truncate=0.05,malformed=0.05,seed=4", exitOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.Replace(testConfig, "    sandbox: {seed: 3, orders_per_day: 20, since: 2025-01-01}\n",
				retry+"    sandbox: {seed: 3, orders_per_day: 20, since: 2025-01-01, faults: '"+tt.faults+"'}\n", 1)
			if tt.code == exitOK {
				// Enough attempts to ride out a 20% storm.
				cfg = strings.Replace(cfg, "attempts: 3", "attempts: 12", 1)
			}
			path, warehouse := writeConfig(t, cfg)
			c, out, errb := newCLI(map[string]string{"CLI_SECRET": "s3cr3t-value"})
			code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-31"})
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errb)
			}
			if tt.code == exitFailed {
				runs := readRuns(t, warehouse)
				if len(runs) != 1 || runs[0].Status != "failed" || runs[0].Error == nil || !strings.Contains(*runs[0].Error, "500") {
					t.Errorf("etl_runs = %+v, want one failed run", runs)
				}
				msg := regexp.MustCompile(`etl run: job nightly, account demo, date 2025-03-31: (probing the order search's EndDate: )?account demo, stream orders, API days? \d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?, (login for )?searchOrders, page 1: .*3 attempts.*500`)
				if !msg.MatchString(errb.String()) {
					t.Errorf("stderr does not name account, stream, page and cause:\n%s", errb)
				}
			}
			if strings.Contains(errb.String(), "s3cr3t-value") {
				t.Error("the secret key was logged")
			}
		})
	}
}

func readRuns(t *testing.T, warehouse string) []schemas.Run {
	t.Helper()
	d, err := local.OpenReader(warehouse)
	if err != nil {
		t.Fatal(err)
	}
	dates, err := d.Partitions(t.Context(), schemas.Runs())
	if err != nil {
		t.Fatal(err)
	}
	var runs []schemas.Run
	for _, date := range dates {
		err := d.ReadPartition(t.Context(), schemas.Runs(), date, func(row any) error {
			runs = append(runs, *row.(*schemas.Run))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return runs
}

// TestSecondRunExitsWithTheLockMessage: while a run of a job and account
// holds its lock, another exits 3 naming the holder.
func TestSecondRunExitsWithTheLockMessage(t *testing.T) {
	path, warehouse := writeConfig(t, backfillConfig)
	l, err := runlock.Acquire(filepath.Join(warehouse, ".locks"), "nightly", "demo", runlock.Holder{PID: os.Getpid(), Command: "etl run nightly"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, errb := newCLI(backfillEnv)
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-01"}); code != exitLocked {
		t.Errorf("exit %d, want %d", code, exitLocked)
	}
	if !strings.Contains(errb.String(), "job nightly, account demo is already running: held by pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("stderr: %s", errb)
	}
	l.Release()
	c, _, errb = newCLI(backfillEnv)
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-01"}); code != exitOK {
		t.Errorf("after release: exit %d: %s", code, errb)
	}
}

// TestRunPushesMetricsFromConfig: with metrics.pushgateway in jobs.yaml, a
// run pushes its metrics there when it ends, grouped by job and account.
func TestRunPushesMetricsFromConfig(t *testing.T) {
	var mu sync.Mutex
	var paths, bodies []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	path, _ := writeConfig(t, "metrics: {pushgateway: '"+gw.URL+"'}\n"+testConfig)
	c, _, errb := newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-31"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 1 || paths[0] != "POST /metrics/job/nightly/account/demo" {
		t.Fatalf("pushes: %v", paths)
	}
	if !strings.Contains(bodies[0], "ledgerline_runs_total") {
		t.Errorf("pushed body lacks ledgerline_runs_total (%d bytes)", len(bodies[0]))
	}
}

// TestLogLevelFlag: every command takes --log-level, refuses an unknown
// level as a usage error, and the logger it builds logs from that level up.
func TestLogLevelFlag(t *testing.T) {
	for _, cmd := range [][]string{{"validate"}, {"run", "nightly"}, {"backfill", "nightly"},
		{"report", "accounting"}, {"schedule"}, {"sandbox", "serve"}} {
		t.Run(cmd[0]+" refuses a bad level", func(t *testing.T) {
			c, _, errb := newCLI(nil)
			if code := c.main(t.Context(), append(cmd, "--log-level", "loud")); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errb.String(), "log-level") {
				t.Errorf("stderr %q does not name --log-level", errb)
			}
		})
	}
	for _, tt := range []struct {
		level           string
		debug, info, ok bool
	}{
		{"debug", true, true, true},
		{"info", false, true, true},
		{"warn", false, false, true},
		{"WARN", false, false, true},
	} {
		t.Run("validate --log-level "+tt.level, func(t *testing.T) {
			c, out, errb := newCLI(nil)
			if code := c.main(t.Context(), []string{"validate", "-c", "../../jobs.yaml", "--log-level", tt.level}); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb)
			}
			if want := "../../jobs.yaml: OK (1 account, 2 jobs)\n"; out.String() != want {
				t.Errorf("stdout %q, want %q", out, want)
			}
			log := c.logger()
			if got := log.Enabled(t.Context(), slog.LevelDebug); got != tt.debug {
				t.Errorf("debug enabled %v, want %v", got, tt.debug)
			}
			if got := log.Enabled(t.Context(), slog.LevelInfo); got != tt.info {
				t.Errorf("info enabled %v, want %v", got, tt.info)
			}
		})
	}
}

// TestRunWithoutChargebackFields: against a sandbox whose orders carry no
// dispute fields, a job with chargebacks exits 1 naming the field and the
// fix; with chargebacks: unavailable it exits 0, and its summary says the
// stream was skipped and which fields the orders lacked.
func TestRunWithoutChargebackFields(t *testing.T) {
	base := strings.Replace(testConfig, "since: 2025-01-01}", "since: 2025-01-01, dialect: no-chargeback-fields}", 1)
	base = strings.Replace(base, "streams: [orders, subscriptions]", "streams: [orders, chargebacks]", 1)
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	for _, tt := range []struct {
		name   string
		config string
		code   int
		stdout []string
		stderr string
	}{
		{"available", base, exitFailed, nil,
			"orders carry no ChargebackResolution: none of the"},
		{"unavailable", strings.Replace(base, "    currency: USD\n", "    currency: USD\n    chargebacks: unavailable\n", 1), exitOK,
			[]string{"stream chargebacks skipped: the account is set to chargebacks: unavailable; chargeback fees are not computed\n",
				"field coverage under 100%: orders: ChargebackResolution 0.0% (0 of "}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := writeConfig(t, tt.config)
			c, out, errb := newCLI(env)
			if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-31"}); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errb)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if tt.stderr != "" && (!strings.Contains(errb.String(), tt.stderr) ||
				!strings.Contains(errb.String(), "or set `chargebacks: unavailable` on the account")) {
				t.Errorf("stderr lacks the field and the fix:\n%s", errb)
			}
		})
	}
}
