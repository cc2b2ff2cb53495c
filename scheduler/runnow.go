package scheduler

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/runlock"
)

// Errors of RunNow, matched with errors.Is.
var (
	ErrUnknownJob = errors.New("no job")
	ErrRunning    = errors.New("a run is in progress")
	ErrStopping   = errors.New("the scheduler is not running")
)

// RunNow starts a run of the job called name for yesterday (in the job's
// zone) on each of its accounts, as its schedule would, and returns the
// date. It returns once the run locks of every account are held, so that a
// run in progress, here or in another process (etl run), is an ErrRunning
// and not a failure in the log. Call it while Run runs.
func (s *Scheduler) RunNow(name string) (civil.Date, error) {
	e := s.entry(name)
	if e == nil {
		return civil.Date{}, s.unknown(name)
	}
	if s.cron.Load() == nil || s.stopping.Load() {
		return civil.Date{}, ErrStopping
	}
	if !e.claim(kindRequested) {
		_, kind, since := e.inProgress()
		return civil.Date{}, fmt.Errorf("job %s: %w: a %s run, since %s", name, ErrRunning, kind, since.UTC().Format(time.RFC3339))
	}
	date := pipeline.Yesterday(e.job, s.now())
	var unlocks []func()
	unlockAll := func() {
		for _, u := range unlocks {
			u()
		}
	}
	for _, acct := range e.job.Accounts {
		u, err := s.lock(e.job, acct)
		if err != nil {
			unlockAll()
			e.release()
			if errors.Is(err, runlock.ErrHeld) {
				return civil.Date{}, fmt.Errorf("%w: %w", ErrRunning, err)
			}
			return civil.Date{}, fmt.Errorf("job %s, account %s: run lock: %w", name, acct, err)
		}
		unlocks = append(unlocks, u)
	}
	ok := s.spawn(func() {
		defer e.release()
		defer unlockAll() // the locks of accounts a panic left unrun
		e.s.started.WithLabelValues(name).Inc()
		e.guard(func() {
			for i, acct := range e.job.Accounts {
				e.runAccount(kindRequested, acct, date, unlocks[i])
			}
		})
	})
	if !ok {
		unlockAll()
		e.release()
		return civil.Date{}, ErrStopping
	}
	return date, nil
}

// handleRun serves POST /run?job=NAME: 202 when the run started, 404 for
// an unknown job, 409 while a run of the job is in progress, 503 once
// stopping. GET is 405 (by the mux's method pattern).
func (s *Scheduler) handleRun(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	name := r.URL.Query().Get("job")
	if name == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "missing job: POST /run?job=NAME")
		return
	}
	date, err := s.RunNow(name)
	code := http.StatusAccepted
	switch {
	case err == nil:
	case errors.Is(err, ErrUnknownJob):
		code = http.StatusNotFound
	case errors.Is(err, ErrRunning):
		code = http.StatusConflict
	case errors.Is(err, ErrStopping):
		code = http.StatusServiceUnavailable
	default:
		code = http.StatusInternalServerError
	}
	log := s.log.With("job", name, "remote", r.RemoteAddr, "status", code)
	if err != nil {
		log.Warn("run requested over HTTP: not started", "error", err.Error())
		w.WriteHeader(code)
		fmt.Fprintln(w, err)
		return
	}
	log.Info("run requested over HTTP: started", "business_date", date.String())
	w.WriteHeader(code)
	fmt.Fprintf(w, "started job %s for %s on %s\n", name, date, strings.Join(s.entry(name).job.Accounts, ", "))
}
