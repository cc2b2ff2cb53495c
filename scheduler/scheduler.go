// Package scheduler runs jobs on their cron schedules in a long-running
// process (etl schedule), on github.com/robfig/cron/v3.
//
// Each job runs on its schedule in its own time zone. A run that comes due
// while the job's previous run is still going is skipped and logged, never
// queued. A panic in a run is recovered and logged, and the job's later runs
// happen as usual. When the context given to Run is cancelled (SIGTERM,
// SIGINT), the scheduler starts no more runs, lets the running ones finish
// for up to a grace period, then cancels their context and waits for them.
//
// When it starts, each job first catches up: it runs the business dates its
// schedule had due since the last success of each account in etl_runs, of
// the last catch_up_days days, oldest first (see catchup.go); then its
// schedule goes on. A run can also be requested at any time, with
// POST /run?job=NAME or etl schedule --run-now (see runnow.go).
//
// It serves /healthz, /metrics (Prometheus, from a registry of its own) and
// POST /run on a configurable address.
//
// Why not cron's own SkipIfStillRunning and Recover wrappers: in cron
// v3.0.1, SkipIfStillRunning hands its one token back only when the job
// returns, so a job that panics inside it (as with Recover(Skip(job))) never
// hands it back and every later run is skipped for the life of the process.
// The scheduler guards each job itself instead: the running flag is cleared
// by a deferred call that runs after the panic is recovered, whatever the
// job does.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
)

// JobFunc runs job on one account for one business date, once; the
// scheduler holds the account's run lock (see Config.Lock). Its context is
// cancelled when the scheduler stops and the grace period is over.
type JobFunc func(ctx context.Context, job config.Job, account string, date civil.Date) error

// LockFunc takes the run lock of job and account (jobrun.Runner.Lock, a
// runlock); its error matches runlock.ErrHeld when another run holds it.
type LockFunc func(job config.Job, account string) (unlock func(), err error)

// DefaultGrace is how long a stopping scheduler waits for running jobs
// before it cancels them, when Config.Grace is 0.
const DefaultGrace = 5 * time.Minute

// Config configures a Scheduler.
type Config struct {
	// Jobs are the jobs to run, each on its Schedule in its Timezone.
	Jobs []config.Job
	// Run runs one job on one account for one date.
	Run JobFunc
	// Lock takes the run lock of a job and account around each Run; nil
	// for no lock.
	Lock LockFunc
	// History returns the last successes in etl_runs, read once at start
	// for the catch-up and Metrics; nil for neither.
	History HistoryFunc
	// Metrics, when set, get the last success times History returns.
	Metrics *progress.Metrics
	// RunNow names jobs to run at start (yesterday, after their
	// catch-up), as --run-now does.
	RunNow []string
	// Now is the clock business dates are taken from; time.Now if nil.
	// The cron's ticks follow the real clock.
	Now    func() time.Time
	Logger *slog.Logger
	// Grace is how long Run waits for running jobs once its context is
	// cancelled, before it cancels theirs; DefaultGrace when 0.
	Grace time.Duration
	// Addr is where /healthz and /metrics are served, e.g. ":9090"; empty
	// for nowhere.
	Addr string
	// Listener, when set, serves /healthz and /metrics instead of Addr.
	Listener net.Listener
	// Registry receives the scheduler's metrics and is what /metrics
	// serves; register the run metrics in it too. A new registry when nil.
	Registry *prometheus.Registry
	// Parse, when set, turns a job's schedule into the cron.Schedule of its
	// ticks in place of the standard parser; tests use it for schedules
	// finer than jobs.yaml allows. Catch-up dates always follow the job's
	// own schedule.
	Parse func(job config.Job) (cron.Schedule, error)
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	cron     atomic.Pointer[cron.Cron] // set by Run
	entries  []*entry
	reg      *prometheus.Registry
	parse    func(job config.Job) (cron.Schedule, error)
	stopping atomic.Bool
	now      func() time.Time

	// mu orders the start of run goroutines (wg.Add) before Run's wait
	// for them once stopping.
	mu sync.Mutex
	wg sync.WaitGroup

	// jobCtx is the context of runs, set before the cron starts.
	jobCtx context.Context

	started, skipped, panics, catchUps *prometheus.CounterVec
	running                            *prometheus.GaugeVec
}

