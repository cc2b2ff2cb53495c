package main

import (
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const reportConfig = `accounts:
  - name: demo
    merchant_code: LLCLI
    secret_key: ${CLI_SECRET}
    api: sandbox
    currency: USD
    chargeback_fees: {model: threshold, tiers: [{below: "0.65%", fee: "30"}, {fee: "50"}]}
    sandbox: {seed: 3, orders_per_day: 20, since: 2025-01-01}
  - name: other
    merchant_code: LLOTHER
    secret_key: ${CLI_SECRET}
    api: sandbox
    currency: EUR
    chargeback_fees: {model: fixed, fee: "25"}
jobs:
  - name: nightly
    schedule: "0 2 * * *"
    accounts: [demo]
    lookback_days: 40
    destination: {type: local, path: WAREHOUSE}
  - name: monthly-accounting
    schedule: "0 6 1 * *"
    accounts: [demo]
    destination: {type: local, path: WAREHOUSE}
    reports:
      - {type: accounting, to: [finance@example.com, audit@example.com], outbox: OUTBOX}
`

// TestReportAccounting runs the nightly job for the last day of March, then
// 'etl report accounting' for March: the files are built, reconciled and,
// without SMTP settings, written to the job's outbox as an .eml file.
func TestReportAccounting(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeConfig(t, strings.ReplaceAll(reportConfig, "OUTBOX", filepath.Join(dir, "outbox")))
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	c, _, errb := newCLI(env)
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-31"}); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errb)
	}

	c, out, errb := newCLI(env)
	reportsDir := filepath.Join(dir, "reports")
	code := c.report(t.Context(), []string{"accounting", "--month", "2025-03", "-c", path, "--out", reportsDir})
	if code != exitOK {
		t.Fatalf("report: exit %d\nstdout: %s\nstderr: %s", code, out, errb)
	}
	for _, want := range []string{"account demo, 2025-03:", "Total chargeback fee", "reconciled with the warehouse", "written to " + filepath.Join(dir, "outbox")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String()+errb.String(), "s3cr3t-value") {
		t.Error("the secret key was printed")
	}
	for _, name := range []string{"accounting demo 2025-03.xlsx", "orders with chargeback fees balance.csv"} {
		if _, err := os.Stat(filepath.Join(reportsDir, "demo", "2025-03", name)); err != nil {
			t.Error(err)
		}
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("outbox holds %v, want one .eml", emls)
	}
	f, err := os.Open(emls[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	if to := msg.Header.Get("To"); !strings.Contains(to, "finance@example.com") || !strings.Contains(to, "audit@example.com") {
		t.Errorf("To: %s", to)
	}
	if s := msg.Header.Get("Subject"); !regexp.MustCompile(`^Accounting report demo \(LLCLI\), March 2025: Total chargeback fee [\d,]+\.\d\d USD$`).MatchString(s) {
		t.Errorf("Subject: %s", s)
	}

	// April has not been read whole: built, not sent, unless asked.
	c, out, errb = newCLI(env)
	if code := c.report(t.Context(), []string{"accounting", "--month", "2025-04", "-c", path, "--out", reportsDir}); code != exitFailed {
		t.Errorf("report of an incomplete month: exit %d\nstdout: %s\nstderr: %s", code, out, errb)
	}
	if !strings.Contains(out.String(), "PROVISIONAL") || !strings.Contains(errb.String(), "nothing sent") {
		t.Errorf("stdout: %s\nstderr: %s", out, errb)
	}
	c, out, errb = newCLI(env)
	if code := c.report(t.Context(), []string{"accounting", "--month", "2025-04", "-c", path, "--out", reportsDir, "--allow-incomplete"}); code != exitOK {
		t.Errorf("provisional report: exit %d\nstdout: %s\nstderr: %s", code, out, errb)
	}
	if emls, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml")); len(emls) != 2 {
		t.Errorf("outbox holds %v, want two messages", emls)
	}
}

func TestReportAccountingUsage(t *testing.T) {
	path, warehouse := writeConfig(t, strings.ReplaceAll(reportConfig, "OUTBOX", t.TempDir()))
	twoJobs, _ := writeConfig(t, strings.ReplaceAll(reportConfig, "OUTBOX", t.TempDir())+`  - name: monthly-again
    schedule: "0 7 1 * *"
    accounts: [demo]
    destination: {type: local, path: /nonexistent/warehouse}
    reports: [{type: accounting, to: [x@example.com]}]
`)
	env := map[string]string{"CLI_SECRET": "x"}
	if err := os.MkdirAll(warehouse, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // regexp
	}{
		{"no subcommand", nil, exitUsage, `want 'etl report accounting'`},
		{"other report", []string{"weekly"}, exitUsage, `want 'etl report accounting'`},
		{"no month", []string{"accounting", "-c", path}, exitUsage, `--month YYYY-MM is required`},
		{"bad month", []string{"accounting", "--month", "2025-3", "-c", path}, exitUsage, `--month: month "2025-3": want YYYY-MM`},
		{"help", []string{"accounting", "--help"}, exitOK, `--no-send`},
		{"unknown job", []string{"accounting", "--month", "2025-03", "--job", "weekly", "-c", path}, exitUsage, `no job "weekly"`},
		{"job without report", []string{"accounting", "--month", "2025-03", "--job", "nightly", "-c", path}, exitUsage, `job nightly has no accounting report.*--no-send`},
		{"account not in job", []string{"accounting", "--month", "2025-03", "--account", "other", "--job", "monthly-accounting", "-c", path}, exitUsage, `account "other" is not an account of job monthly-accounting`},
		{"no job for account", []string{"accounting", "--month", "2025-03", "--account", "other", "-c", path}, exitUsage, `no job in .* has an accounting report for account other`},
		{"two jobs", []string{"accounting", "--month", "2025-03", "-c", twoJobs}, exitUsage, `jobs monthly-accounting, monthly-again all have an accounting report; choose one with --job`},
		{"no warehouse", []string{"accounting", "--month", "2025-03", "--job", "monthly-again", "-c", twoJobs}, exitFailed, `account demo, 2025-03: warehouse: .*nonexistent`},
		{"month not covered", []string{"accounting", "--month", "2025-03", "--job", "monthly-accounting", "-c", path}, exitFailed, `no successful run has read the whole of 2025-03 since it ended.*nothing sent \(run the warehouse's job for 2025-03-31, whose window holds the whole month \(etl run JOB --date 2025-03-31\), or send a provisional report with --allow-incomplete\)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, out, errb := newCLI(env)
			args := tt.args
			if len(args) > 0 && args[0] == "accounting" {
				args = append(args, "--out", t.TempDir())
			}
			if code := c.report(t.Context(), args); code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errb)
			}
			if !regexp.MustCompile(tt.stderr).MatchString(errb.String()) {
				t.Errorf("stderr %q does not match %q", errb, tt.stderr)
			}
		})
	}
}

// TestReportOnFirstMonthTierIsProvisional: a month whose disputes take
// first_month_tier, because the month before had no transactions, is
// PROVISIONAL although a run read it whole, and is not sent unless asked
// (issue 14 scope 1).
func TestReportOnFirstMonthTierIsProvisional(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.ReplaceAll(reportConfig, "OUTBOX", filepath.Join(dir, "outbox"))
	cfg = strings.Replace(cfg, "since: 2025-01-01", "since: 2025-01-05", 1)
	path, _ := writeConfig(t, cfg)
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	c, _, errb := newCLI(env)
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-02-05"}); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errb)
	}
	reportsDir := filepath.Join(dir, "reports")
	c, out, errb := newCLI(env)
	if code := c.report(t.Context(), []string{"accounting", "--month", "2025-01", "-c", path, "--out", reportsDir}); code != exitFailed {
		t.Fatalf("report: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitFailed, out, errb)
	}
	fallback := regexp.MustCompile(`the fees of \d+ disputes rest on first_month_tier: 2024-12 had no transactions`)
	if !fallback.MatchString(out.String()) || !strings.Contains(errb.String(), "nothing sent") {
		t.Errorf("stdout: %s\nstderr: %s", out, errb)
	}
	if emls, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml")); len(emls) != 0 {
		t.Errorf("outbox holds %v, want nothing", emls)
	}
	c, out, errb = newCLI(env)
	if code := c.report(t.Context(), []string{"accounting", "--month", "2025-01", "-c", path, "--out", reportsDir, "--allow-incomplete"}); code != exitOK {
		t.Fatalf("report --allow-incomplete: exit %d\nstdout: %s\nstderr: %s", code, out, errb)
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("outbox holds %v, want one message", emls)
	}
	m := readEML(t, emls[0])
	if !strings.HasPrefix(m.subject, "PROVISIONAL Accounting report demo") {
		t.Errorf("Subject: %s", m.subject)
	}
	if !fallback.MatchString(m.text) {
		t.Errorf("the body does not name the fallback:\n%s", m.text)
	}
}
