package scheduler

import (
	"context"
	"slices"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/robfig/cron/v3"
)

// Success is the last successful run of a job on an account, as etl_runs
// records it.
type Success struct {
	BusinessDate civil.Date
	// Finished is when the run ended.
	Finished time.Time
}

// HistoryFunc returns the last success of each account of job that has
// one (runstatus.LastSuccesses).
type HistoryFunc func(ctx context.Context, job config.Job) (map[string]Success, error)

// missedDates returns the business dates of the runs sched had due after
// the run for last and at or before now, of the days days up to yesterday
// in the job's zone, oldest first. A run due at t is for the day before
// t's date; a date of today or later is never returned.
func missedDates(job config.Job, sched cron.Schedule, last civil.Date, now time.Time, days int) []civil.Date {
	if days <= 0 {
		return nil
	}
	tz := zone(job)
	today := civil.DateOf(now.In(tz))
	from := later(today.AddDays(-days), last.AddDays(1))
	// The first run that can be for from is due on the day after it.
	t := from.AddDays(1).In(tz).Add(-time.Second)
	var out []civil.Date
	for {
		if t = sched.Next(t); t.IsZero() || t.After(now) {
			return out
		}
		d := civil.DateOf(t.In(tz)).AddDays(-1)
		if !d.Before(today) {
			return out
		}
		if !d.Before(from) && (len(out) == 0 || out[len(out)-1] != d) {
			out = append(out, d)
		}
	}
}

// missedBefore reports whether sched had a run due for a date after last
// and before the catch-up window of days days up to yesterday, which the
// catch-up leaves to etl backfill; it returns the range of such dates.
func missedBefore(job config.Job, sched cron.Schedule, last civil.Date, now time.Time, days int) (from, to civil.Date, ok bool) {
	tz := zone(job)
	to = civil.DateOf(now.In(tz)).AddDays(-days - 1)
	from = last.AddDays(1)
	if to.Before(from) {
		return from, to, false
	}
	t := sched.Next(from.AddDays(1).In(tz).Add(-time.Second))
	return from, to, !t.IsZero() && t.Before(to.AddDays(2).In(tz)) && !t.After(now)
}

// later returns the later of a and b.
func later(a, b civil.Date) civil.Date {
	if a.After(b) {
		return a
	}
	return b
}

func zone(job config.Job) *time.Location {
	if job.Timezone == nil {
		return time.Local
	}
	return job.Timezone
}

// planned is one run of the start-up.
type planned struct {
	account string
	date    civil.Date
	kind    string
}

// startUp runs what the job has to run before its schedule goes on: the
// dates each account missed since its last success, then, with runNow,
// yesterday where the catch-up did not run it. The caller has claimed the
// job; startUp releases it.
func (e *entry) startUp(runNow bool) {
	defer e.release()
	e.guard(func() {
		last := e.history()
		requested := runNow
		// The catch-up repeats until nothing more is due, so that a tick
		// that came due (and was passed over) while it ran is run too.
		for {
			plan := e.plan(last, requested)
			requested = false
			if len(plan) == 0 {
				return
			}
			for _, p := range plan {
				if e.s.stopping.Load() {
					return
				}
				e.runAccount(p.kind, p.account, p.date, nil)
				last[p.account] = later(last[p.account], p.date)
			}
		}
	})
	if !e.s.stopping.Load() {
		e.s.log.Info("start-up runs done; the schedule goes on", "job", e.job.Name)
	}
}

// history reads the last success of each account, sets the metrics' last
// success times from it and returns its business dates. An account with no
// success has none; on an error there are none, and no catch-up.
func (e *entry) history() map[string]civil.Date {
	last := map[string]civil.Date{}
	if e.s.cfg.History == nil {
		return last
	}
	log := e.s.log.With("job", e.job.Name)
	succ, err := e.s.cfg.History(e.s.jobCtx, e.job)
	if err != nil {
		log.Error("could not read the last successes in etl_runs; no catch-up", "error", err.Error())
		return last
	}
	for _, acct := range e.job.Accounts {
		s, ok := succ[acct]
		if !ok {
			log.Info("no successful run in etl_runs yet; nothing to catch up", "account", acct)
			continue
		}
		last[acct] = s.BusinessDate
		if e.s.cfg.Metrics != nil {
			e.s.cfg.Metrics.SetLastSuccess(e.job.Name, acct, s.Finished)
		}
	}
	return last
}

// plan returns the runs due now, by date then account in the job's order:
// the missed dates of each account after last, and yesterday on every
// account if requested and not already among them.
func (e *entry) plan(last map[string]civil.Date, requested bool) []planned {
	now := e.s.now()
	sched, err := ParseSchedule(e.job)
	if err != nil { // New's caller parsed it already; be safe
		e.s.log.Error("no catch-up", "job", e.job.Name, "error", err.Error())
		sched = nil
	}
	var out []planned
	for _, acct := range e.job.Accounts {
		l, ok := last[acct]
		if !ok || sched == nil {
			continue
		}
		dates := missedDates(e.job, sched, l, now, e.job.CatchUpDays)
		if from, to, ok := missedBefore(e.job, sched, l, now, e.job.CatchUpDays); ok {
			e.s.log.Warn("missed dates beyond catch_up_days are not caught up; etl backfill runs them", "job", e.job.Name,
				"account", acct, "from", from.String(), "to", to.String(), "catch_up_days", e.job.CatchUpDays)
		}
		if len(dates) > 0 {
			e.s.log.Info("catching up", "job", e.job.Name, "account", acct, "last_success", l.String(),
				"dates", len(dates), "from", dates[0].String(), "to", dates[len(dates)-1].String(), "catch_up_days", e.job.CatchUpDays)
		}
		for _, d := range dates {
			out = append(out, planned{account: acct, date: d, kind: kindCatchUp})
		}
	}
	if requested {
		y := pipeline.Yesterday(e.job, now)
		for _, acct := range e.job.Accounts {
			if !slices.ContainsFunc(out, func(p planned) bool { return p.account == acct && p.date == y }) {
				out = append(out, planned{account: acct, date: y, kind: kindRequested})
			}
		}
	}
	order := func(acct string) int { return slices.Index(e.job.Accounts, acct) }
	slices.SortStableFunc(out, func(a, b planned) int {
		if c := a.date.Compare(b.date); c != 0 {
			return c
		}
		return order(a.account) - order(b.account)
	})
	return out
}