// New returns a scheduler of cfg's jobs. It fails if a job's schedule does
// not parse or two jobs have one name.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Run == nil {
		return nil, errors.New("scheduler: no JobFunc")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger, reg: reg, parse: ParseSchedule, now: cfg.Now}
	if cfg.Parse != nil {
		s.parse = cfg.Parse
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_scheduler_runs_started_total",
		Help: "Scheduled runs of a job that started."}, []string{"etl_job"})
	s.skipped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_scheduler_runs_skipped_total",
		Help: "Scheduled runs of a job skipped because its previous run was still running."}, []string{"etl_job"})
	s.panics = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_scheduler_panics_total",
		Help: "Runs of a job that panicked (recovered)."}, []string{"etl_job"})
	s.catchUps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_scheduler_catch_up_runs_total",
		Help: "Runs of a job on an account for a missed business date, run when the scheduler started."}, []string{"etl_job"})
	s.running = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledgerline_scheduler_running",
		Help: "1 while a run of the job is in progress."}, []string{"etl_job"})
	next := nextCollector{s: s, desc: prometheus.NewDesc("ledgerline_scheduler_next_run_timestamp_seconds",
		"Unix time of the next scheduled run of a job.", []string{"etl_job"}, nil)}
	for _, c := range []prometheus.Collector{s.started, s.skipped, s.panics, s.catchUps, s.running, next} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("scheduler: register metrics: %w", err)
		}
	}
	var names []string
	for _, job := range cfg.Jobs {
		if slices.Contains(names, job.Name) {
			return nil, fmt.Errorf("scheduler: job %s twice", job.Name)
		}
		names = append(names, job.Name)
		s.entries = append(s.entries, &entry{s: s, job: job})
		for _, c := range []*prometheus.CounterVec{s.started, s.skipped, s.panics, s.catchUps} {
			c.WithLabelValues(job.Name)
		}
		s.running.WithLabelValues(job.Name).Set(0)
	}
	for _, name := range cfg.RunNow {
		if s.entry(name) == nil {
			return nil, fmt.Errorf("scheduler: run now: %w", s.unknown(name))
		}
	}
	return s, nil
}

// entry returns the entry of the job called name; nil if there is none.
func (s *Scheduler) entry(name string) *entry {
	for _, e := range s.entries {
		if e.job.Name == name {
			return e
		}
	}
	return nil
}

// unknown is the error of a job name no entry has.
func (s *Scheduler) unknown(name string) error {
	var names []string
	for _, e := range s.entries {
		names = append(names, e.job.Name)
	}
	return fmt.Errorf("%w %q (jobs: %s)", ErrUnknownJob, name, strings.Join(names, ", "))
}

// spawn runs fn in a goroutine Run waits for when it stops; false, and no
// goroutine, once the scheduler is stopping.
func (s *Scheduler) spawn(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// stop marks the scheduler stopping: no more runs start.
func (s *Scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping.Store(true)
}

// ParseSchedule parses job's standard cron spec (or descriptor) in the
// job's time zone.
func ParseSchedule(job config.Job) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(job.Schedule)
	if err != nil {
		return nil, fmt.Errorf("scheduler: job %s: schedule %q: %w", job.Name, job.Schedule, err)
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok && job.Timezone != nil {
		spec.Location = job.Timezone
	}
	return sched, nil
}

// Registry returns the registry /metrics serves.
func (s *Scheduler) Registry() *prometheus.Registry { return s.reg }

// Run schedules the jobs until ctx is cancelled, then stops: it starts no
// more runs, waits up to the grace period for running ones, cancels them
// and waits for them to return. It returns an error if the schedules do not
// parse or the HTTP address cannot be listened on. Call it once.
func (s *Scheduler) Run(ctx context.Context) error {
	c := cron.New(cron.WithLogger(cronLogger{s.log}))
	for _, e := range s.entries {
		sched, err := s.parse(e.job)
		if err != nil {
			return err
		}
		e.id = c.Schedule(sched, e)
	}
	// The context of runs is set before anything can start one (POST /run
	// included).
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	s.jobCtx = jobCtx
	s.cron.Store(c)

	ln := s.cfg.Listener
	if ln == nil && s.cfg.Addr != "" {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
	}
	serveErr := make(chan error, 1)
	var srv *http.Server
	if ln != nil {
		srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { serveErr <- srv.Serve(ln) }()
		s.log.Info("serving /healthz and /metrics", "addr", ln.Addr().String())
	}

	s.startUps()
	c.Start()
	for _, e := range s.entries {
		s.log.Info("job scheduled", "job", e.job.Name, "schedule", e.job.Schedule, "timezone", tzName(e.job),
			"next", c.Entry(e.id).Next.Format(time.RFC3339), "catch_up_days", e.job.CatchUpDays)
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("scheduler: serving /healthz and /metrics: %w", err)
		s.log.Error("HTTP server failed; stopping", "error", err.Error())
	}
	s.stop()
	cronDone := c.Stop()
	done := make(chan struct{})
	go func() {
		<-cronDone.Done()
		s.wg.Wait()
		close(done)
	}()
	if s.busy() {
		s.log.Info("stopping: no more runs; waiting for running jobs", "grace", s.cfg.Grace.String())
	}
	grace := time.NewTimer(s.cfg.Grace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		s.log.Warn("grace period over; cancelling running jobs", "grace", s.cfg.Grace.String())
		cancelJobs()
		<-done
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	s.log.Info("scheduler stopped")
	return err
}

// startUps starts the catch-up (and --run-now) runs of each job. Each job
// is claimed before the cron starts, so that no tick runs before them.
func (s *Scheduler) startUps() {
	for _, e := range s.entries {
		if runNow := slices.Contains(s.cfg.RunNow, e.job.Name); s.cfg.History != nil || runNow {
			e.claim(kindCatchUp)
			s.spawn(func() { e.startUp(runNow) })
		}
	}
}

// busy reports whether a job is running.
func (s *Scheduler) busy() bool {
	for _, e := range s.entries {
		if ok, _, _ := e.inProgress(); ok {
			return true
		}
	}
	return false
}

func tzName(job config.Job) string {
	if job.Timezone == nil {
		return "Local"
	}
	return job.Timezone.String()
}

// Handler serves /healthz (200 while scheduling, 503 once stopping),
// /metrics and POST /run?job=NAME (see handleRun).
func (s *Scheduler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.stopping.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "stopping")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("POST /run", s.handleRun)
	return mux
}

// Kinds of run, as logs name them.
const (
	kindScheduled = "scheduled"
	kindCatchUp   = "catch-up"
	kindRequested = "requested"
)

// entry is one job in the cron: a cron.Job that guards against overlap and
// panics.
type entry struct {
	s   *Scheduler
	job config.Job
	id  cron.EntryID

	mu sync.Mutex
	// busy is set while a run of the job (of kind, since since) is in
	// progress.
	busy  bool
	kind  string
	since time.Time
}

// claim marks a run of kind in progress; false if one already is.
func (e *entry) claim(kind string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy {
		return false
	}
	e.busy, e.kind, e.since = true, kind, time.Now()
	e.s.running.WithLabelValues(e.job.Name).Set(1)
	return true
}

// release ends the run claim started.
func (e *entry) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.busy = false
	e.s.running.WithLabelValues(e.job.Name).Set(0)
}

