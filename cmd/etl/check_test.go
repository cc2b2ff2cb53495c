package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCheckCommand runs etl check against the built-in sandbox: every
// finding OK on the default shape, a FAIL naming the fix when orders carry
// no chargeback fields, and usage errors for an unknown account.
func TestCheckCommand(t *testing.T) {
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	noCB := strings.Replace(testConfig, "since: 2025-01-01}", "since: 2025-01-01, dialect: no-chargeback-fields}", 1)
	tests := []struct {
		name   string
		config string
		args   []string
		code   int
		stdout []string // regexps, each must match
		stderr string
	}{
		{"default shape", testConfig, nil, exitOK, []string{
			`(?m)^account demo$`, `(?m)^\s+OK\s+credentials\s`, `(?m)^\s+OK\s+EndDate\s+inclusive`,
			`(?m)^\s+OK\s+Pagination\.Count\s+a total`, `(?m)^\s+OK\s+chargeback fields\s`,
		}, ""},
		{"named account", testConfig, []string{"demo"}, exitOK, []string{`(?m)^account demo$`}, ""},
		{"no chargeback fields", noCB, nil, exitFailed, []string{
			`(?m)^\s+FAIL\s+chargeback fields\s`, "chargebacks: unavailable",
		}, ""},
		{"unknown account", testConfig, []string{"nosuch"}, exitUsage, nil, `no account "nosuch"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := writeConfig(t, tt.config)
			c, out, errb := newCLI(env)
			// The check compares the local clock with the server's Date
			// header, which the HTTP server sets from the real clock.
			c.now = time.Now
			args := append([]string{"check", "-c", path}, tt.args...)
			if code := c.main(t.Context(), args); code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errb)
			}
			for _, re := range tt.stdout {
				if !regexp.MustCompile(re).MatchString(out.String()) {
					t.Errorf("stdout lacks %q:\n%s", re, out)
				}
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb, tt.stderr)
			}
			if strings.Contains(out.String()+errb.String(), "s3cr3t-value") {
				t.Error("the secret key was printed")
			}
		})
	}
}
