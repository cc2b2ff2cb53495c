package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/jobrun"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/reportjob"
	"github.com/ledgerline/ledgerline/runstatus"
	"github.com/ledgerline/ledgerline/scheduler"
	"github.com/prometheus/client_golang/prometheus"
)

// runner returns the runner of the commands that run jobs (run, schedule,
// backfill): logging to log, the run locks in lockDir (if set) held by
// command.
func (c *cli) runner(log *slog.Logger, lockDir, command string) jobrun.Runner {
	return jobrun.Runner{Log: log, LockDir: lockDir, Command: command, Version: version, Now: c.now}
}

// jobNames is a repeatable flag of job names.
type jobNames []string

func (j *jobNames) String() string { return strings.Join(*j, ",") }

func (j *jobNames) Set(s string) error {
	*j = append(*j, s)
	return nil
}

func (c *cli) schedule(ctx context.Context, args []string) int {
	fs := c.flagSet("schedule")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	addr := fs.String("addr", "", "serve /healthz, /metrics and POST /run?job=NAME on `address`, e.g. :9090 (default: metrics.listen of jobs.yaml, else nowhere)")
	grace := fs.Duration("grace", scheduler.DefaultGrace, "on SIGTERM or SIGINT, how long running jobs may finish before they are cancelled")
	lockDirFlag := fs.String("lock-dir", "", "`directory` of the run locks (default: lock_dir of jobs.yaml, else .locks in a local warehouse, else under the temporary directory)")
	var only jobNames
	fs.Var(&only, "job", "schedule only the job `name` (repeatable; default: every job)")
	var runNow jobNames
	fs.Var(&runNow, "run-now", "at start, after its catch-up, run the job `name` for yesterday (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl schedule: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	// Flags win over jobs.yaml.
	if *addr == "" {
		*addr = f.Metrics.Listen
	}
	if *lockDirFlag == "" {
		*lockDirFlag = f.LockDir
	}
	jobs := f.Jobs
	if len(only) > 0 {
		jobs = nil
		for _, name := range only {
			job, ok := f.Job(name)
			if !ok {
				fmt.Fprintf(c.stderr, "etl schedule: no job %q in %s\n", name, *path)
				return exitUsage
			}
			jobs = append(jobs, job)
		}
	}
	log := c.logger()
	reg := prometheus.NewRegistry()
	metrics, err := progress.NewMetrics(reg)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl schedule: %v\n", err)
		return exitFailed
	}
	r := c.runner(log, *lockDirFlag, "etl schedule")
	r.Metrics = metrics
	lock, run := c.scheduleFuncs(f, r, log)
	s, err := scheduler.New(scheduler.Config{Jobs: jobs, Run: run, Lock: lock, History: runstatus.LastSuccesses, Metrics: metrics,
		RunNow: runNow, Now: c.clock, Logger: log, Grace: *grace, Addr: *addr, Registry: reg, Parse: c.scheduleParse})
	if err != nil {
		fmt.Fprintf(c.stderr, "etl schedule: %v\n", err)
		return exitUsage
	}
	if err := s.Run(ctx); err != nil {
		fmt.Fprintf(c.stderr, "etl schedule: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// scheduleFuncs returns what etl schedule runs with: the run lock of a job
// and account, and a run of a job on an account for a date (then its
// reports), by r.
func (c *cli) scheduleFuncs(f *config.File, r jobrun.Runner, log *slog.Logger) (scheduler.LockFunc, scheduler.JobFunc) {
	lock := func(job config.Job, account string) (func(), error) {
		acct, _ := f.Account(account) // validated by config.Load
		l, err := r.Lock(job, acct)
		if err != nil {
			return nil, err
		}
		return func() { l.Release() }, nil
	}
	run := func(ctx context.Context, job config.Job, account string, date civil.Date) error {
		acct, _ := f.Account(account)
		if _, err := r.Run(ctx, job, acct, date); err != nil {
			return err
		}
		if err := c.jobReports(ctx, log, job, acct, date, reportjob.Dir("", f)); err != nil {
			return fmt.Errorf("accounting report: %w", err)
		}
		return nil
	}
	return lock, run
}
