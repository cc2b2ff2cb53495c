// Package runstatus answers what operators ask of the run history in
// etl_runs: which runs ran, and where each job and account stands (its
// last success, how many days it lags, when it runs next, its last error).
// It reads through load.Runs, so it works on every destination.
package runstatus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/scheduler"
	"github.com/ledgerline/ledgerline/schemas"
)

// Run is a record of etl_runs as the CLI shows it, with the JSON names of
// the table's columns.
type Run struct {
	RunID        string           `json:"run_id"`
	Job          string           `json:"job"`
	Account      string           `json:"account"`
	MerchantCode string           `json:"merchant_code"`
	BusinessDate string           `json:"business_date"`
	WindowFrom   string           `json:"window_from,omitempty"`
	WindowTo     string           `json:"window_to,omitempty"`
	Status       string           `json:"status"`
	Error        string           `json:"error,omitempty"`
	StartedAt    time.Time        `json:"started_at"`
	FinishedAt   time.Time        `json:"finished_at"`
	DurationMS   int64            `json:"duration_ms"`
	Rows         map[string]int64 `json:"rows"`
	Rejected     int64            `json:"rejected"`
	Partitions   int64            `json:"partitions"`
	Version      string           `json:"version"`
}

// FromRecord returns the CLI's view of an etl_runs record.
func FromRecord(r schemas.Run) Run {
	out := Run{RunID: r.RunID, Job: r.Job, Account: r.Account, MerchantCode: r.MerchantCode,
		BusinessDate: r.BusinessDate.String(), Status: r.Status, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMS: r.DurationMS, Rejected: r.Rejected, Partitions: r.Files, Version: r.Version,
		Rows: map[string]int64{"orders": r.Orders, "order_items": r.OrderItems, "subscription_history": r.Subs, "chargebacks": r.Chargebacks}}
	if r.WindowFrom != nil {
		out.WindowFrom = r.WindowFrom.String()
	}
	if r.WindowTo != nil {
		out.WindowTo = r.WindowTo.String()
	}
	if r.Error != nil {
		out.Error = *r.Error
	}
	return out
}

// Query selects the runs List returns; empty fields select any.
type Query struct {
	Job     string
	Account string
	// Since leaves out runs that started (UTC) before it.
	Since civil.Date
}

// List returns the runs of the jobs of f that q selects, read from each
// job's warehouse, in the order they started.
func List(ctx context.Context, f *config.File, q Query) ([]Run, error) {
	var out []Run
	for _, job := range f.Jobs {
		if q.Job != "" && job.Name != q.Job {
			continue
		}
		runs, err := jobRuns(ctx, job, load.RunQuery{Job: job.Name, Account: q.Account, StartedFrom: q.Since})
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			out = append(out, FromRecord(r))
		}
	}
	sortRuns(out)
	return out, nil
}

// jobRuns reads the runs q selects from job's warehouse.
func jobRuns(ctx context.Context, job config.Job, q load.RunQuery) ([]schemas.Run, error) {
	wh, closeWH, err := pipeline.OpenWarehouse(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	defer closeWH()
	runs, err := load.Runs(ctx, wh, q)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	return runs, nil
}

// Status is where one job and account stand.
type Status struct {
	Job     string `json:"job"`
	Account string `json:"account"`
	// LastSuccess is the last run that succeeded, by business date; nil
	// without one.
	LastSuccess *Run `json:"last_success"`
	// LagDays is how many business dates the last success is behind the
	// latest one a run may cover (yesterday in the job's time zone); -1
	// without a success.
	LagDays int `json:"lag_days"`
	// Next is the job's next scheduled start; nil for a job without a
	// schedule.
	Next *time.Time `json:"next_run"`
	// LastError is the last run that failed or was abandoned after the
	// last success started; nil when none did.
	LastError *Run `json:"last_error"`
}

// Statuses returns the status of every job and account of f (of job only,
// when it is not empty) at now.
func Statuses(ctx context.Context, f *config.File, job string, now time.Time) ([]Status, error) {
	var out []Status
	for _, j := range f.Jobs {
		if job != "" && j.Name != job {
			continue
		}
		runs, err := jobRuns(ctx, j, load.RunQuery{Job: j.Name})
		if err != nil {
			return nil, err
		}
		st, err := Of(j, runs, now)
		if err != nil {
			return nil, err
		}
		out = append(out, st...)
	}
	return out, nil
}

// Of returns the status of each account of job from its runs, in the order
// they started, at now.
func Of(job config.Job, runs []schemas.Run, now time.Time) ([]Status, error) {
	var next *time.Time
	if job.Schedule != "" {
		sched, err := scheduler.ParseSchedule(job)
		if err != nil {
			return nil, err
		}
		t := sched.Next(now)
		next = &t
	}
	latest := pipeline.Yesterday(job, now)
	var out []Status
	for _, acct := range job.Accounts {
		st := Status{Job: job.Name, Account: acct, LagDays: -1, Next: next}
		success := lastSuccess(runs, acct)
		if success != nil {
			v := FromRecord(*success)
			st.LastSuccess = &v
			st.LagDays = max(latest.DaysSince(success.BusinessDate), 0)
		}
		for i := range runs {
			r := &runs[i]
			if r.Account != acct || r.Status == load.StatusSucceeded || success != nil && r.StartedAt.Before(success.StartedAt) {
				continue
			}
			v := FromRecord(*r)
			st.LastError = &v // runs are in start order: the last one wins
		}
		out = append(out, st)
	}
	return out, nil
}

// lastSuccess returns the successful run of acct in runs with the latest
// business date (of two, the later started); nil without one.
func lastSuccess(runs []schemas.Run, acct string) *schemas.Run {
	var success *schemas.Run
	for i := range runs {
		r := &runs[i]
		if r.Account != acct || r.Status != load.StatusSucceeded {
			continue
		}
		if success == nil || r.BusinessDate.After(success.BusinessDate) ||
			r.BusinessDate == success.BusinessDate && r.StartedAt.After(success.StartedAt) {
			success = r
		}
	}
	return success
}

// LastSuccesses returns the last success of each account of job that has
// one, read from etl_runs at the job's destination: what etl schedule
// catches up from and shows in /metrics when it starts.
func LastSuccesses(ctx context.Context, job config.Job) (map[string]scheduler.Success, error) {
	runs, err := jobRuns(ctx, job, load.RunQuery{Job: job.Name, Status: load.StatusSucceeded})
	if err != nil {
		return nil, err
	}
	out := map[string]scheduler.Success{}
	for _, acct := range job.Accounts {
		if r := lastSuccess(runs, acct); r != nil {
			out[acct] = scheduler.Success{BusinessDate: r.BusinessDate, Finished: r.FinishedAt}
		}
	}
	return out, nil
}

// sortRuns orders runs by start, then run id.
func sortRuns(runs []Run) {
	slices.SortFunc(runs, func(a, b Run) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.RunID, b.RunID)
	})
}
