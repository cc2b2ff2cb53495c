package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/schemas"
)

// allStreams is testConfig with the chargebacks stream too.
var allStreams = strings.Replace(testConfig, "streams: [orders, subscriptions]", "streams: [orders, subscriptions, chargebacks]", 1)

// runCLI runs etl with args and returns its stdout, failing the test on
// an exit code other than want.
func runCLI(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	c, out, errb := newCLI(map[string]string{"CLI_SECRET": "s3cr3t-value"})
	if code := c.main(t.Context(), args); code != want {
		t.Fatalf("etl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errb)
	}
	return out.String(), errb.String()
}

// varying masks what differs between runs of the same summary: the run id
// and the duration.
var varying = regexp.MustCompile(`^run \S+:|duration \S+;`)

func summaryLines(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range lines {
		lines[i] = varying.ReplaceAllStringFunc(l, func(s string) string {
			if strings.HasPrefix(s, "run ") {
				return "run ID:"
			}
			return "duration D;"
		})
	}
	return lines
}

const outside23 = "orders outside the window: 23 (read, not stored: the day searches, 2025-02-28..2025-04-02, one API day each, " +
	"returned them dated before 2025-03-01 or after 2025-03-31; a run whose window holds their date stores them)"

// TestRunSummaryLines runs the nightly job of 31 March three times on one
// warehouse and compares the whole summary, line by line: the first run;
// a rerun, which reads and writes the same orders and leaves every
// chargebacks partition unchanged (their rows are the same) and reads only
// the subscriptions modified since; a run narrowed to subscriptions, which
// reads the changes too; and one with --full-refresh, which reads them all.
func TestRunSummaryLines(t *testing.T) {
	path, _ := writeConfig(t, allStreams)
	const header = "                 table  rows read  rows written  partitions written  unchanged  emptied"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"first run", nil, []string{
			"run ID: job nightly, account demo, date 2025-03-31, orders window 2025-03-01..2025-03-31",
			header,
			"      chargeback_rates          1             1                   1          0        0",
			"           chargebacks         13            13                  11          0        0",
			"           order_items        934           898                  31          0        0",
			"                orders        659           636                  31          0        0",
			"  subscription_history      1,566         1,566                   1          0        0",
			"    subscription_reads          0             1                   1          0        0",
			"                 total      3,173         3,115                  76          0        0",
			outside23,
			"duration D; amounts rounded to 6 decimals: 0",
		}},
		{"rerun", nil, []string{
			"run ID: job nightly, account demo, date 2025-03-31, orders window 2025-03-01..2025-03-31",
			header,
			"      chargeback_rates          1             1                   1          0        0",
			"           chargebacks         13             0                   0         11        0",
			"           order_items        934           898                  31          0        0",
			"                orders        659           636                  31          0        0",
			"  subscription_history         30         1,566                   1          0        0",
			"    subscription_reads          0             1                   1          0        0",
			"                 total      1,637         3,102                  65         11        0",
			outside23,
			"duration D; amounts rounded to 6 decimals: 0",
		}},
		{"subscriptions only", []string{"--stream", "subscriptions"}, []string{
			"run ID: job nightly, account demo, date 2025-03-31, streams subscriptions",
			"                 table  rows read  rows written  partitions written  unchanged  emptied",
			"  subscription_history         30         1,566                   1          0        0",
			"    subscription_reads          0             1                   1          0        0",
			"                 total         30         1,567                   2          0        0",
			"duration D; amounts rounded to 6 decimals: 0",
		}},
		{"subscriptions, full refresh", []string{"--stream", "subscriptions", "--full-refresh"}, []string{
			"run ID: job nightly, account demo, date 2025-03-31, streams subscriptions",
			"                 table  rows read  rows written  partitions written  unchanged  emptied",
			"  subscription_history      1,566         1,566                   1          0        0",
			"    subscription_reads          0             1                   1          0        0",
			"                 total      1,566         1,567                   2          0        0",
			"duration D; amounts rounded to 6 decimals: 0",
		}},
	}
	for _, tt := range tests {
		// Sequential on one warehouse: each case depends on the one before.
		out, _ := runCLI(t, exitOK, append([]string{"run", "nightly", "-c", path, "--date", "2025-03-31"}, tt.args...)...)
		if got := summaryLines(out); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: summary\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

// TestNarrowedRunLeavesOtherTables: after a full run, a run of
// subscriptions only merges the subscription history (and records its read
// in subscription_reads) and leaves every
// file of the other tables as it was, byte for byte; it is recorded in
// etl_runs as a succeeded run with no orders window.
func TestNarrowedRunLeavesOtherTables(t *testing.T) {
	path, warehouse := writeConfig(t, allStreams)
	runCLI(t, exitOK, "run", "nightly", "-c", path, "--date", "2025-03-31")
	others := []string{"orders", "order_items", "chargebacks", "chargeback_rates"}
	before := map[string]string{}
	for _, table := range others {
		before[table] = treeHash(t, filepath.Join(warehouse, table))
	}
	subs := treeHash(t, filepath.Join(warehouse, "subscription_reads"))
	ordersBefore := len(readOrderRefs(t, warehouse))
	runCLI(t, exitOK, "run", "nightly", "-c", path, "--date", "2025-03-31", "--stream", "subscriptions", "--account", "demo")
	for _, table := range others {
		if got := treeHash(t, filepath.Join(warehouse, table)); got != before[table] {
			t.Errorf("%s changed after a run of subscriptions only", table)
		}
	}
	if treeHash(t, filepath.Join(warehouse, "subscription_reads")) == subs {
		t.Error("subscription_reads not rewritten (its run_id should change)")
	}
	if n := len(readOrderRefs(t, warehouse)); n != ordersBefore || n != 636 {
		t.Errorf("%d orders after the narrowed run, %d before; want 636", n, ordersBefore)
	}
	runs := readRuns(t, warehouse)
	if len(runs) != 2 {
		t.Fatalf("etl_runs has %d rows, want 2", len(runs))
	}
	// Both runs start at the test's fixed clock: the narrowed one is the
	// one that did not read orders.
	last := runs[1]
	if runs[0].Orders == 0 {
		last = runs[0]
	}
	if last.Status != "succeeded" || last.WindowFrom != nil || last.Orders != 0 || last.Chargebacks != 0 || last.Subs != 1566 {
		t.Errorf("the narrowed run's record = %+v", last)
	}
}

// TestNarrowFlags: --account and --stream take only the job's names, say
// what is wrong with exit 2, and chargebacks need orders.
func TestNarrowFlags(t *testing.T) {
	path, _ := writeConfig(t, allStreams)
	subsOnly, _ := writeConfig(t, testConfig)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"misspelt account", []string{"--account", "dmeo"}, `etl run: job nightly has no account "dmeo" (did you mean demo?)` + "\n"},
		{"unknown account", []string{"--account", "acme-corp"}, `etl run: job nightly has no account "acme-corp" (want demo)` + "\n"},
		{"misspelt stream", []string{"--stream", "subscription"}, `etl run: unknown stream "subscription" (did you mean subscriptions?)` + "\n"},
		{"chargebacks alone", []string{"--stream", "chargebacks"}, "etl run: --stream chargebacks needs --stream orders: chargebacks are computed from the orders of the window\n"},
		{"chargebacks with subscriptions", []string{"--stream", "subscriptions,chargebacks"}, "etl run: --stream chargebacks needs --stream orders: chargebacks are computed from the orders of the window\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr := runCLI(t, exitUsage, append([]string{"run", "nightly", "-c", path, "--date", "2025-03-31"}, tt.args...)...)
			if stderr != tt.stderr {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
		})
	}
	_, stderr := runCLI(t, exitUsage, "run", "nightly", "-c", subsOnly, "--date", "2025-03-31", "--stream", "orders,chargebacks")
	if want := "etl run: job nightly does not extract stream chargebacks (its streams: orders, subscriptions)\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

