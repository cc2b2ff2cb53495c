package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/destinations"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runlock"
	"github.com/ledgerline/ledgerline/scheduler"
	"github.com/prometheus/client_golang/prometheus"
)

// runEnv is what the commands that run jobs (run, schedule, backfill)
// share around pipeline.RunAccount.
type runEnv struct {
	log *slog.Logger
	// lockDir overrides the default lock directory of each job.
	lockDir string
	// metrics records each run; nil for none.
	metrics *progress.Metrics
	// observer hears each run's progress (a terminal display); nil for none.
	observer pipeline.Observer
	// command names the holder of the run locks, e.g. "etl run nightly".
	command string
}

// lockDir returns the directory of job's run locks: the override, or the
// default of the job's kind of destination (see destinations.LockDir).
func lockDir(override string, job config.Job) (string, error) {
	if override != "" {
		return override, nil
	}
	return destinations.LockDir(job.Destination)
}

// lock takes the run lock of job and account acct; errors.Is(err,
// runlock.ErrHeld) when another run holds it.
func (e runEnv) lock(job config.Job, acct config.Account) (*runlock.Lock, error) {
	host, _ := os.Hostname()
	dir, err := lockDir(e.lockDir, job)
	if err != nil {
		return nil, err
	}
	return runlock.Acquire(dir, job.Name, acct.Name, runlock.Holder{Host: host, Command: e.command})
}

// runAccount runs job on acct for date, with the env's observer and
// metrics. The caller holds the run lock.
func (c *cli) runAccount(ctx context.Context, e runEnv, job config.Job, acct config.Account, date civil.Date) (pipeline.Summary, error) {
	var obs pipeline.Observer
	if e.metrics != nil {
		obs = progress.Tee(e.observer, e.metrics.Observer(job.Name))
	} else if e.observer != nil {
		obs = e.observer
	}
	s, err := pipeline.RunAccount(ctx, job, acct, date, pipeline.Options{Logger: e.log, Version: version, Now: c.now, Observer: obs})
	if e.metrics != nil {
		e.metrics.RunDone(job.Name, acct.Name, s, err, c.clock())
	}
	return s, err
}

// runLocked runs job on acct for date under the run lock of the job and
// account.
func (c *cli) runLocked(ctx context.Context, e runEnv, job config.Job, acct config.Account, date civil.Date) (pipeline.Summary, error) {
	l, err := e.lock(job, acct)
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer l.Release()
	return c.runAccount(ctx, e, job, acct, date)
}

// pushMetrics pushes the metrics of job's runs to the Pushgateway at url,
// if any; a failed push is logged, and does not fail the run.
func pushMetrics(ctx context.Context, e runEnv, url, job string) {
	if url == "" || e.metrics == nil {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := e.metrics.Push(pctx, url, job); err != nil {
		e.log.Warn("could not push metrics", "job", job, "pushgateway", url, "error", err.Error())
	}
}

// jobNames is a repeatable flag of job names.
type jobNames []string

func (j *jobNames) String() string { return strings.Join(*j, ",") }

func (j *jobNames) Set(s string) error {
	*j = append(*j, s)
	return nil
}

func (c *cli) schedule(ctx context.Context, args []string) int {
	const synopsis = "etl schedule [-c jobs.yaml] [--addr :9090] [--grace 5m] [--job NAME]... [--lock-dir DIR]"
	fs := c.flagSet("schedule", synopsis)
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	addr := fs.String("addr", "", "serve /healthz and /metrics on `address`, e.g. :9090 (default: nowhere)")
	grace := fs.Duration("grace", scheduler.DefaultGrace, "on SIGTERM or SIGINT, how long running jobs may finish before they are cancelled")
	lockDirFlag := fs.String("lock-dir", "", "`directory` of the run locks (default: .locks in a local warehouse, else under the temporary directory)")
	var only jobNames
	fs.Var(&only, "job", "schedule only the job `name` (repeatable; default: every job)")
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl schedule: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	f, ok := c.load(*path)
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
	env := runEnv{log: log, lockDir: *lockDirFlag, metrics: metrics, command: "etl schedule"}
	run := func(ctx context.Context, job config.Job) error {
		date := pipeline.Yesterday(job, c.clock())
		var errs []error
		for _, name := range job.Accounts {
			acct, _ := f.Account(name) // validated by config.Load
			if _, err := c.runLocked(ctx, env, job, acct, date); err != nil {
				errs = append(errs, fmt.Errorf("account %s, date %s: %w", acct.Name, date, err))
				continue
			}
			if err := c.jobReports(ctx, log, job, acct, date); err != nil {
				errs = append(errs, fmt.Errorf("account %s: accounting report: %w", acct.Name, err))
			}
		}
		return errors.Join(errs...)
	}
	s, err := scheduler.New(scheduler.Config{Jobs: jobs, Run: run, Logger: log, Grace: *grace, Addr: *addr, Registry: reg})
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
