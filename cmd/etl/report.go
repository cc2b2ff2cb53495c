package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/destinations"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/reports"
)

const reportSynopsis = "etl report accounting --month YYYY-MM [--account NAME] [--job NAME] [-c jobs.yaml] [--out DIR] [--no-send] [--allow-incomplete]"

// report runs 'etl report accounting': it builds each account's accounting
// workbook and CSV for a month from the job's warehouse, reconciles them
// with the warehouse and sends them to the job's report recipients.
func (c *cli) report(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != config.ReportAccounting {
		fmt.Fprintf(c.stderr, "etl report: want 'etl report accounting'\n\nUsage: %s\n", reportSynopsis)
		return exitUsage
	}
	fs := c.flagSet("report accounting", reportSynopsis)
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	monthFlag := fs.String("month", "", "the report's `month`, YYYY-MM (required)")
	accountFlag := fs.String("account", "", "report on this `account` only (default: every account of the job)")
	jobFlag := fs.String("job", "", "the `job` whose warehouse and report recipients to use (default: the one job with an accounting report)")
	out := fs.String("out", reports.DefaultDir, "reports `directory`; files go to DIR/ACCOUNT/YYYY-MM/")
	noSend := fs.Bool("no-send", false, "build and reconcile the files, send nothing")
	incomplete := fs.Bool("allow-incomplete", false, "send the report even if no successful run has read the whole month since it ended (marked PROVISIONAL)")
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
	f, ok := c.load(*path)
	if !ok {
		return exitUsage
	}
	job, err := reportJob(f, *jobFlag, *accountFlag)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl report accounting: %v\n", err)
		return exitUsage
	}
	if !*noSend && len(accountingReports(job)) == 0 {
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
		if err := c.accountingReport(ctx, log, job, acct, month, reportOptions{Dir: *out, Send: !*noSend, AllowIncomplete: *incomplete}); err != nil {
			fmt.Fprintf(c.stderr, "etl report accounting: account %s, %s: %v\n", acct.Name, reports.MonthLabel(month), err)
			code = exitFailed
		}
	}
	return code
}