// treeHash hashes the files under dir: names and contents.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readOrderRefs returns the RefNos of the orders in the warehouse.
func readOrderRefs(t *testing.T, warehouse string) map[string]bool {
	t.Helper()
	d, err := local.OpenReader(warehouse)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	err = load.ReadSpan(t.Context(), d, schemas.Orders(), load.Span{}, func(row any) error {
		refs[row.(*schemas.Order).RefNo] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// TestBackfillAccounts: --account is repeatable on etl backfill too, and
// runs the named accounts, in the job's order.
func TestBackfillAccounts(t *testing.T) {
	three := strings.Replace(twoAccounts, "accounts: [demo]", "accounts: [demo, second]", 1)
	path, _ := writeConfig(t, three)
	tests := []struct {
		name     string
		accounts []string
		want     string
	}{
		{"one", []string{"--account", "second"}, "second"},
		{"both, in the job's order", []string{"--account", "second", "--account", "demo"}, "demo second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"backfill", "nightly", "-c", path, "--from", "2025-03-01", "--to", "2025-03-01", "--force", "--json"}, tt.accounts...)
			out, _ := runCLI(t, exitOK, args...)
			var doc backfillDocJSON
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, task := range doc.Tasks {
				got = append(got, task.Account)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("accounts run %v, want %s", got, tt.want)
			}
		})
	}
}

// TestRunJSONTables: etl run --json carries the same counts as the text
// summary (TestRunSummaryLines' first run).
func TestRunJSONTables(t *testing.T) {
	path, _ := writeConfig(t, allStreams)
	out, _ := runCLI(t, exitOK, "run", "nightly", "-c", path, "--date", "2025-03-31", "--json")
	var doc runDocJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Runs) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	r := doc.Runs[0]
	want := []tableJSON{
		{"chargeback_rates", 1, 1, 1, 0, 0},
		{"chargebacks", 13, 13, 11, 0, 0},
		{"order_items", 934, 898, 31, 0, 0},
		{"orders", 659, 636, 31, 0, 0},
		{"subscription_history", 1566, 1566, 1, 0, 0},
		{"subscription_reads", 0, 1, 1, 0, 0},
	}
	if !reflect.DeepEqual(r.Tables, want) || r.OutsideWindow != 23 || strings.Join(r.Streams, ",") != "orders,subscriptions,chargebacks" {
		t.Errorf("tables %+v, outside %d, streams %v", r.Tables, r.OutsideWindow, r.Streams)
	}
	for _, key := range []string{`"rows_read": 659`, `"rows_written": 636`, `"partitions_written": 31`, `"partitions_unchanged": 0`, `"partitions_emptied": 0`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks %s: %s", key, out)
		}
	}
}
