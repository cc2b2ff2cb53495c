package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/backfill"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runlock"
	"github.com/ledgerline/ledgerline/schemas"
)

// backfillConfig is a tiny sandbox merchant, so that a backfill of a few
// dates takes a second or two.
const backfillConfig = `accounts:
  - name: demo
    merchant_code: LLBACK
    secret_key: ${CLI_SECRET}
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
    destination: {type: local, path: WAREHOUSE}
`

var backfillEnv = map[string]string{"CLI_SECRET": "s3cr3t-value"}

// cancelOnPage cancels a run's context on its first page: a run
// interrupted mid-way, as by SIGTERM.
type cancelOnPage struct {
	once   sync.Once
	cancel context.CancelFunc
}

func (c *cancelOnPage) Page(string, string, int) { c.once.Do(c.cancel) }

// TestBackfillInterruptedAndResumed runs a backfill of five dates that is
// interrupted during its third date, then runs it again: the second
// backfill runs only the dates not finished, each date has one successful
// run in etl_runs, and the warehouse has each order once, as a backfill
// that was never interrupted leaves it.
func TestBackfillInterruptedAndResumed(t *testing.T) {
	path, warehouse := writeConfig(t, backfillConfig)
	args := []string{"nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-05"}

	c, out, errb := newCLI(backfillEnv)
	b, code := c.parseBackfill(t.Context(), args)
	if b == nil {
		t.Fatalf("exit %d: %s", code, errb)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var first []civil.Date
	b.plan.Run = func(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error) {
		first = append(first, date)
		r := b.run
		if len(first) == 3 {
			r.Observer = &cancelOnPage{cancel: cancel}
		}
		return r.Run(ctx, b.plan.Job, acct, date)
	}
	if code := c.runBackfill(ctx, b); code != exitFailed {
		t.Fatalf("interrupted backfill: exit %d, want %d\n%s\n%s", code, exitFailed, out, errb)
	}
	if len(first) != 3 {
		t.Fatalf("interrupted backfill ran %v, want three dates", first)
	}
	for _, want := range []string{
		`(?m)^2025-03-02\s+demo\s+succeeded\s+\d+`,
		`(?m)^2025-03-03\s+demo\s+failed\s`,
		`(?m)^2025-03-04\s+demo\s+not run\s`,
		`2 succeeded \(\d+ rows\), 0 skipped \(already succeeded\), 1 failed, 2 not run`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("summary lacks %s:\n%s", want, out)
		}
	}
	if !strings.Contains(errb.String(), "interrupted; run the same command again") {
		t.Errorf("stderr: %s", errb)
	}

	c, out, errb = newCLI(backfillEnv)
	b, _ = c.parseBackfill(t.Context(), args)
	var second []string
	run := b.plan.Run
	b.plan.Run = func(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error) {
		second = append(second, date.String())
		return run(ctx, acct, date)
	}
	if code := c.runBackfill(t.Context(), b); code != exitOK {
		t.Fatalf("resumed backfill: exit %d\n%s\n%s", code, out, errb)
	}
	if got := strings.Join(second, " "); got != "2025-03-03 2025-03-04 2025-03-05" {
		t.Errorf("resumed backfill ran %s, want the three unfinished dates", got)
	}
	if !strings.Contains(out.String(), "3 succeeded") || !strings.Contains(out.String(), "2 skipped (already succeeded), 0 failed, 0 not run") {
		t.Errorf("summary:\n%s", out)
	}
	if strings.Contains(out.String()+errb.String(), "s3cr3t-value") {
		t.Error("the secret key was printed")
	}

	succeeded := map[string]int{}
	failed := map[string]int{}
	for _, r := range readRuns(t, warehouse) {
		switch r.Status {
		case pipeline.StatusSucceeded:
			succeeded[r.BusinessDate.String()]++
		case pipeline.StatusFailed:
			failed[r.BusinessDate.String()]++
			if r.Error == nil || !strings.Contains(*r.Error, "context canceled") {
				t.Errorf("failed run's error = %v", r.Error)
			}
		}
	}
	for d := 1; d <= 5; d++ {
		date := civil.Date{Year: 2025, Month: 3, Day: d}.String()
		if succeeded[date] != 1 {
			t.Errorf("%s: %d successful runs in etl_runs, want 1", date, succeeded[date])
		}
	}
	if len(failed) != 1 || failed["2025-03-03"] != 1 {
		t.Errorf("failed runs = %v, want the interrupted 2025-03-03", failed)
	}

	// The warehouse is as an uninterrupted backfill leaves it, each order once.
	_, clean := writeConfig(t, backfillConfig)
	cleanPath := filepath.Join(filepath.Dir(clean), "jobs.yaml")
	c, out, errb = newCLI(backfillEnv)
	if code := c.backfill(t.Context(), []string{"nightly", "-c", cleanPath, "--from", "2025-03-01", "--to", "2025-03-05"}); code != exitOK {
		t.Fatalf("clean backfill: exit %d\n%s\n%s", code, out, errb)
	}
	got, want := orderKeys(t, warehouse), orderKeys(t, clean)
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("resumed warehouse has %d orders, clean one %d", len(got), len(want))
	}
	for k, n := range got {
		if n != 1 || want[k] != 1 {
			t.Errorf("order %s: %d times, %d in the clean warehouse", k, n, want[k])
		}
	}
}

