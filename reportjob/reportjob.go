// Package reportjob runs the reports of a job: it builds an account's
// accounting report for a month from the job's warehouse, reconciles it
// with the warehouse and delivers it to the recipients of the job's
// accounting reports. 'etl run' and 'etl schedule' run it after each
// account's run ([AfterRun]), 'etl report accounting' on demand ([Run]).
package reportjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/destinations"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/reports"
)

// Accounting returns the job's accounting reports.
func Accounting(j config.Job) []config.Report {
	var out []config.Report
	for _, r := range j.Reports {
		if r.Type == config.ReportAccounting {
			out = append(out, r)
		}
	}
	return out
}

// Job chooses the job of a report: the one named, or else the only job of
// f with an accounting report (that has the account, if one is named).
func Job(f *config.File, name, account string) (config.Job, error) {
	if name != "" {
		job, ok := f.Job(name)
		if !ok {
			return config.Job{}, fmt.Errorf("no job %q in %s", name, f.Path)
		}
		return job, nil
	}
	var found []config.Job
	for _, j := range f.Jobs {
		if len(Accounting(j)) > 0 && (account == "" || slices.Contains(j.Accounts, account)) {
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

// Dir returns the reports directory: flag (--reports-dir) if set, else
// reports_dir of f, else reports.DefaultDir.
func Dir(flag string, f *config.File) string {
	switch {
	case flag != "":
		return flag
	case f != nil && f.ReportsDir != "":
		return f.ReportsDir
	}
	return reports.DefaultDir
}

// Options are how Run runs.
type Options struct {
	// Dir is the reports directory; empty means reports.DefaultDir.
	Dir string
	// Send delivers the report to the job's recipients, except those
	// the same figures were sent to before (see Resend).
	Send bool
	// Resend sends the report even to recipients that the last delivery
	// gave the same figures.
	Resend bool
	// AllowIncomplete sends a report whose month no successful run has read
	// whole since it ended; otherwise such a report is built but not sent.
	AllowIncomplete bool
	// Log gets what Run does; slog.Default() if nil.
	Log *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Getenv reads the SMTP settings (reports.MailerFromEnv).
	Getenv func(string) (string, bool)
}

// Result is what Run did, as far as it got.
type Result struct {
	// RunID identifies the report's run.
	RunID string
	// Report is the report built; nil if it was not.
	Report *reports.Report
	// Reconciled: the report agrees with the warehouse.
	Reconciled bool
	// Deliveries are the report's successful deliveries, in the order of
	// the job's accounting reports.
	Deliveries []reports.Delivery
	// Skipped are the deliveries not made: the same figures went to the
	// same recipients before.
	Skipped []Skipped
}

// Run builds, reconciles and (with o.Send) delivers the accounting report
// of acct for month (its first day) from job's warehouse, to each of the
// job's accounting reports' recipients. A report that does not reconcile
// is not sent, nor (unless o.AllowIncomplete) one of a month that no
// successful run has read whole since it ended. The Result says how far it
// got, also when it fails.
func Run(ctx context.Context, job config.Job, acct config.Account, month civil.Date, o Options) (Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	res := Result{RunID: pipeline.NewRunID(o.Now())}
	log := o.Log.With("report", config.ReportAccounting, "run_id", res.RunID, "job", job.Name, "account", acct.Name, "month", reports.MonthLabel(month))
	if err := res.build(ctx, log, job, acct, month, o); err != nil {
		return res, err
	}
	if !o.Send {
		return res, nil
	}
	if rep := res.Report; !rep.Totals.Complete && !o.AllowIncomplete {
		log.Error("report provisional; nothing sent")
		hint := "send a provisional report with --allow-incomplete"
		if rep.Totals.CoveredBy == "" {
			// A later date is not enough: its window may start after the
			// month (make run reads the last four months or so).
			last := reports.LastOfMonth(month)
			hint = fmt.Sprintf("run the warehouse's job for %s, whose window holds the whole month (etl run JOB --date %s), or %s", last, last, hint)
		}
		return res, fmt.Errorf("the figures of %s are provisional: %s; nothing sent (%s)",
			reports.MonthLabel(month), strings.Join(rep.Provisional(), "; "), hint)
	}
	return res, res.deliver(ctx, log, job, o)
}

// build builds the report into res.Report and reconciles it with the
// warehouse.
func (res *Result) build(ctx context.Context, log *slog.Logger, job config.Job, acct config.Account, month civil.Date, o Options) error {
	// A read-only reader: a missing warehouse is an error, never created.
	wh, err := destinations.OpenReader(ctx, job.Destination)
	if err != nil {
		return fmt.Errorf("warehouse: %w", err)
	}
	defer wh.Close()
	log.Info("building report")
	rep, err := reports.Build(ctx, reports.Request{Warehouse: wh, Account: acct, Month: month, RunID: res.RunID, Dir: o.Dir, Now: o.Now})
	if err != nil {
		log.Error("report failed", "error", err.Error())
		return err
	}
	res.Report = rep
	if err := reports.Reconcile(ctx, wh, rep); err != nil {
		var mm *reports.MismatchError
		if errors.As(err, &mm) {
			log.Error("report does not reconcile; nothing sent", "differences", len(mm.Mismatches), "error", err.Error())
		}
		return fmt.Errorf("%w (nothing sent; the files are kept for inspection)", err)
	}
	res.Reconciled = true
	return nil
}

// AfterRun builds, reconciles and sends the accounting report of job for
// acct after its run for business date date: the report of date's month
// (on the 1st, yesterday is the last day of the previous month). It does
// nothing, and returns a zero Result, for a job without an accounting
// report. o.Send is taken as true.
func AfterRun(ctx context.Context, job config.Job, acct config.Account, date civil.Date, o Options) (Result, error) {
	if len(Accounting(job)) == 0 {
		return Result{}, nil
	}
	o.Send = true
	return Run(ctx, job, acct, civil.Date{Year: date.Year, Month: date.Month, Day: 1}, o)
}
