package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportsDir: 'etl run' and 'etl report accounting' write the workbook
// under --reports-dir, else reports_dir of jobs.yaml, else ./out/reports;
// the flag wins over the key. (Where files go matters under Kubernetes:
// only mounted volumes are writable there.)
func TestReportsDir(t *testing.T) {
	const body = `accounts:
  - name: demo
    merchant_code: LLCLI
    secret_key: x
    api: sandbox
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
    sandbox: {seed: 3, orders_per_day: 5, since: 2025-01-01}
jobs:
  - name: monthly-accounting
    schedule: "0 6 1 * *"
    accounts: [demo]
    streams: [orders, chargebacks]
    lookback_days: 5
    destination: {type: local, path: WAREHOUSE}
    reports: [{type: accounting, to: [finance@example.com], outbox: OUTBOX}]
`
	tests := []struct {
		name string
		// reportsDir is reports_dir in jobs.yaml ("" for none); args are
		// the command's, after -c FILE. FLAG and KEY stand for two
		// directories, the one the flag names and the key's.
		reportsDir bool
		report     bool // run, then 'etl report accounting' into a fresh directory
		args       []string
		want       string // FLAG, KEY or DEFAULT (./out/reports in the working directory)
	}{
		{name: "run: flag", args: []string{"--reports-dir", "FLAG"}, want: "FLAG"},
		{name: "run: reports_dir", reportsDir: true, want: "KEY"},
		{name: "run: flag over reports_dir", reportsDir: true, args: []string{"--reports-dir", "FLAG"}, want: "FLAG"},
		{name: "run: default", want: "DEFAULT"},
		{name: "report: flag", report: true, args: []string{"--reports-dir", "FLAG"}, want: "FLAG"},
		{name: "report: --out", report: true, args: []string{"--out", "FLAG"}, want: "FLAG"},
		{name: "report: reports_dir", report: true, reportsDir: true, want: "KEY"},
		{name: "report: flag over reports_dir", report: true, reportsDir: true, args: []string{"--reports-dir", "FLAG"}, want: "FLAG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir) // the default is relative to the working directory
			dirs := map[string]string{"FLAG": filepath.Join(dir, "flag"), "KEY": filepath.Join(dir, "key"), "DEFAULT": filepath.Join(dir, "out", "reports")}
			cfg := strings.ReplaceAll(body, "OUTBOX", filepath.Join(dir, "outbox"))
			if tt.reportsDir {
				cfg = "reports_dir: " + dirs["KEY"] + "\n" + cfg
			}
			path, _ := writeConfig(t, cfg)
			var args []string
			for _, a := range tt.args {
				if d, ok := dirs[a]; ok {
					a = d
				}
				args = append(args, a)
			}
			run := append([]string{"run", "monthly-accounting", "--date", "2025-03-31", "-c", path}, args...)
			if tt.report {
				// The run's own report goes to a directory of its own.
				run = []string{"run", "monthly-accounting", "--date", "2025-03-31", "-c", path, "--reports-dir", filepath.Join(dir, "run")}
			}
			c, out, errb := newCLI(nil)
			if code := c.main(t.Context(), run); code != exitOK {
				t.Fatalf("run: exit %d\nstdout: %s\nstderr: %s", code, out, errb)
			}
			if tt.report {
				c, out, errb = newCLI(nil)
				report := append([]string{"report", "accounting", "--month", "2025-03", "--no-send", "-c", path}, args...)
				if code := c.main(t.Context(), report); code != exitOK {
					t.Fatalf("report: exit %d\nstdout: %s\nstderr: %s", code, out, errb)
				}
			}
			want := filepath.Join(dirs[tt.want], "demo", "2025-03", "accounting demo 2025-03.xlsx")
			if _, err := os.Stat(want); err != nil {
				t.Errorf("no workbook where expected: %v\nstdout: %s", err, out)
			}
			shown := want // the default is shown as it is, relative
			if tt.want == "DEFAULT" {
				shown = filepath.Join("out", "reports", "demo", "2025-03", "accounting demo 2025-03.xlsx")
			}
			if !strings.Contains(out.String(), "  "+shown+"\n") {
				t.Errorf("stdout does not name %s:\n%s", shown, out)
			}
			for name, d := range dirs {
				if name == tt.want {
					continue
				}
				if _, err := os.Stat(d); err == nil {
					t.Errorf("%s (%s) was written to, want only %s", d, name, dirs[tt.want])
				}
			}
		})
	}
}