// reportJob chooses the job of a report: the one named, or else the only
// job with an accounting report (that has the account, if one is named).
func reportJob(f *config.File, name, account string) (config.Job, error) {
	if name != "" {
		job, ok := f.Job(name)
		if !ok {
			return config.Job{}, fmt.Errorf("no job %q in %s", name, f.Path)
		}
		return job, nil
	}
	var found []config.Job
	for _, j := range f.Jobs {
		if len(accountingReports(j)) > 0 && (account == "" || slices.Contains(j.Accounts, account)) {
			found = append(found, j)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return config.Job{}, fmt.Errorf("no job in %s has an accounting report%s; name one with --job", f.Path, forAccount(account))
	}
	names := make([]string, len(found))
	for i, j := range found {
		names[i] = j.Name
	}
	return config.Job{}, fmt.Errorf("jobs %s all have an accounting report%s; choose one with --job", strings.Join(names, ", "), forAccount(account))
}

func forAccount(a string) string {
	if a == "" {
		return ""
	}
	return " for account " + a
}

// accountingReports returns the job's accounting reports.
func accountingReports(j config.Job) []config.Report {
	var out []config.Report
	for _, r := range j.Reports {
		if r.Type == config.ReportAccounting {
			out = append(out, r)
		}
	}
	return out
}

// reportOptions are how accountingReport runs.
type reportOptions struct {
	// Dir is the reports directory; empty means reports.DefaultDir.
	Dir string
	// Send delivers the report to the job's recipients.
	Send bool
	// AllowIncomplete sends a report whose month no successful run has read
	// whole since it ended; otherwise such a report is built but not sent.
	AllowIncomplete bool
}

// accountingReport builds, reconciles and (with o.Send) delivers the
// accounting report of acct for month from job's warehouse, to each of the
// job's accounting reports' recipients. It prints what it did to stdout.
// 'etl run' calls it for jobs with an accounting report.
func (c *cli) accountingReport(ctx context.Context, log *slog.Logger, job config.Job, acct config.Account, month civil.Date, o reportOptions) error {
	runID := pipeline.NewRunID(c.clock())
	log = log.With("report", config.ReportAccounting, "run_id", runID, "job", job.Name, "account", acct.Name, "month", reports.MonthLabel(month))
	wh, err := destinations.OpenReader(ctx, job.Destination)
	if err != nil {
		return fmt.Errorf("warehouse: %w", err)
	}
	defer wh.Close()
	log.Info("building report")
	rep, err := reports.Build(ctx, reports.Request{Warehouse: wh, Account: acct, Month: month, RunID: runID, Dir: o.Dir, Now: c.clock})
	if err != nil {
		log.Error("report failed", "error", err.Error())
		return err
	}
	t := &rep.Totals
	fmt.Fprintf(c.stdout, "report %s: account %s, %s: %d orders, %d disputes, Total chargeback fee %s\n  %s\n  %s\n",
		runID, acct.Name, reports.MonthLabel(month), t.OrderRows, t.Disputes, reports.FormatAmount(t.ChargebackFees, t.FeeCurrency), rep.Workbook, rep.CSV)
	if err := reports.Reconcile(ctx, wh, rep); err != nil {
		var mm *reports.MismatchError
		if errors.As(err, &mm) {
			log.Error("report does not reconcile; nothing sent", "differences", len(mm.Mismatches), "error", err.Error())
		}
		return fmt.Errorf("%w (nothing sent; the files are kept for inspection)", err)
	}
	fmt.Fprintln(c.stdout, "  reconciled with the warehouse")
	if !t.Complete {
		fmt.Fprintf(c.stdout, "  PROVISIONAL: no successful run has read the whole of %s since it ended\n", reports.MonthLabel(month))
	}
	if !o.Send {
		return nil
	}
	if !t.Complete && !o.AllowIncomplete {
		log.Error("month incomplete in the warehouse; nothing sent")
		return fmt.Errorf("no successful run has read the whole of %s since it ended, so its figures may be incomplete; nothing sent "+
			"(run the job for %s or later, or send a provisional report with --allow-incomplete)", reports.MonthLabel(month), reports.LastOfMonth(month))
	}
	var errs []error
	for _, r := range accountingReports(job) {
		m, err := reports.MailerFromEnv(c.getenv, r.Outbox, log)
		if err != nil {
			return err
		}
		d, err := m.Deliver(ctx, rep, r.To)
		if err != nil {
			log.Error("delivery failed", "to", strings.Join(r.To, ", "), "error", err.Error())
			errs = append(errs, err)
			continue
		}
		switch d.Method {
		case "outbox":
			fmt.Fprintf(c.stdout, "  no SMTP settings (%s): message to %s written to %s\n", reports.EnvSMTPHost, strings.Join(d.To, ", "), d.Path)
		default:
			fmt.Fprintf(c.stdout, "  sent to %s by SMTP (%d attempts)\n", strings.Join(d.To, ", "), d.Attempts)
		}
	}
	return errors.Join(errs...)
}

// jobReports builds, reconciles and sends the accounting reports of job
// for acct after its run for business date date: the report of date's
// month (on the 1st, yesterday is the last day of the previous month). It
// does nothing for a job without an accounting report. 'etl run' and
// 'etl schedule' call it after each account's run.
func (c *cli) jobReports(ctx context.Context, log *slog.Logger, job config.Job, acct config.Account, date civil.Date) error {
	if len(accountingReports(job)) == 0 {
		return nil
	}
	month := civil.Date{Year: date.Year, Month: date.Month, Day: 1}
	return c.accountingReport(ctx, log, job, acct, month, reportOptions{Send: true})
}
