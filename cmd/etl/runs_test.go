package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runstatus"
)

// TestRunsAndStatus: after a run that succeeds (30 March) and one that
// fails (31 March, every request answered 500), etl runs lists both with
// their figures, in the order they ran, as text and as JSON, and filters
// by account and job; etl status gives the last success, a lag of one day
// (yesterday is 31 March), the next scheduled start and the last error.
func TestRunsAndStatus(t *testing.T) {
	path, warehouse := writeConfig(t, testConfig)
	failing := filepath.Join(filepath.Dir(path), "failing.yaml")
	cfg := strings.Replace(testConfig, "since: 2025-01-01}", "since: 2025-01-01, faults: '500=1'}", 1)
	cfg = strings.Replace(cfg, "    sandbox:", "    retry: {attempts: 2, base_delay: 1ms, max_delay: 2ms}\n    sandbox:", 1)
	if err := os.WriteFile(failing, []byte(strings.ReplaceAll(cfg, "WAREHOUSE", warehouse)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, errb := newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-30"}); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errb)
	}
	c.now = func() time.Time { return time.Date(2025, 4, 1, 9, 30, 0, 0, time.UTC) }
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", failing, "--date", "2025-03-31"}); code != exitFailed {
		t.Fatalf("failing run: exit %d, want %d: %s", code, exitFailed, errb)
	}
	recorded := readRuns(t, warehouse)
	if len(recorded) != 2 {
		t.Fatalf("%d runs recorded, want 2", len(recorded))
	}

	c, out, errb := newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"runs", "-c", path, "--json"}); code != exitOK {
		t.Fatalf("etl runs --json: exit %d: %s", code, errb)
	}
	var runs []runstatus.Run
	if err := json.Unmarshal(out.Bytes(), &runs); err != nil {
		t.Fatalf("etl runs --json: %v\n%s", err, out)
	}
	if len(runs) != 2 || runs[0].BusinessDate != "2025-03-30" || runs[0].Status != "succeeded" ||
		runs[1].BusinessDate != "2025-03-31" || runs[1].Status != "failed" || !strings.Contains(runs[1].Error, "500") {
		t.Fatalf("etl runs --json:\n%s", out)
	}
	ok := recorded[0]
	if ok.Status != "succeeded" {
		ok = recorded[1]
	}
	if r := runs[0]; r.RunID != ok.RunID || r.Rows["orders"] != ok.Orders || r.Rows["subscription_history"] != ok.Subs ||
		r.WindowFrom != "2025-03-01" || r.WindowTo != "2025-03-30" || r.Partitions != ok.Files || r.Account != "demo" || r.Job != "nightly" {
		t.Errorf("etl runs --json: %+v, want the record %+v", r, ok)
	}

	c, out, _ = newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"runs", "-c", path}); code != exitOK {
		t.Fatal("etl runs: exit", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "2025-03-30  succeeded  2025-03-01..2025-03-30") ||
		!strings.Contains(lines[2], "2025-03-31  failed") || !strings.Contains(lines[2], "500") {
		t.Errorf("etl runs:\n%s", out)
	}
	if ok.Subs >= 1000 && !strings.Contains(lines[1], progress.Count(ok.Subs)) {
		t.Errorf("etl runs: no thousands separators in %q", lines[1])
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--account", "other"}, exitOK, "no runs recorded\n"},
		{[]string{"--job", "nightly", "--account", "demo", "--since", "2000-01-01"}, exitOK, "succeeded"},
		{[]string{"--job", "nope"}, exitUsage, ""},
		{[]string{"--since", "yesterday"}, exitUsage, ""},
	} {
		c, out, _ := newCLI(map[string]string{"CLI_SECRET": "x"})
		if code := c.main(t.Context(), append([]string{"runs", "-c", path}, tt.args...)); code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("etl runs %v: exit %d, output %q; want %d, %q", tt.args, code, out, tt.code, tt.want)
		}
	}

	c, out, errb = newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"status", "-c", path, "--json"}); code != exitOK {
		t.Fatalf("etl status --json: exit %d: %s", code, errb)
	}
	var sts []runstatus.Status
	if err := json.Unmarshal(out.Bytes(), &sts); err != nil {
		t.Fatalf("etl status --json: %v\n%s", err, out)
	}
	next := time.Date(2025, 4, 2, 2, 0, 0, 0, time.UTC)
	if len(sts) != 1 || sts[0].LastSuccess == nil || sts[0].LastSuccess.BusinessDate != "2025-03-30" || sts[0].LagDays != 1 ||
		sts[0].Next == nil || !sts[0].Next.Equal(next) || sts[0].LastError == nil || sts[0].LastError.BusinessDate != "2025-03-31" {
		t.Errorf("etl status --json:\n%s", out)
	}
	c, out, _ = newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"status", "-c", path}); code != exitOK {
		t.Fatal("etl status: exit", code)
	}
	for _, want := range []string{"nightly", "demo", "2025-03-30 (finished", "1 day ", "2025-04-02 02:00 UTC", "2025-03-31 failed: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("etl status does not say %q:\n%s", want, out)
		}
	}
}

