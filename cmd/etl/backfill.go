package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/backfill"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/jobrun"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runlock"
)

// backfillCmd is one etl backfill: the backfill and how it runs and
// prints.
type backfillCmd struct {
	plan *backfill.Backfill
	run  jobrun.Runner
	// push pushes the run metrics at the end; nil for no Pushgateway.
	push func(ctx context.Context)
	// display is the terminal's progress line; nil when not a terminal.
	display *progress.Display
	// out gets a line per finished date when there is no display, and the
	// summary.
	out io.Writer
	// json prints the summary as JSON on stdout instead.
	json bool
	// skipped counts the dates that already succeeded, which the progress
	// does not count as done.
	skipped int
}

// backfillFlags are the flags of etl backfill.
type backfillFlags struct {
	path, from, to, lockDir, pushgateway string
	accounts                             jobNames // the repeatable string flag of etl schedule
	parallel                             int
	force, keepGoing, json               bool
}

func (c *cli) backfill(ctx context.Context, args []string) int {
	b, code := c.parseBackfill(ctx, args)
	if b == nil {
		return code
	}
	return c.runBackfill(ctx, b)
}

// parseBackfill reads the flags and the configuration of a backfill; nil
// and an exit code when they are wrong.
func (c *cli) parseBackfill(ctx context.Context, args []string) (*backfillCmd, int) {
	var fl backfillFlags
	fs := c.flagSet("backfill")
	fs.StringVar(&fl.path, "c", "jobs.yaml", "configuration `file`")
	fs.StringVar(&fl.from, "from", "", "first business `date` to run, YYYY-MM-DD (required)")
	fs.StringVar(&fl.to, "to", "", "last business `date` to run, YYYY-MM-DD (required; at most yesterday in the job's time zone)")
	fs.IntVar(&fl.parallel, "parallel", 1, "accounts to run at once (`N`); the dates of one account always run one at a time, in order")
	fs.BoolVar(&fl.force, "force", false, "rerun dates that already succeeded (default: skip them, as recorded in etl_runs)")
	fs.BoolVar(&fl.keepGoing, "keep-going", false, "after a failed date of an account, go on with its later ones (default: start no more)")
	fs.Var(&fl.accounts, "account", "run only the account `name`, one of the job's (repeatable; default: every account of the job)")
	fs.StringVar(&fl.lockDir, "lock-dir", "", "`directory` of the run locks (default: lock_dir of jobs.yaml, else .locks in a local warehouse, else under the temporary directory)")
	fs.StringVar(&fl.pushgateway, "pushgateway", "", "push run metrics to the Prometheus Pushgateway at `URL` at the end (default: metrics.pushgateway of jobs.yaml, else none)")
	fs.BoolVar(&fl.json, "json", false, "print the summary as one JSON document on stdout (the lines per date go to stderr)")
	pos, err := parse(fs, args)
	if err != nil {
		return nil, usageError(err)
	}
	if len(pos) != 1 || fl.from == "" || fl.to == "" {
		fs.Usage()
		return nil, exitUsage
	}
	b, ok := c.backfillRange(fl)
	if !ok {
		return nil, exitUsage
	}
	f, ok := c.load(ctx, fl.path)
	if !ok {
		return nil, exitUsage
	}
	// Flags win over jobs.yaml.
	if fl.pushgateway == "" {
		fl.pushgateway = f.Metrics.Pushgateway
	}
	if fl.lockDir == "" {
		fl.lockDir = f.LockDir
	}
	if !c.backfillJob(b, f, pos[0], fl) {
		return nil, exitUsage
	}
	return c.backfillCmd(b, fl)
}

// backfillRange returns a backfill of the dates and parallelism of fl,
// or false after saying what is wrong with them.
func (c *cli) backfillRange(fl backfillFlags) (*backfill.Backfill, bool) {
	from, err := civil.ParseDate(fl.from)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: --from %q: want YYYY-MM-DD\n", fl.from)
		return nil, false
	}
	to, err := civil.ParseDate(fl.to)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: --to %q: want YYYY-MM-DD\n", fl.to)
		return nil, false
	}
	if to.Before(from) {
		fmt.Fprintf(c.stderr, "etl backfill: --to %s is before --from %s\n", to, from)
		return nil, false
	}
	if fl.parallel < 1 || fl.parallel > backfill.MaxParallel {
		fmt.Fprintf(c.stderr, "etl backfill: --parallel %d: want 1 to %d\n", fl.parallel, backfill.MaxParallel)
		return nil, false
	}
	return &backfill.Backfill{From: from, To: to, Parallel: fl.parallel, Force: fl.force, KeepGoing: fl.keepGoing}, true
}

// backfillJob sets b's job and accounts from f, or returns false after
// saying what is wrong.
func (c *cli) backfillJob(b *backfill.Backfill, f *config.File, name string, fl backfillFlags) bool {
	job, ok := f.Job(name)
	if !ok {
		fmt.Fprintf(c.stderr, "etl backfill: no job %q in %s\n", name, fl.path)
		return false
	}
	if y := pipeline.Yesterday(job, c.clock()); b.To.After(y) {
		fmt.Fprintf(c.stderr, "etl backfill: --to %s is after yesterday (%s in %s): that day is not over\n", b.To, y, job.Timezone)
		return false
	}
	job, err := job.Narrow(fl.accounts, nil)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
		return false
	}
	b.Job = job
	for _, name := range job.Accounts {
		acct, _ := f.Account(name) // validated by config.Load
		b.Accounts = append(b.Accounts, acct)
	}
	return true
}

