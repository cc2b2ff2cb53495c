package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/backfill"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/reportjob"
	"github.com/ledgerline/ledgerline/reports"
)

// TestPlurals: counts in the CLI's output agree with their nouns, 1 and
// more.
func TestPlurals(t *testing.T) {
	march := civil.Date{Year: 2025, Month: 3, Day: 1}
	demo := config.Account{Name: "demo"}
	summary := func(rejected int64) string {
		var b bytes.Buffer
		printSummary(&b, pipeline.Summary{RunID: "r", Job: "nightly", Account: "demo", Date: march,
			Rejected: map[string]int64{"orders": rejected}}, false)
		return b.String()
	}
	report := func(n int64, attempts int) string {
		c, out, _ := newCLI(nil)
		rep := &reports.Report{Month: march, Workbook: "w.xlsx", CSV: "c.csv",
			Totals: reports.Totals{OrderRows: n, Disputes: n, ChargebackFees: money.FromInt(30), FeeCurrency: "USD", Complete: true}}
		c.printReport(demo, march, reportjob.Result{RunID: "r", Report: rep, Reconciled: true,
			Deliveries: []reports.Delivery{{Method: "smtp", To: []string{"finance@example.com"}, Attempts: attempts, Kind: "first"}}})
		return out.String()
	}
	task := func(rows int64) string {
		return taskLine(&backfill.Task{Date: march, Account: demo, Status: backfill.Succeeded,
			Summary: pipeline.Summary{Tables: []pipeline.TableSummary{{Rows: rows}}, Duration: time.Second}})
	}
	backfillSummary := func(dates int, rows int64) string {
		var b bytes.Buffer
		bc := &backfillCmd{plan: &backfill.Backfill{Job: config.Job{Name: "nightly"}, Accounts: []config.Account{demo},
			From: march, To: march.AddDays(dates - 1)}, out: &b}
		var tasks []*backfill.Task
		for i := range dates {
			tasks = append(tasks, &backfill.Task{Date: march.AddDays(i), Account: demo, Status: backfill.Succeeded,
				Summary: pipeline.Summary{Tables: []pipeline.TableSummary{{Rows: rows}}}})
		}
		bc.printSummary(tasks)
		return b.String()
	}
	tests := []struct {
		name, got, want string
	}{
		{"one reject", summary(1), "stream orders: 1 record failed validation; it is in rejected_rows\n"},
		{"rejects", summary(2), "stream orders: 2 records failed validation; they are in rejected_rows\n"},
		{"report of one order", report(1, 1), ": 1 order, 1 dispute, Total chargeback fee"},
		{"report of orders", report(1234, 2), ": 1,234 orders, 1,234 disputes, Total chargeback fee"},
		{"one attempt", report(1, 1), "by SMTP (1 attempt; first)"},
		{"attempts", report(1, 3), "by SMTP (3 attempts; first)"},
		{"a date of one row", task(1), "2025-03-01 demo: succeeded, 1 row in 1s"},
		{"a date of rows", task(1000), "2025-03-01 demo: succeeded, 1,000 rows in 1s"},
		{"a backfill of one date", backfillSummary(1, 1), "1 date × 1 account: 1 succeeded (1 row), 0 skipped"},
		{"a backfill of dates", backfillSummary(2, 1), "2 dates × 1 account: 2 succeeded (2 rows), 0 skipped"},
	}
	for _, tt := range tests {
		if !strings.Contains(tt.got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestReportHintForAMonthNotRead: a report of a month no run has read
// whole says which date to run: the month's last day, not "a later date",
// whose window may start after the month.
func TestReportHintForAMonthNotRead(t *testing.T) {
	march := civil.Date{Year: 2025, Month: 3, Day: 1}
	tests := []struct {
		name    string
		covered string
		want    bool
	}{
		{"not read whole", "", true},
		{"read whole", "20250401T020000Z-abc", false},
	}
	const hint = "  to read the month whole, run the warehouse's job for 2025-03-31, whose window holds it: etl run JOB --date 2025-03-31\n"
	for _, tt := range tests {
		c, out, _ := newCLI(nil)
		rep := &reports.Report{Month: march, Totals: reports.Totals{CoveredBy: tt.covered, Complete: tt.covered != "", FeeCurrency: "USD"}}
		c.printReport(config.Account{Name: "demo"}, march, reportjob.Result{RunID: "r", Report: rep, Reconciled: true})
		if got := strings.Contains(out.String(), hint); got != tt.want {
			t.Errorf("%s: hint shown %v, want %v:\n%s", tt.name, got, tt.want, out)
		}
	}
}
