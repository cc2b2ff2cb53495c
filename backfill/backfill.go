// Package backfill plans and runs a job over a range of business dates:
// which dates of which accounts to run, skipping the dates that already
// succeeded (as etl_runs at the job's destination records them) unless
// forced, and running up to a number of accounts at once, the dates of
// each account one at a time and in order, so that a backfill interrupted
// and run again resumes where it stopped.
package backfill

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/pipeline"
)

// MaxParallel is the most accounts a backfill runs at once.
const MaxParallel = 64

// Status is where a task stands.
type Status string

// Statuses of a backfill's tasks.
const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	// Skipped: the date already succeeded, and the backfill is not forced.
	Skipped Status = "skipped"
	// NotRun: the task was not started, after a failed date of its account
	// or because the backfill was cancelled.
	NotRun Status = "not run"
)

// Task is one date of one account.
type Task struct {
	Date    civil.Date
	Account config.Account
	Status  Status
	// Summary and Err are the run's, once it has run.
	Summary pipeline.Summary
	Err     error
}

// RunFunc runs one date of one account. The caller of the backfill holds
// the run locks.
type RunFunc func(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error)

// ProgressFunc hears a backfill's progress: done of the total tasks to run
// have finished. Tasks skipped (already succeeded) are in neither, so that
// done counts only dates this backfill finished. Execute calls it once
// before any run, with t nil and done 0, and after each finished task;
// never two calls at once.
type ProgressFunc func(done, total int, t *Task)

// Backfill is the runs of a job over a range of dates.
type Backfill struct {
	Job      config.Job
	Accounts []config.Account
	// From and To are the first and last business dates, inclusive.
	From, To civil.Date
	// Parallel is how many accounts run at once; at least 1.
	Parallel int
	// Force reruns dates that already succeeded.
	Force bool
	// KeepGoing starts the later dates of an account after a failed one.
	KeepGoing bool
	// Run runs one date of one account.
	Run RunFunc
	// Log gets a line per date started and failed; slog.Default() if nil.
	Log *slog.Logger
	// Progress hears the progress; nil for nothing.
	Progress ProgressFunc
}

// Plan returns the backfill's tasks in order, date by date and account by
// account, those that already succeeded (as etl_runs records them)
// Skipped unless b.Force, the others NotRun.
func (b *Backfill) Plan(ctx context.Context) ([]*Task, error) {
	done := map[string]map[civil.Date]bool{}
	if !b.Force {
		for _, acct := range b.Accounts {
			d, err := SucceededDates(ctx, b.Job, acct)
			if err != nil {
				return nil, err
			}
			done[acct.Name] = d
		}
	}
	return Tasks(b.From, b.To, b.Accounts, done), nil
}

// Tasks returns the tasks of every date from..to (inclusive) of every
// account, date by date, in the order of accounts: Skipped when
// done[account name][date], else NotRun.
func Tasks(from, to civil.Date, accounts []config.Account, done map[string]map[civil.Date]bool) []*Task {
	var tasks []*Task
	for d := from; !d.After(to); d = d.AddDays(1) {
		for _, acct := range accounts {
			t := &Task{Date: d, Account: acct, Status: NotRun}
			if done[acct.Name][d] {
				t.Status = Skipped
			}
			tasks = append(tasks, t)
		}
	}
	return tasks
}

// SucceededDates returns the business dates that runs of job on acct
// committed successfully, as etl_runs at the job's destination records
// them. It is the backfill's one read of etl_runs.
func SucceededDates(ctx context.Context, job config.Job, acct config.Account) (map[civil.Date]bool, error) {
	reader, closeReader, err := pipeline.OpenWarehouse(ctx, job)
	if err != nil {
		return nil, err
	}
	defer closeReader()
	done, err := load.SucceededDates(ctx, reader, load.RunQuery{Merchant: acct.MerchantCode, Job: job.Name})
	if err != nil {
		return nil, fmt.Errorf("reading etl_runs: %w", err)
	}
	return done, nil
}

// Execute runs the tasks that are not Skipped and records their outcome
// in them. The dates of one account run one at a time, in order: each run
// reads what the previous date committed (the chargeback state, etl_runs)
// and replaces the partitions of its window, so runs of one account at
// once would leave the warehouse to whichever committed last and lose
// etl_runs rows. Up to b.Parallel accounts run at once. After a failed
// date an account starts no more (unless b.KeepGoing), and once ctx is
// cancelled none does; the tasks left stay NotRun.
func (b *Backfill) Execute(ctx context.Context, tasks []*Task) {
	skipped := 0
	queues := map[string][]*Task{}
	for _, t := range tasks {
		if t.Status == Skipped {
			skipped++
			continue
		}
		queues[t.Account.Name] = append(queues[t.Account.Name], t)
	}
	e := &execution{b: b, log: b.Log, total: len(tasks) - skipped, sem: make(chan struct{}, max(b.Parallel, 1))}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.report(nil)
	var wg sync.WaitGroup
	for _, acct := range b.Accounts {
		if queue := queues[acct.Name]; len(queue) > 0 {
			wg.Go(func() { e.account(ctx, queue) })
		}
	}
	wg.Wait()
}

// execution is one Execute.
type execution struct {
	b   *Backfill
	log *slog.Logger
	// sem holds a token per running account.
	sem chan struct{}
	mu  sync.Mutex // guards done, the tasks' results and Progress calls
	// done counts the tasks finished, of total to run.
	done, total int
}

// account runs the queue of one account's tasks in order.
func (e *execution) account(ctx context.Context, queue []*Task) {
	for _, t := range queue {
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if ctx.Err() != nil {
			<-e.sem
			return
		}
		e.log.Info("backfill: running date", "job", e.b.Job.Name, "account", t.Account.Name, "date", t.Date.String())
		s, err := e.b.Run(ctx, t.Account, t.Date)
		<-e.sem
		e.mu.Lock()
		t.Summary, t.Err, t.Status = s, err, Succeeded
		if err != nil {
			t.Status = Failed
			e.log.Error("backfill: date failed", "job", e.b.Job.Name, "account", t.Account.Name, "date", t.Date.String(), "error", err.Error())
		}
		e.done++
		e.report(t)
		e.mu.Unlock()
		if err != nil && !e.b.KeepGoing {
			return
		}
	}
}

func (e *execution) report(t *Task) {
	if e.b.Progress != nil {
		e.b.Progress(e.done, e.total, t)
	}
}

// Counts are the tasks of a backfill by status, and the rows the
// successful ones wrote.
type Counts struct {
	Succeeded, Failed, Skipped, NotRun int
	Rows                               int64
}

// Count counts tasks.
func Count(tasks []*Task) Counts {
	var c Counts
	for _, t := range tasks {
		switch t.Status {
		case Succeeded:
			c.Succeeded++
			c.Rows += Rows(t.Summary)
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		case NotRun:
			c.NotRun++
		}
	}
	return c
}

// Complete reports whether every task succeeded or was skipped.
func (c Counts) Complete() bool { return c.Failed == 0 && c.NotRun == 0 }

// Rows returns the rows a run wrote, over all its tables.
func Rows(s pipeline.Summary) int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.Rows
	}
	return n
}