// backfillCmd wires b to the terminal, the run locks and the metrics.
func (c *cli) backfillCmd(b *backfill.Backfill, fl backfillFlags) (*backfillCmd, int) {
	bc := &backfillCmd{plan: b, out: c.stdout, json: fl.json}
	if fl.json {
		bc.out = c.stderr
	}
	if progress.Terminal(c.stderr) {
		bc.display = progress.NewDisplay(c.stderr, nil)
	}
	bc.run = c.runner(c.displayLogger(bc.display), fl.lockDir, fmt.Sprintf("etl backfill %s --from %s --to %s", b.Job.Name, b.From, b.To))
	if bc.display != nil {
		bc.run.Observer = bc.display
	}
	if fl.pushgateway != "" {
		m, err := progress.NewMetrics(nil)
		if err != nil {
			fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
			return nil, exitFailed
		}
		bc.run.Metrics = m
		url, job := fl.pushgateway, b.Job.Name
		bc.push = func(ctx context.Context) { bc.run.PushMetrics(ctx, url, job) }
	}
	b.Log = bc.run.Log
	b.Progress = bc.progress
	b.Run = func(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error) {
		return bc.run.Run(ctx, b.Job, acct, date)
	}
	return bc, exitOK
}

// progress shows a backfill's progress on the display: the dates
// finished of those to run, the dates skipped, and the last one finished;
// or prints a line per finished date without one.
func (bc *backfillCmd) progress(done, total int, t *backfill.Task) {
	if bc.display == nil {
		if t != nil {
			fmt.Fprintln(bc.out, taskLine(t))
		}
		return
	}
	note := "dates"
	if bc.skipped > 0 {
		note += fmt.Sprintf(" (%d skipped)", bc.skipped)
	}
	if t != nil {
		note += fmt.Sprintf(", last %s %s %s", t.Date, t.Account.Name, t.Status)
	}
	bc.display.Tasks("backfill "+bc.plan.Job.Name, done, total, note)
}

// displayLogger logs as c.logger does, through the display's log writer
// on a terminal so that log lines and the progress line do not mix.
func (c *cli) displayLogger(d *progress.Display) *slog.Logger {
	if d == nil {
		return c.logger()
	}
	return slog.New(slog.NewTextHandler(d.LogWriter(), &slog.HandlerOptions{Level: c.level}))
}

func (c *cli) runBackfill(ctx context.Context, bc *backfillCmd) int {
	b := bc.plan
	// One lock per account for the whole backfill: no etl run of the job
	// and account can run in between.
	for _, acct := range b.Accounts {
		l, err := bc.run.Lock(b.Job, acct)
		if err != nil {
			fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
			if errors.Is(err, runlock.ErrHeld) {
				return exitLocked
			}
			return exitFailed
		}
		defer l.Release()
	}
	tasks, err := b.Plan(ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
		return exitFailed
	}
	bc.skipped = backfill.Count(tasks).Skipped
	bc.display.Start()
	b.Execute(ctx, tasks)
	bc.display.Finish()
	if bc.push != nil {
		bc.push(ctx)
	}
	code := exitOK
	if bc.json {
		code = c.printJSON("backfill", backfillJSON(b, tasks))
	} else {
		bc.printSummary(tasks)
	}
	if !backfill.Count(tasks).Complete() {
		code = exitFailed
	}
	if ctx.Err() != nil {
		again := "the same command"
		if b.Force {
			again = "it without --force"
		}
		fmt.Fprintf(c.stderr, "etl backfill: interrupted; run %s again to finish (dates that succeeded are skipped)\n", again)
	}
	return code
}

func taskLine(t *backfill.Task) string {
	switch t.Status {
	case backfill.Succeeded:
		return fmt.Sprintf("%s %s: succeeded, %s in %s", t.Date, t.Account.Name, progress.Plural(backfill.Rows(t.Summary), "row"), t.Summary.Duration.Round(time.Millisecond))
	case backfill.Failed:
		return fmt.Sprintf("%s %s: failed: %v", t.Date, t.Account.Name, t.Err)
	}
	return fmt.Sprintf("%s %s: %s", t.Date, t.Account.Name, t.Status)
}

// plural returns "1 date", "2 dates", "1,234 dates".
func plural(n int, noun string) string { return progress.Plural(int64(n), noun) }

// printSummary prints a table of the tasks and their counts by status.
func (bc *backfillCmd) printSummary(tasks []*backfill.Task) {
	b, w := bc.plan, bc.out
	fmt.Fprintf(w, "backfill %s %s..%s:\n", b.Job.Name, b.From, b.To)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "date\taccount\tstatus\trows\tduration\trun\t")
	for _, t := range tasks {
		r, d, id := "", "", ""
		switch t.Status {
		case backfill.Succeeded:
			r, d, id = progress.Count(backfill.Rows(t.Summary)), t.Summary.Duration.Round(time.Millisecond).String(), t.Summary.RunID
		case backfill.Failed:
			d, id = t.Summary.Duration.Round(time.Millisecond).String(), t.Summary.RunID
		case backfill.Skipped:
			id = "already succeeded"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", t.Date, t.Account.Name, t.Status, r, d, id)
	}
	tw.Flush()
	n := backfill.Count(tasks)
	fmt.Fprintf(w, "%s × %s: %d succeeded (%s), %d skipped (already succeeded), %d failed, %d not run\n",
		plural(b.To.DaysSince(b.From)+1, "date"), plural(len(b.Accounts), "account"), n.Succeeded, progress.Plural(n.Rows, "row"), n.Skipped, n.Failed, n.NotRun)
	for _, t := range tasks {
		if t.Status == backfill.Failed {
			fmt.Fprintf(w, "failed: %s %s: %v\n", t.Date, t.Account.Name, t.Err)
		}
	}
}
