// Package jobrun runs a job on one account for one business date as the
// etl commands (run, schedule, backfill) do: under the run lock of the job
// and account, with the run's progress going to an observer and its
// outcome to metrics.
package jobrun

import (
	"context"
	"log/slog"
	"os"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/destinations"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runlock"
)

// Runner runs jobs. The zero Runner runs them with the default logger,
// lock directory and clock, and no observer or metrics.
type Runner struct {
	// Log gets the runs' logs; slog.Default() if nil.
	Log *slog.Logger
	// LockDir overrides the default lock directory of each job (see
	// [LockDir]).
	LockDir string
	// Metrics records each run; nil for none.
	Metrics *progress.Metrics
	// Observer hears each run's progress (a terminal display); nil for none.
	Observer pipeline.Observer
	// Command names the holder of the run locks, e.g. "etl run nightly".
	Command string
	// Version is the ledgerline version recorded in etl_runs.
	Version string
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// FullRefresh reads every subscription (etl run --full-refresh).
	FullRefresh bool
}

// LockDir returns the directory of job's run locks: override if set (the
// --lock-dir flag or lock_dir in jobs.yaml), else the default of the job's
// kind of destination (see destinations.LockDir).
func LockDir(override string, job config.Job) (string, error) {
	if override != "" {
		return override, nil
	}
	return destinations.LockDir(job.Destination)
}

// Lock takes the run lock of job and account acct; errors.Is(err,
// runlock.ErrHeld) when another run holds it.
func (r Runner) Lock(job config.Job, acct config.Account) (*runlock.Lock, error) {
	host, _ := os.Hostname()
	dir, err := LockDir(r.LockDir, job)
	if err != nil {
		return nil, err
	}
	return runlock.Acquire(dir, job.Name, acct.Name, runlock.Holder{Host: host, Command: r.Command})
}

// Run runs job on acct for date, with the runner's observer and metrics.
// The caller holds the run lock.
func (r Runner) Run(ctx context.Context, job config.Job, acct config.Account, date civil.Date) (pipeline.Summary, error) {
	var obs pipeline.Observer
	if r.Metrics != nil {
		obs = progress.Tee(r.Observer, r.Metrics.Observer(job.Name))
	} else if r.Observer != nil {
		obs = r.Observer
	}
	s, err := pipeline.RunAccount(ctx, job, acct, date, pipeline.Options{Logger: r.log(), Version: r.Version, Now: r.Now, Observer: obs, FullRefresh: r.FullRefresh})
	if r.Metrics != nil {
		r.Metrics.RunDone(job.Name, acct.Name, s, err, r.now())
	}
	return s, err
}

// RunLocked runs job on acct for date under the run lock of the job and
// account; errors.Is(err, runlock.ErrHeld), and no run, when another run
// holds it.
func (r Runner) RunLocked(ctx context.Context, job config.Job, acct config.Account, date civil.Date) (pipeline.Summary, error) {
	l, err := r.Lock(job, acct)
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer l.Release()
	return r.Run(ctx, job, acct, date)
}

// PushMetrics pushes the metrics of job's runs to the Pushgateway at url,
// if there are metrics and a url; a failed push is logged, and does not
// fail the run. It pushes even when ctx is cancelled, for up to 30 seconds.
func (r Runner) PushMetrics(ctx context.Context, url, job string) {
	if url == "" || r.Metrics == nil {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.Metrics.Push(pctx, url, job); err != nil {
		r.log().Warn("could not push metrics", "job", job, "pushgateway", url, "error", err.Error())
	}
}

func (r Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}
