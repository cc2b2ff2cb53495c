package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/destinations"
)

// Options are what a run of a job needs besides the job and account.
type Options struct {
	Logger  *slog.Logger
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Observer hears the run's progress; nil for none.
	Observer Observer
	// FullRefresh reads every subscription, whenever the last full read
	// (etl run --full-refresh).
	FullRefresh bool
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Observer hears how a run progresses, for progress displays and metrics.
// Its methods are called from one goroutine at a time.
type Observer interface {
	// Page is called after each page of records of stream is processed.
	Page(account, stream string, records int)
}

// DayObserver is an Observer that also hears how far a stream read one API
// day at a time (orders) has got: done of its total days, for a progress
// display's days done and ETA. Observers need not implement it.
type DayObserver interface {
	Observer
	// Days is called before the stream's first day with done 0, and after
	// each day is read, days in order.
	Days(account, stream string, done, total int)
}

// Yesterday returns the default business date of job at now: yesterday in
// the job's time zone.
func Yesterday(job config.Job, now time.Time) civil.Date {
	return civil.DateOf(now.In(job.Timezone)).AddDays(-1)
}

// DefaultRunTimeout bounds a run of a job that sets no run_timeout: long
// enough for a large backfilled window at the default request rate, short
// enough that a stuck night is over before the next one.
const DefaultRunTimeout = 4 * time.Hour

// ErrRunTimeout is the cause of a run ended by its job's run_timeout.
var ErrRunTimeout = errors.New("run_timeout exceeded")

// failureRecordTimeout bounds the recording of a failed run in etl_runs,
// which may wait for the account's lock behind another job's run.
const failureRecordTimeout = 2 * time.Minute

// RunAccount runs job on account acct for business date date: it opens the
// account's source and the job's warehouse, executes the run and, if it
// fails, records the failure in etl_runs.
//
// The run begins at the warehouse before it reads the account's committed
// state (the chargebacks and their rates). A local warehouse holds the
// account's lock from Begin to the commit; a BigQuery commit is refused
// (bigquery.ErrStateConflict) if another run of the account committed
// since this one began. Two runs on one account, of different jobs or
// dates, then give the result of one serial order, or one of them fails
// and is recorded failed.
func RunAccount(ctx context.Context, job config.Job, acct config.Account, date civil.Date, o Options) (s Summary, err error) {
	timeout := job.RunTimeout
	if timeout <= 0 {
		timeout = DefaultRunTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("job %s, account %s: %w (%s)", job.Name, acct.Name, ErrRunTimeout, timeout))
	defer cancel()
	defer func() {
		// Whatever step the deadline stopped, say why it stopped.
		if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrRunTimeout) && !errors.Is(err, ErrRunTimeout) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}()
	runID := NewRunID(o.now())
	src, closeSrc, err := OpenSource(ctx, acct, date, job.Timezone, o.Logger)
	if err != nil {
		return Summary{}, err
	}
	defer closeSrc()
	wh, err := destinations.Open(ctx, job.Destination)
	if err != nil {
		return Summary{}, fmt.Errorf("job %s: %w", job.Name, err)
	}
	defer wh.Close()
	dest, err := wh.Begin(ctx, acct.MerchantCode, runID)
	if err != nil {
		return Summary{}, fmt.Errorf("job %s: %w", job.Name, err)
	}
	r := &Run{ID: runID, Job: job, Account: acct, Date: date, Source: src, Destination: dest,
		Warehouse: wh, Logger: o.Logger, Now: o.Now, Version: o.Version, Observer: o.Observer, FullRefresh: o.FullRefresh}
	s, err = r.Execute(ctx)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrRunTimeout) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		// The data stays as it was; the failure itself is recorded, even
		// when ctx is done, waiting a bounded time for the account's lock.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), failureRecordTimeout)
		defer cancel()
		rec, oerr := wh.Begin(fctx, acct.MerchantCode, runID+".failure")
		if oerr == nil {
			oerr = RecordFailure(fctx, r, rec, s, err)
		}
		if oerr != nil {
			o.Logger.Error("could not record the failed run in etl_runs", "run_id", runID, "error", oerr.Error())
		}
	}
	return s, err
}

// OpenWarehouse opens a reader of what is committed at job's destination,
// and a function that releases it. It creates nothing; a local warehouse
// that does not exist yet reads as empty.
func OpenWarehouse(ctx context.Context, job config.Job) (load.Reader, func() error, error) {
	w, err := destinations.Open(ctx, job.Destination)
	if err != nil {
		return nil, nil, fmt.Errorf("job %s: %w", job.Name, err)
	}
	return w, w.Close, nil
}

// NewRunID returns a sortable, unique run id: UTC start time and 4 random
// bytes.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