// inProgress reports whether a run is in progress, of which kind and since
// when.
func (e *entry) inProgress() (bool, string, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy, e.kind, e.since
}

// Run runs the job for yesterday on each of its accounts, unless a run of
// the job is in progress. The claim is released last, after a panic is
// recovered, so a panic cannot lock the job out.
func (e *entry) Run() {
	name := e.job.Name
	log := e.s.log.With("job", name)
	if !e.claim(kindScheduled) {
		if _, kind, since := e.inProgress(); kind == kindCatchUp {
			// The catch-up runs this date too once it has run the older ones.
			log.Info("catch-up still running; the run due now follows it", "since", since.Format(time.RFC3339))
		} else {
			e.s.skipped.WithLabelValues(name).Inc()
			log.Warn("previous run still running; this run is skipped", "running", kind, "since", since.Format(time.RFC3339))
		}
		return
	}
	defer e.release()
	e.s.started.WithLabelValues(name).Inc()
	e.guard(func() {
		date := pipeline.Yesterday(e.job, e.s.now())
		for _, acct := range e.job.Accounts {
			e.runAccount(kindScheduled, acct, date, nil)
		}
	})
}

// guard runs fn, recovering and logging a panic.
func (e *entry) guard(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			e.s.panics.WithLabelValues(e.job.Name).Inc()
			e.s.log.Error("run panicked; later runs will go on", "job", e.job.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	fn()
}

// runAccount runs the job on account for date under the account's run
// lock: unlock when the caller already holds it, else taken here. It logs
// the run, and reports whether it succeeded.
func (e *entry) runAccount(kind, account string, date civil.Date, unlock func()) bool {
	log := e.s.log.With("job", e.job.Name, "account", account, "business_date", date.String())
	if kind == kindCatchUp {
		log = log.With("catch_up", true)
		e.s.catchUps.WithLabelValues(e.job.Name).Inc()
	}
	if unlock == nil {
		var err error
		if unlock, err = e.s.lock(e.job, account); err != nil {
			log.Error(kind+" run not started", "error", err.Error())
			return false
		}
	}
	defer unlock()
	start := time.Now()
	log.Info(kind + " run starting")
	if err := e.s.cfg.Run(e.s.jobCtx, e.job, account, date); err != nil {
		log.Error(kind+" run failed", "error", err.Error(), "duration", time.Since(start).String())
		return false
	}
	log.Info(kind+" run done", "duration", time.Since(start).String())
	return true
}

// lock takes the run lock of job and account with Config.Lock, if set.
func (s *Scheduler) lock(job config.Job, account string) (func(), error) {
	if s.cfg.Lock == nil {
		return func() {}, nil
	}
	unlock, err := s.cfg.Lock(job, account)
	if err != nil {
		return nil, err
	}
	return sync.OnceFunc(unlock), nil
}

// nextCollector exports each job's next run time, read from the cron when
// scraped.
type nextCollector struct {
	s    *Scheduler
	desc *prometheus.Desc
}

func (n nextCollector) Describe(ch chan<- *prometheus.Desc) { ch <- n.desc }

func (n nextCollector) Collect(ch chan<- prometheus.Metric) {
	c := n.s.cron.Load()
	if c == nil || n.s.stopping.Load() {
		return
	}
	for _, e := range n.s.entries {
		if next := c.Entry(e.id).Next; !next.IsZero() {
			ch <- prometheus.MustNewConstMetric(n.desc, prometheus.GaugeValue, float64(next.Unix()), e.job.Name)
		}
	}
}

// cronLogger sends cron's own messages to slog: its chatter at debug level,
// its errors as errors.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	l.log.Debug("cron: "+msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err.Error())...)
}
