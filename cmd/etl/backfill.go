package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runlock"
	"github.com/ledgerline/ledgerline/schemas"
)

// backfill is one etl backfill: the runs of a job over a range of dates.
type backfill struct {
	job      config.Job
	accounts []config.Account
	from, to civil.Date
	parallel int
	// force reruns dates that already succeeded.
	force bool
	// keepGoing starts the remaining dates after a failed one.
	keepGoing bool
	// run runs one date of one account; c.runAccount outside tests.
	run func(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error)
	env runEnv
	// push pushes the run metrics at the end; nil for no Pushgateway.
	push func(ctx context.Context)
	// display is the terminal's progress line; nil when not a terminal.
	display *progress.Display
	// out gets a line per finished date when there is no display, and the
	// summary.
	out io.Writer
}

// Statuses of a backfill's tasks.
const (
	taskSucceeded = "succeeded"
	taskFailed    = "failed"
	taskSkipped   = "skipped"
	taskNotRun    = "not run"
)

// task is one date of one account.
type task struct {
	date    civil.Date
	acct    config.Account
	status  string
	summary pipeline.Summary
	err     error
}

func (c *cli) backfill(ctx context.Context, args []string) int {
	b, code := c.parseBackfill(args)
	if b == nil {
		return code
	}
	return c.runBackfill(ctx, b)
}

// parseBackfill reads the flags and the configuration of a backfill; nil
// and an exit code when they are wrong.
func (c *cli) parseBackfill(args []string) (*backfill, int) {
	const synopsis = "etl backfill JOB --from YYYY-MM-DD --to YYYY-MM-DD [--parallel N] [--force] [--keep-going] [--account NAME] [-c jobs.yaml]"
	fs := c.flagSet("backfill", synopsis)
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	fromFlag := fs.String("from", "", "first business `date` to run, YYYY-MM-DD (required)")
	toFlag := fs.String("to", "", "last business `date` to run, YYYY-MM-DD (required; at most yesterday in the job's time zone)")
	parallel := fs.Int("parallel", 1, "accounts to run at once (`N`); the dates of one account always run one at a time, in order")
	force := fs.Bool("force", false, "rerun dates that already succeeded (default: skip them, as recorded in etl_runs)")
	keepGoing := fs.Bool("keep-going", false, "after a failed date of an account, go on with its later ones (default: start no more)")
	account := fs.String("account", "", "run only the account `name` (default: every account of the job)")
	lockDirFlag := fs.String("lock-dir", "", "`directory` of the run locks (default: .locks in a local warehouse, else under the temporary directory)")
	pushgateway := fs.String("pushgateway", "", "push run metrics to the Prometheus Pushgateway at `URL` at the end")
	pos, err := parse(fs, args)
	if err != nil {
		return nil, usageError(err)
	}
	if len(pos) != 1 || *fromFlag == "" || *toFlag == "" {
		fs.Usage()
		return nil, exitUsage
	}
	from, err := civil.ParseDate(*fromFlag)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: --from %q: want YYYY-MM-DD\n", *fromFlag)
		return nil, exitUsage
	}
	to, err := civil.ParseDate(*toFlag)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: --to %q: want YYYY-MM-DD\n", *toFlag)
		return nil, exitUsage
	}
	if to.Before(from) {
		fmt.Fprintf(c.stderr, "etl backfill: --to %s is before --from %s\n", to, from)
		return nil, exitUsage
	}
	if *parallel < 1 || *parallel > 64 {
		fmt.Fprintf(c.stderr, "etl backfill: --parallel %d: want 1 to 64\n", *parallel)
		return nil, exitUsage
	}
	f, ok := c.load(*path)
	if !ok {
		return nil, exitUsage
	}
	// Flags win over jobs.yaml.
	if *pushgateway == "" {
		*pushgateway = f.Metrics.Pushgateway
	}
	if *lockDirFlag == "" {
		*lockDirFlag = f.LockDir
	}
	job, ok := f.Job(pos[0])
	if !ok {
		fmt.Fprintf(c.stderr, "etl backfill: no job %q in %s\n", pos[0], *path)
		return nil, exitUsage
	}
	if y := pipeline.Yesterday(job, c.clock()); to.After(y) {
		fmt.Fprintf(c.stderr, "etl backfill: --to %s is after yesterday (%s in %s): that day is not over\n", to, y, job.Timezone)
		return nil, exitUsage
	}
	b := &backfill{job: job, from: from, to: to, parallel: *parallel, force: *force, keepGoing: *keepGoing, out: c.stdout}
	for _, name := range job.Accounts {
		if *account != "" && name != *account {
			continue
		}
		acct, _ := f.Account(name) // validated by config.Load
		b.accounts = append(b.accounts, acct)
	}
	if len(b.accounts) == 0 {
		fmt.Fprintf(c.stderr, "etl backfill: job %s has no account %q\n", job.Name, *account)
		return nil, exitUsage
	}
	if progress.Terminal(c.stderr) {
		b.display = progress.NewDisplay(c.stderr, nil)
	}
	b.env = runEnv{log: c.displayLogger(b.display), lockDir: *lockDirFlag, command: "etl backfill " + job.Name}
	if b.display != nil {
		b.env.observer = b.display
	}
	if *pushgateway != "" {
		m, err := progress.NewMetrics(nil)
		if err != nil {
			fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
			return nil, exitFailed
		}
		b.env.metrics = m
	}
	b.env.command += fmt.Sprintf(" --from %s --to %s", from, to)
	b.run = func(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error) {
		return c.runAccount(ctx, b.env, b.job, acct, date)
	}
	if *pushgateway != "" {
		url := *pushgateway
		b.push = func(ctx context.Context) { pushMetrics(ctx, b.env, url, job.Name) }
	}
	return b, exitOK
}