// TestRunAndBackfillJSON: with --json, etl run and etl backfill print one
// JSON document on stdout and nothing else: the figures of each run, equal
// to its etl_runs record, and for a backfill each date's status (the
// second backfill skips the dates the first ran).
func TestRunAndBackfillJSON(t *testing.T) {
	path, warehouse := writeConfig(t, testConfig)
	c, out, errb := newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-30", "--json"}); code != exitOK {
		t.Fatalf("etl run --json: exit %d: %s", code, errb)
	}
	var doc runDocJSON
	dec := json.NewDecoder(out)
	if err := dec.Decode(&doc); err != nil || dec.More() {
		t.Fatalf("etl run --json is not one JSON document (%v):\n%s", err, out)
	}
	recs := readRuns(t, warehouse)
	if len(doc.Runs) != 1 || len(recs) != 1 {
		t.Fatalf("%d runs in the document, %d recorded", len(doc.Runs), len(recs))
	}
	r, rec := doc.Runs[0], recs[0]
	rows := map[string]int64{}
	for _, tb := range r.Tables {
		rows[tb.Table] = tb.RowsWritten
	}
	if doc.Job != "nightly" || doc.Date != "2025-03-30" || r.RunID != rec.RunID || r.Status != "succeeded" || r.Account != "demo" ||
		r.WindowFrom != "2025-03-01" || rows["orders"] != rec.Orders || rows["subscription_history"] != rec.Subs || rows["orders"] == 0 ||
		len(r.FieldCoverage) == 0 {
		t.Errorf("etl run --json: %+v\nrecord %+v", doc, rec)
	}

	c, out, errb = newCLI(map[string]string{"CLI_SECRET": "x"})
	if code := c.main(t.Context(), []string{"backfill", "nightly", "-c", path, "--from", "2025-03-29", "--to", "2025-03-30", "--json"}); code != exitOK {
		t.Fatalf("etl backfill --json: exit %d: %s", code, errb)
	}
	var bf backfillDocJSON
	dec = json.NewDecoder(out)
	if err := dec.Decode(&bf); err != nil || dec.More() {
		t.Fatalf("etl backfill --json is not one JSON document (%v):\n%s", err, out)
	}
	if bf.Job != "nightly" || bf.From != "2025-03-29" || bf.To != "2025-03-30" || bf.Succeeded != 1 || bf.Skipped != 1 || len(bf.Tasks) != 2 ||
		bf.Tasks[0].Date != "2025-03-29" || bf.Tasks[0].Status != "succeeded" || bf.Tasks[1].Status != "skipped" || bf.Rows == 0 {
		t.Errorf("etl backfill --json: %+v", bf)
	}
	if !strings.Contains(errb.String(), "2025-03-29 demo: succeeded") {
		t.Errorf("the lines per date are not on stderr: %s", errb)
	}
}
