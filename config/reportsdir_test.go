package config

import (
	"strings"
	"testing"
)

// TestReportsDir: reports_dir is read from the top level, ${VAR} expanded,
// empty when absent (the reports package's default then applies), and not
// a key of a job.
func TestReportsDir(t *testing.T) {
	const base = `accounts:
  - name: demo
    merchant_code: LL
    secret_key: x
    api: sandbox
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
jobs:
  - name: nightly
    schedule: "0 2 * * *"
    accounts: [demo]
    destination: {type: local, path: /data/warehouse}
`
	tests := []struct {
		name, top, want, err string
	}{
		{name: "absent", want: ""},
		{name: "set", top: "reports_dir: /var/lib/ledgerline/reports\n", want: "/var/lib/ledgerline/reports"},
		{name: "from the environment", top: "reports_dir: ${REPORTS:-/srv/reports}\n", want: "/srv/reports"},
		{name: "relative", top: "reports_dir: ./out/r\n", want: "./out/r"},
		{name: "not a string", top: "reports_dir: [a]\n", err: "jobs.yaml:1: reports_dir: want a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("jobs.yaml", []byte(tt.top+base), env(nil))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.ReportsDir != tt.want {
				t.Errorf("ReportsDir = %q, want %q", f.ReportsDir, tt.want)
			}
		})
	}
	// The key is the file's, not a job's: under a job it is unknown.
	_, err := Parse("jobs.yaml", []byte(strings.Replace(base, "    accounts: [demo]\n", "    accounts: [demo]\n    reports_dir: /x\n", 1)), env(nil))
	if err == nil || !strings.Contains(err.Error(), "jobs[0].reports_dir: unknown key") {
		t.Errorf("reports_dir under a job: %v, want an unknown key error", err)
	}
}