// displayLogger logs as c.logger does, through the display's log writer
// on a terminal so that log lines and the progress line do not mix.
func (c *cli) displayLogger(d *progress.Display) *slog.Logger {
	if d == nil {
		return c.logger()
	}
	return slog.New(slog.NewTextHandler(d.LogWriter(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (c *cli) runBackfill(ctx context.Context, b *backfill) int {
	// One lock per account for the whole backfill: no etl run of the job
	// and account can run in between.
	for _, acct := range b.accounts {
		l, err := b.env.lock(b.job, acct)
		if err != nil {
			fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
			if errors.Is(err, runlock.ErrHeld) {
				return exitLocked
			}
			return exitFailed
		}
		defer l.Release()
	}
	tasks, err := b.plan(ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl backfill: %v\n", err)
		return exitFailed
	}
	b.execute(ctx, tasks)
	b.display.Finish()
	if b.push != nil {
		b.push(ctx)
	}
	b.printSummary(tasks)
	code := exitOK
	for _, t := range tasks {
		if t.status == taskFailed || t.status == taskNotRun {
			code = exitFailed
		}
	}
	if ctx.Err() != nil {
		again := "the same command"
		if b.force {
			again = "it without --force"
		}
		fmt.Fprintf(c.stderr, "etl backfill: interrupted; run %s again to finish (dates that succeeded are skipped)\n", again)
	}
	return code
}

// plan returns the backfill's tasks in order, date by date, those already
// successful marked skipped unless forced.
func (b *backfill) plan(ctx context.Context) ([]*task, error) {
	done := map[string]map[civil.Date]bool{}
	if !b.force {
		for _, acct := range b.accounts {
			d, err := succeededDates(ctx, b.job, acct)
			if err != nil {
				return nil, err
			}
			done[acct.Name] = d
		}
	}
	var tasks []*task
	for d := b.from; !d.After(b.to); d = d.AddDays(1) {
		for _, acct := range b.accounts {
			t := &task{date: d, acct: acct, status: taskNotRun}
			if done[acct.Name][d] {
				t.status = taskSkipped
			}
			tasks = append(tasks, t)
		}
	}
	return tasks, nil
}

// succeededDates returns the business dates that runs of job on acct
// committed successfully, as etl_runs at the job's destination records.
func succeededDates(ctx context.Context, job config.Job, acct config.Account) (map[civil.Date]bool, error) {
	reader, closeReader, err := pipeline.OpenWarehouse(ctx, job)
	if err != nil {
		return nil, err
	}
	defer closeReader()
	t := schemas.Runs()
	days, err := reader.Partitions(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("reading etl_runs: %w", err)
	}
	done := map[civil.Date]bool{}
	for _, day := range days {
		err := reader.ReadPartition(ctx, t, day, func(row any) error {
			r := row.(*schemas.Run)
			if r.Job == job.Name && r.MerchantCode == acct.MerchantCode && r.Status == pipeline.StatusSucceeded {
				done[r.BusinessDate] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading etl_runs: %w", err)
		}
	}
	return done, nil
}

// execute runs the tasks that are not skipped. The dates of one account
// run one at a time, in order: each run reads what the previous date
// committed (the chargeback state, etl_runs) and replaces the partitions
// of its window, so runs of one account at once would leave the warehouse
// to whichever committed last and lose etl_runs rows. Up to b.parallel
// accounts run at once. After a failed date an account starts no more
// (unless keepGoing), and once ctx is cancelled none does; the tasks left
// are "not run".
func (b *backfill) execute(ctx context.Context, tasks []*task) {
	skipped := 0
	queues := map[string][]*task{}
	for _, t := range tasks {
		if t.status == taskSkipped {
			skipped++
			continue
		}
		queues[t.acct.Name] = append(queues[t.acct.Name], t)
	}
	label := "backfill " + b.job.Name
	b.display.Tasks(label, skipped, len(tasks), "")
	var mu sync.Mutex // guards finished and the tasks' results
	finished := 0
	sem := make(chan struct{}, b.parallel)
	var wg sync.WaitGroup
	for _, acct := range b.accounts {
		queue := queues[acct.Name]
		if len(queue) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, t := range queue {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				if ctx.Err() != nil {
					<-sem
					return
				}
				b.env.log.Info("backfill: running date", "job", b.job.Name, "account", t.acct.Name, "date", t.date.String())
				s, err := b.run(ctx, t.acct, t.date)
				<-sem
				mu.Lock()
				t.summary, t.err, t.status = s, err, taskSucceeded
				if err != nil {
					t.status = taskFailed
					b.env.log.Error("backfill: date failed", "job", b.job.Name, "account", t.acct.Name, "date", t.date.String(), "error", err.Error())
				}
				finished++
				if b.display != nil {
					b.display.Tasks(label, skipped+finished, len(tasks), fmt.Sprintf("%s %s %s", t.date, t.acct.Name, t.status))
				} else {
					fmt.Fprintln(b.out, taskLine(t))
				}
				mu.Unlock()
				if err != nil && !b.keepGoing {
					return
				}
			}
		}()
	}
	wg.Wait()
}

func taskLine(t *task) string {
	switch t.status {
	case taskSucceeded:
		return fmt.Sprintf("%s %s: succeeded, %s rows in %s", t.date, t.acct.Name, progress.Count(rows(t.summary)), t.summary.Duration.Round(time.Millisecond))
	case taskFailed:
		return fmt.Sprintf("%s %s: failed: %v", t.date, t.acct.Name, t.err)
	}
	return fmt.Sprintf("%s %s: %s", t.date, t.acct.Name, t.status)
}

// plural returns "1 date", "2 dates".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func rows(s pipeline.Summary) int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.Rows
	}
	return n
}

// printSummary prints a table of the tasks and their counts by status.
func (b *backfill) printSummary(tasks []*task) {
	w := b.out
	fmt.Fprintf(w, "backfill %s %s..%s:\n", b.job.Name, b.from, b.to)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "date\taccount\tstatus\trows\tduration\trun\t")
	counts := map[string]int{}
	var total int64
	for _, t := range tasks {
		counts[t.status]++
		r, d, id := "", "", ""
		switch t.status {
		case taskSucceeded:
			r, d, id = progress.Count(rows(t.summary)), t.summary.Duration.Round(time.Millisecond).String(), t.summary.RunID
			total += rows(t.summary)
		case taskFailed:
			d, id = t.summary.Duration.Round(time.Millisecond).String(), t.summary.RunID
		case taskSkipped:
			id = "already succeeded"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", t.date, t.acct.Name, t.status, r, d, id)
	}
	tw.Flush()
	fmt.Fprintf(w, "%s × %s: %d succeeded (%s rows), %d skipped (already succeeded), %d failed, %d not run\n",
		plural(b.to.DaysSince(b.from)+1, "date"), plural(len(b.accounts), "account"), counts[taskSucceeded], progress.Count(total), counts[taskSkipped], counts[taskFailed], counts[taskNotRun])
	for _, t := range tasks {
		if t.status == taskFailed {
			fmt.Fprintf(w, "failed: %s %s: %v\n", t.date, t.acct.Name, t.err)
		}
	}
}
