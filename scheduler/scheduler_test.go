package scheduler

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/robfig/cron/v3"
)

// every is a schedule firing every d, shorter than cron's one second.
type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// syncBuffer is a log buffer safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a scheduler of one job "a" firing every tick with fn, and
// returns it, its log, and a stop function that cancels Run's context and
// waits for Run to return, returning how long that took.
func start(t *testing.T, tick time.Duration, grace time.Duration, fn JobFunc) (s *Scheduler, logs *syncBuffer, stop func() time.Duration) {
	t.Helper()
	logs = &syncBuffer{}
	s, err := New(Config{
		Jobs:   []config.Job{{Name: "a", Schedule: "@every 1s", Timezone: time.UTC, Accounts: []string{"x"}}},
		Run:    fn,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Grace:  grace,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.parse = func(config.Job) (cron.Schedule, error) { return every(tick), nil }
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var took time.Duration
	stop = func() time.Duration {
		once.Do(func() {
			t0 := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
			took = time.Since(t0)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return s, logs, stop
}

// waitFor polls cond until it holds, failing the test after 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFires(t *testing.T) {
	var runs atomic.Int32
	var gotJob atomic.Value
	s, _, stop := start(t, 20*time.Millisecond, time.Second, func(ctx context.Context, job config.Job, _ string, _ civil.Date) error {
		gotJob.Store(job.Name)
		runs.Add(1)
		return nil
	})
	waitFor(t, "three runs", func() bool { return runs.Load() >= 3 })
	stop()
	n := runs.Load()
	time.Sleep(60 * time.Millisecond)
	if runs.Load() != n {
		t.Errorf("runs went on after stop: %d then %d", n, runs.Load())
	}
	if gotJob.Load() != "a" {
		t.Errorf("job = %v", gotJob.Load())
	}
	if got := testutil.ToFloat64(s.started.WithLabelValues("a")); got != float64(n) {
		t.Errorf("runs started metric = %v, want %d", got, n)
	}
}

func TestSkipsOverlappingRuns(t *testing.T) {
	release := make(chan struct{})
	var runs, concurrent, most atomic.Int32
	s, logs, stop := start(t, 10*time.Millisecond, time.Second, func(ctx context.Context, job config.Job, _ string, _ civil.Date) error {
		runs.Add(1)
		n := concurrent.Add(1)
		defer concurrent.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		<-release
		return nil
	})
	waitFor(t, "three skipped runs", func() bool { return testutil.ToFloat64(s.skipped.WithLabelValues("a")) >= 3 })
	if runs.Load() != 1 {
		t.Errorf("%d runs started while the first was running, want 1", runs.Load())
	}
	if !strings.Contains(logs.String(), "previous run still running; this run is skipped") || !strings.Contains(logs.String(), "job=a") {
		t.Errorf("skips are not logged with the job: %s", logs)
	}
	close(release)
	waitFor(t, "a run after the long one", func() bool { return runs.Load() >= 2 })
	stop()
	if most.Load() != 1 {
		t.Errorf("%d runs at once", most.Load())
	}
}

// TestSurvivesPanic: the first run panics; the scheduler recovers it, logs
// it, and the next tick runs the job again.
func TestSurvivesPanic(t *testing.T) {
	var runs atomic.Int32
	s, logs, stop := start(t, 20*time.Millisecond, time.Second, func(ctx context.Context, job config.Job, _ string, _ civil.Date) error {
		if runs.Add(1) == 1 {
			panic("boom")
		}
		return nil
	})
	waitFor(t, "runs after the panic", func() bool { return runs.Load() >= 3 })
	stop()
	if got := testutil.ToFloat64(s.panics.WithLabelValues("a")); got != 1 {
		t.Errorf("panics metric = %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.skipped.WithLabelValues("a")); got != 0 {
		t.Errorf("%v runs skipped after the panic", got)
	}
	if l := logs.String(); !strings.Contains(l, "run panicked; later runs will go on") || !strings.Contains(l, "panic=boom") {
		t.Errorf("panic not logged: %s", l)
	}
}

// TestPanicDoesNotLockTheJobOut calls the wrapped jobs directly, one after
// the other: a run that panics, then a run that must happen. With cron
// v3.0.1's own wrappers in the order Recover(SkipIfStillRunning(job)) the
// second run is skipped forever; the scheduler's entry runs it.
func TestPanicDoesNotLockTheJobOut(t *testing.T) {
	discard := cron.PrintfLogger(discardLogger{})
	tests := []struct {
		name     string
		wrap     func(s *Scheduler, run func()) cron.Job
		lockedIn bool // the second run happens
	}{
		{"scheduler entry", func(s *Scheduler, run func()) cron.Job {
			s.cfg.Run = func(context.Context, config.Job, string, civil.Date) error { run(); return nil }
			return &entry{s: s, job: config.Job{Name: "a", Timezone: time.UTC, Accounts: []string{"x"}}}
		}, true},
		{"cron Skip inside Recover (the trap)", func(_ *Scheduler, run func()) cron.Job {
			return cron.NewChain(cron.Recover(discard), cron.SkipIfStillRunning(discard)).Then(cron.FuncJob(run))
		}, false},
		{"cron Recover inside Skip", func(_ *Scheduler, run func()) cron.Job {
			return cron.NewChain(cron.SkipIfStillRunning(discard), cron.Recover(discard)).Then(cron.FuncJob(run))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{Run: func(context.Context, config.Job, string, civil.Date) error { return nil }, Jobs: []config.Job{{Name: "a"}}})
			if err != nil {
				t.Fatal(err)
			}
			s.jobCtx = t.Context()
			calls := 0
			j := tt.wrap(s, func() {
				calls++
				if calls == 1 {
					panic("boom")
				}
			})
			func() {
				defer func() { recover() }() // the trap lets nothing escape either; be safe
				j.Run()
			}()
			j.Run()
			if got := calls == 2; got != tt.lockedIn {
				t.Errorf("second run happened = %v, want %v", got, tt.lockedIn)
			}
		})
	}
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// TestDrainsOnCancel: a run in progress when the scheduler is stopped
// finishes within the grace period with its context intact, and no run
// starts after the stop.
func TestDrainsOnCancel(t *testing.T) {
	started := make(chan struct{}, 1)
	var runs atomic.Int32
	var ctxErr atomic.Value
	_, logs, stop := start(t, 20*time.Millisecond, 5*time.Second, func(ctx context.Context, job config.Job, _ string, _ civil.Date) error {
		if runs.Add(1) > 1 {
			return nil
		}
		started <- struct{}{}
		time.Sleep(200 * time.Millisecond)
		ctxErr.Store(ctx.Err() == nil)
		return nil
	})
	<-started
	took := stop()
	if runs.Load() != 1 {
		t.Errorf("%d runs, want 1 (no run starts once stopping)", runs.Load())
	}
	if ok, _ := ctxErr.Load().(bool); !ok {
		t.Error("the draining run's context was cancelled")
	}
	if took > 3*time.Second {
		t.Errorf("stop took %s", took)
	}
	if !strings.Contains(logs.String(), "waiting for running jobs") {
		t.Errorf("no drain message: %s", logs)
	}
}

// TestCancelsAfterGrace: a run that outlasts the grace period has its
// context cancelled, and Run waits for it to return.
func TestCancelsAfterGrace(t *testing.T) {
	started := make(chan struct{}, 1)
	var returned atomic.Bool
	const grace = 150 * time.Millisecond
	_, logs, stop := start(t, 20*time.Millisecond, grace, func(ctx context.Context, job config.Job, _ string, _ civil.Date) error {
		select {
		case started <- struct{}{}:
		default:
			return nil
		}
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // cleaning up
		returned.Store(true)
		return ctx.Err()
	})
	<-started
	took := stop()
	if !returned.Load() {
		t.Error("Run returned before the cancelled run did")
	}
	if took < grace {
		t.Errorf("stop took %s, less than the grace period", took)
	}
	if !strings.Contains(logs.String(), "grace period over; cancelling running jobs") {
		t.Errorf("no cancel message: %s", logs)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 1)
	s, err := New(Config{
		Jobs: []config.Job{{Name: "nightly", Schedule: "0 2 * * *", Timezone: auckland, Accounts: []string{"demo"}}},
		Run: func(context.Context, config.Job, string, civil.Date) error {
			select {
			case ran <- struct{}{}:
			default:
			}
			return nil
		},
		Listener: ln,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	base := "http://" + ln.Addr().String()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	var metrics string
	waitFor(t, "the next run time", func() bool {
		_, metrics = get("/metrics")
		return strings.Contains(metrics, "ledgerline_scheduler_next_run_timestamp_seconds{")
	})
	for _, want := range []string{
		`ledgerline_scheduler_runs_started_total{etl_job="nightly"} 0`,
		`ledgerline_scheduler_runs_skipped_total{etl_job="nightly"} 0`,
		`ledgerline_scheduler_panics_total{etl_job="nightly"} 0`,
		`ledgerline_scheduler_running{etl_job="nightly"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The next run is at 02:00 in Auckland, not in UTC.
	next := s.cron.Load().Entries()[0].Next.In(auckland)
	if next.Hour() != 2 || next.Minute() != 0 || time.Until(next) > 24*time.Hour || next.Before(time.Now()) {
		t.Errorf("next run %s, want the next 02:00 in Auckland", next)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after Run returned")
	}
}

func TestScheduleInJobTimezone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC) // 08:00 EDT, the day clocks went forward
	tests := []struct {
		spec string
		tz   *time.Location
		want time.Time
	}{
		{"0 2 * * *", time.UTC, time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)},
		{"0 2 * * *", ny, time.Date(2025, 3, 10, 6, 0, 0, 0, time.UTC)}, // 02:00 EDT
		{"30 3 1 * *", ny, time.Date(2025, 4, 1, 7, 30, 0, 0, time.UTC)},
		{"@daily", ny, time.Date(2025, 3, 10, 4, 0, 0, 0, time.UTC)},
		{"@every 6h", ny, now.Add(6 * time.Hour)},
	}
	for _, tt := range tests {
		sched, err := ParseSchedule(config.Job{Name: "a", Schedule: tt.spec, Timezone: tt.tz})
		if err != nil {
			t.Fatal(err)
		}
		if got := sched.Next(now); !got.Equal(tt.want) {
			t.Errorf("%q in %s: next %s, want %s", tt.spec, tt.tz, got.UTC(), tt.want)
		}
	}
	if _, err := ParseSchedule(config.Job{Name: "a", Schedule: "61 * * * *"}); err == nil {
		t.Error("bad spec: no error")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no JobFunc", Config{Jobs: []config.Job{{Name: "a"}}}},
		{"duplicate job", Config{Run: func(context.Context, config.Job, string, civil.Date) error { return nil },
			Jobs: []config.Job{{Name: "a", Schedule: "@daily"}, {Name: "a", Schedule: "@daily"}}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
