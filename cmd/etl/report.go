package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/reportjob"
	"github.com/ledgerline/ledgerline/reports"
)

// report runs 'etl report accounting': it builds each account's accounting
// workbook and CSV for a month from the job's warehouse, reconciles them
// with the warehouse and sends them to the job's report recipients.
func (c *cli) report(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != config.ReportAccounting {
		fmt.Fprintf(c.stderr, "etl report: want 'etl report accounting'\n\nUsage: %s\n", commandNamed("report accounting").line())
		return exitUsage
	}
	fs := c.flagSet("report accounting")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	monthFlag := fs.String("month", "", "the report's `month`, YYYY-MM (required)")
	accountFlag := fs.String("account", "", "report on this `account` only (default: every account of the job)")
	jobFlag := fs.String("job", "", "the `job` whose warehouse and report recipients to use (default: the one job with an accounting report)")
	out := reportsDirFlag(fs)
	fs.StringVar(out, "out", "", "the same as --reports-dir `DIR`")
	noSend := fs.Bool("no-send", false, "build and reconcile the files, send nothing")
	incomplete := fs.Bool("allow-incomplete", false, "send the report even if it is PROVISIONAL: no successful run has read the whole month since it ended, or its fees rest on a fallback")
	resend := fs.Bool("resend", false, "send the report even to recipients it was already sent to with the same figures")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl report accounting: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	if *monthFlag == "" {
		fmt.Fprintln(c.stderr, "etl report accounting: --month YYYY-MM is required")
		fs.Usage()
		return exitUsage
	}
	month, err := reports.ParseMonth(*monthFlag)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl report accounting: --month: %v\n", err)
		return exitUsage
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	job, err := reportjob.Job(f, *jobFlag, *accountFlag)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl report accounting: %v\n", err)
		return exitUsage
	}
	if !*noSend && len(reportjob.Accounting(job)) == 0 {
		fmt.Fprintf(c.stderr, "etl report accounting: job %s has no accounting report (no recipients); use --no-send to only build the files\n", job.Name)
		return exitUsage
	}
	accounts := job.Accounts
	if *accountFlag != "" {
		if !slices.Contains(accounts, *accountFlag) {
			fmt.Fprintf(c.stderr, "etl report accounting: account %q is not an account of job %s (%s)\n", *accountFlag, job.Name, strings.Join(accounts, ", "))
			return exitUsage
		}
		accounts = []string{*accountFlag}
	}
	log := c.logger()
	code := exitOK
	for _, name := range accounts {
		acct, _ := f.Account(name) // validated by config.Load
		if err := c.accountingReport(ctx, log, job, acct, month, reportjob.Options{Dir: reportjob.Dir(*out, f), Send: !*noSend, AllowIncomplete: *incomplete, Resend: *resend}); err != nil {
			fmt.Fprintf(c.stderr, "etl report accounting: account %s, %s: %v\n", acct.Name, reports.MonthLabel(month), err)
			code = exitFailed
		}
	}
	return code
}

// accountingReport runs the accounting report of acct for month (see
// reportjob.Run) and prints what it did to stdout, also when it fails.
func (c *cli) accountingReport(ctx context.Context, log *slog.Logger, job config.Job, acct config.Account, month civil.Date, o reportjob.Options) error {
	o.Log, o.Now, o.Getenv = log, c.clock, c.getenv
	res, err := reportjob.Run(ctx, job, acct, month, o)
	c.printReport(acct, month, res)
	return err
}

// printReport prints what a report's run did.
func (c *cli) printReport(acct config.Account, month civil.Date, res reportjob.Result) {
	rep := res.Report
	if rep == nil {
		return
	}
	t := &rep.Totals
	fmt.Fprintf(c.stdout, "report %s: account %s, %s: %s, %s, Total chargeback fee %s\n  %s\n  %s\n",
		res.RunID, acct.Name, reports.MonthLabel(month), progress.Plural(t.OrderRows, "order"), progress.Plural(t.Disputes, "dispute"),
		reports.FormatAmount(t.ChargebackFees, t.FeeCurrency), rep.Workbook, rep.CSV)
	if !res.Reconciled {
		return
	}
	fmt.Fprintln(c.stdout, "  reconciled with the warehouse")
	if !t.Complete {
		fmt.Fprintf(c.stdout, "  PROVISIONAL: %s\n", strings.Join(rep.Provisional(), "; "))
	}
	if t.CoveredBy == "" {
		// A later date is not enough: its window may start after the month.
		last := reports.LastOfMonth(month)
		fmt.Fprintf(c.stdout, "  to read the month whole, run the warehouse's job for %s, whose window holds it: etl run JOB --date %s\n", last, last)
	}
	for _, d := range res.Deliveries {
		switch d.Method {
		case "outbox":
			fmt.Fprintf(c.stdout, "  no SMTP settings (%s): message to %s written to %s (%s)\n", reports.EnvSMTPHost, strings.Join(d.To, ", "), d.Path, d.Kind)
		default:
			fmt.Fprintf(c.stdout, "  sent to %s by SMTP (%s; %s)\n", strings.Join(d.To, ", "), plural(d.Attempts, "attempt"), d.Kind)
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(c.stdout, "  not sent to %s: the same figures went to them at %s (message %s); --resend sends it again\n",
			strings.Join(s.To, ", "), s.Last.SentAt.Format(time.RFC3339), s.Last.MessageID)
	}
}

// jobReports runs the accounting reports of job for acct after its run
// for business date date (see reportjob.AfterRun), writing the files
// under dir, and prints what they did. 'etl run' and 'etl schedule' call it
// after each account's run.
func (c *cli) jobReports(ctx context.Context, log *slog.Logger, job config.Job, acct config.Account, date civil.Date, dir string) error {
	res, err := reportjob.AfterRun(ctx, job, acct, date, reportjob.Options{Dir: dir, Log: log, Now: c.clock, Getenv: c.getenv})
	if res.Report != nil {
		c.printReport(acct, res.Report.Month, res)
	}
	return err
}

// reportsDirFlag defines --reports-dir on fs: where report files go. Empty
// (the default) means reports_dir of jobs.yaml, else reports.DefaultDir
// (see reportjob.Dir).
func reportsDirFlag(fs *flag.FlagSet) *string {
	return fs.String("reports-dir", "", "reports `directory`; files go to DIR/ACCOUNT/YYYY-MM/ (default: reports_dir of jobs.yaml, else "+reports.DefaultDir+")")
}