// orderKeys counts the orders of the warehouse by partition and key.
func orderKeys(t *testing.T, warehouse string) map[string]int {
	t.Helper()
	d, err := local.OpenReader(warehouse)
	if err != nil {
		t.Fatal(err)
	}
	tab := schemas.Orders()
	dates, err := d.Partitions(t.Context(), tab)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, date := range dates {
		err := d.ReadPartition(t.Context(), tab, date, func(row any) error {
			o := row.(*schemas.Order)
			out[o.MerchantCode+"/"+o.RefNo]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// twoAccounts is backfillConfig with a second merchant.
var twoAccounts = strings.Replace(backfillConfig, "jobs:", `  - name: second
    merchant_code: LLTWO
    secret_key: ${CLI_SECRET}
    api: sandbox
    currency: EUR
    chargeback_fees: {model: fixed, fee: "25"}
    sandbox: {seed: 6, orders_per_day: 8, since: 2025-01-01}
jobs:`, 1)

// TestBackfillForceAndParallel: --parallel runs accounts at once, and the
// dates of each in order; every run is recorded in etl_runs once (runs of
// one account at once would race on its etl_runs partition); a second
// backfill skips everything; --force runs everything again.
func TestBackfillForceAndParallel(t *testing.T) {
	tests := []struct {
		name, config string
		accounts     string
		runs         int // per pass
	}{
		{"one account", backfillConfig, "[demo]", 6},
		{"two accounts", twoAccounts, "[demo, second]", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, warehouse := writeConfig(t, strings.Replace(tt.config, "accounts: [demo]", "accounts: "+tt.accounts, 1))
			args := []string{"nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-06", "--parallel", "4"}
			for i, pass := range []struct {
				extra []string
				want  string
			}{
				{nil, fmt.Sprintf("%d succeeded", tt.runs)},
				{nil, fmt.Sprintf("0 succeeded (0 rows), %d skipped (already succeeded), 0 failed, 0 not run", tt.runs)},
				{[]string{"--force"}, fmt.Sprintf("%d succeeded", tt.runs)},
			} {
				c, out, errb := newCLI(backfillEnv)
				if code := c.backfill(t.Context(), append(args, pass.extra...)); code != exitOK {
					t.Fatalf("pass %d: exit %d\n%s\n%s", i, code, out, errb)
				}
				if !strings.Contains(out.String(), pass.want) {
					t.Errorf("pass %d %v: summary lacks %q:\n%s", i, pass.extra, pass.want, out)
				}
				// Not a terminal: a plain line per date run.
				if n := strings.Count(out.String(), ": succeeded, "); i != 1 && n != tt.runs {
					t.Errorf("pass %d: %d lines of dates run, want %d:\n%s", i, n, tt.runs, out)
				}
				if got := len(readRuns(t, warehouse)); got != tt.runs*[]int{1, 1, 2}[i] {
					t.Errorf("pass %d: etl_runs has %d rows, want %d", i, got, tt.runs*[]int{1, 1, 2}[i])
				}
			}
			for k, n := range orderKeys(t, warehouse) {
				if n != 1 {
					t.Errorf("order %s %d times", k, n)
				}
			}
		})
	}
}

func TestBackfillLockHeld(t *testing.T) {
	path, warehouse := writeConfig(t, backfillConfig)
	l, err := runlock.Acquire(filepath.Join(warehouse, ".locks"), "nightly", "demo", runlock.Holder{Command: "etl run nightly"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	c, out, errb := newCLI(backfillEnv)
	code := c.backfill(t.Context(), []string{"nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-02"})
	if code != exitLocked {
		t.Errorf("exit %d, want %d", code, exitLocked)
	}
	want := "job nightly, account demo is already running: held by pid " + strconv.Itoa(os.Getpid())
	if !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "(etl run nightly)") {
		t.Errorf("stderr %q lacks %q", errb, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %s", out)
	}
}

func TestBackfillUsage(t *testing.T) {
	path, _ := writeConfig(t, backfillConfig)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"--help"}, exitOK, "--parallel N"},
		{"no job", []string{"-c", path, "--from", "2025-03-01", "--to", "2025-03-02"}, exitUsage, "Usage: etl backfill"},
		{"no dates", []string{"nightly", "-c", path}, exitUsage, "Usage: etl backfill"},
		{"unknown job", []string{"weekly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-02"}, exitUsage, `no job "weekly"`},
		{"bad date", []string{"nightly", "-c", path, "--from", "2025-02-30", "--to", "2025-03-02"}, exitUsage, `--from "2025-02-30"`},
		{"reversed", []string{"nightly", "-c", path, "--from", "2025-03-02", "--to", "2025-03-01"}, exitUsage, "is before --from"},
		{"not over", []string{"nightly", "-c", path, "--from", "2025-03-30", "--to", "2025-04-01"}, exitUsage, "is after yesterday (2025-03-31 in UTC)"},
		{"parallel", []string{"nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-02", "--parallel", "0"}, exitUsage, "want 1 to 64"},
		{"unknown account", []string{"nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-02", "--account", "x"}, exitUsage, `etl backfill: job nightly has no account "x" (want demo)`},
		{"misspelt account", []string{"nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-02", "--account", "demp"}, exitUsage, `job nightly has no account "demp" (did you mean demo?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, errb := newCLI(backfillEnv)
			if code := c.backfill(t.Context(), tt.args); code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, errb)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb, tt.stderr)
			}
		})
	}
}

// TestBackfillProgressCountsFinishedDates: the progress line counts the
// dates this backfill finished, of those it runs; dates that already
// succeeded are named apart, not counted as done before any date ran.
func TestBackfillProgressCountsFinishedDates(t *testing.T) {
	clock := &struct{ t time.Time }{time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	var buf strings.Builder
	d := progress.NewDisplay(&buf, func() time.Time { return clock.t })
	d.Width = 200
	bc := &backfillCmd{plan: &backfill.Backfill{Job: config.Job{Name: "nightly"}}, display: d, skipped: 1}
	demo := config.Account{Name: "demo"}
	tests := []struct {
		wait        time.Duration
		done, total int
		task        *backfill.Task
		want        string
	}{
		{0, 0, 4, nil, "backfill nightly [....................] 0/4 dates (1 skipped)"},
		{30 * time.Second, 1, 4, &backfill.Task{Date: civil.Date{Year: 2026, Month: 12, Day: 2}, Account: demo, Status: backfill.Succeeded},
			"backfill nightly [#####...............] 1/4 dates (1 skipped), last 2026-12-02 demo succeeded ETA 1m30s"},
		{30 * time.Second, 2, 4, &backfill.Task{Date: civil.Date{Year: 2026, Month: 12, Day: 3}, Account: demo, Status: backfill.Failed},
			"backfill nightly [##########..........] 2/4 dates (1 skipped), last 2026-12-03 demo failed ETA 1m00s"},
	}
	for _, tt := range tests {
		clock.t = clock.t.Add(tt.wait)
		bc.progress(tt.done, tt.total, tt.task)
		out := buf.String()
		if got := strings.TrimSuffix(out[strings.LastIndex(out, "\r")+1:], "\x1b[K"); got != tt.want {
			t.Errorf("%d/%d: %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}
