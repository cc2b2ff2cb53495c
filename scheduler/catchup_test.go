package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

func date(s string) civil.Date {
	d, err := civil.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestMissedDates(t *testing.T) {
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		schedule string
		tz       *time.Location
		last     string
		now      string
		days     int
		want     string
	}{
		{"three missed nights", "0 2 * * *", time.UTC, "2025-03-28", "2025-04-01T09:00:00Z", 3, "2025-03-29 2025-03-30 2025-03-31"},
		{"window of two days", "0 2 * * *", time.UTC, "2025-03-28", "2025-04-01T09:00:00Z", 2, "2025-03-30 2025-03-31"},
		{"window wider than the gap", "0 2 * * *", time.UTC, "2025-03-29", "2025-04-01T09:00:00Z", 10, "2025-03-30 2025-03-31"},
		{"tonight's run not due yet", "0 2 * * *", time.UTC, "2025-03-28", "2025-04-01T01:59:00Z", 3, "2025-03-29 2025-03-30"},
		{"tonight's run due this second", "0 2 * * *", time.UTC, "2025-03-28", "2025-04-01T02:00:00Z", 3, "2025-03-29 2025-03-30 2025-03-31"},
		{"up to date", "0 2 * * *", time.UTC, "2025-03-31", "2025-04-01T09:00:00Z", 3, ""},
		{"last success ahead (etl run --date)", "0 2 * * *", time.UTC, "2025-04-05", "2025-04-01T09:00:00Z", 3, ""},
		{"catch-up off", "0 2 * * *", time.UTC, "2025-03-28", "2025-04-01T09:00:00Z", 0, ""},
		{"monthly within 3 days", "0 6 1 * *", time.UTC, "2025-02-28", "2025-04-02T09:00:00Z", 3, "2025-03-31"},
		{"monthly, two months", "0 6 1 * *", time.UTC, "2025-01-31", "2025-04-02T09:00:00Z", 40, "2025-02-28 2025-03-31"},
		{"monthly not in 3 days", "0 6 1 * *", time.UTC, "2025-02-28", "2025-04-05T09:00:00Z", 3, ""},
		// 13:00 UTC is 02:00 on 2 April in Auckland: 1 April is over there.
		{"in the job's zone", "0 2 * * *", auckland, "2025-03-29", "2025-04-01T13:00:00Z", 3, "2025-03-30 2025-03-31 2025-04-01"},
		{"every minute: each date once", "* * * * *", time.UTC, "2025-03-20", "2025-04-01T00:30:00Z", 2, "2025-03-30 2025-03-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := config.Job{Name: "j", Schedule: tt.schedule, Timezone: tt.tz}
			sched, err := ParseSchedule(job)
			if err != nil {
				t.Fatal(err)
			}
			now := at(tt.now)
			got := missedDates(job, sched, date(tt.last), now, tt.days)
			var s []string
			for _, d := range got {
				s = append(s, d.String())
				if !d.Before(civil.DateOf(now.In(tt.tz))) {
					t.Errorf("%s is today or later in %s", d, tt.tz)
				}
			}
			if strings.Join(s, " ") != tt.want {
				t.Errorf("missed %q, want %q", strings.Join(s, " "), tt.want)
			}
		})
	}
}

func TestMissedBefore(t *testing.T) {
	now := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	nightly := config.Job{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC}
	monthly := config.Job{Name: "monthly", Schedule: "0 6 1 * *", Timezone: time.UTC}
	tests := []struct {
		job      config.Job
		last     string
		days     int
		from, to string // "" for none
	}{
		{nightly, "2025-03-20", 3, "2025-03-21", "2025-03-28"},
		{nightly, "2025-03-27", 3, "2025-03-28", "2025-03-28"},
		{nightly, "2025-03-28", 3, "", ""},
		{nightly, "2025-03-28", 0, "2025-03-29", "2025-03-31"},
		{monthly, "2025-02-28", 3, "", ""}, // no run due for 1 to 28 March
		{monthly, "2025-01-31", 3, "2025-02-01", "2025-03-28"},
	}
	for _, tt := range tests {
		sched, err := ParseSchedule(tt.job)
		if err != nil {
			t.Fatal(err)
		}
		from, to, ok := missedBefore(tt.job, sched, date(tt.last), now, tt.days)
		got := ""
		if ok {
			got = from.String() + ".." + to.String()
		}
		if want := strings.Trim(tt.from+".."+tt.to, "."); got != want {
			t.Errorf("%s, last %s, %d days: missed before %q, want %q", tt.job.Name, tt.last, tt.days, got, want)
		}
	}
}

// fakeClock is a clock the test sets.
type fakeClock struct{ t atomic.Pointer[time.Time] }

func (c *fakeClock) set(t time.Time) { c.t.Store(&t) }
func (c *fakeClock) now() time.Time  { return *c.t.Load() }

// calls records the runs a JobFunc is asked for, as "account date".
type calls struct {
	mu   sync.Mutex
	runs []string
}

func (c *calls) add(account string, d civil.Date) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs = append(c.runs, account+" "+d.String())
}

func (c *calls) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.runs...)
}

// runScheduler runs s until the test ends, and checks Run's error.
func runScheduler(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestCatchUpThenSchedule: the clock says 1 April, 09:00 UTC; the nightly
// job (02:00) last succeeded for 28 March on account a and 29 March on b.
// At start the scheduler runs, oldest first, a's three missed nights (29,
// 30 and 31 March) and b's two, each logged as a catch-up; no scheduled
// run comes before them. Then the schedule goes on: with the clock moved to
// 2 April, the ticks run 1 April.
func TestCatchUpThenSchedule(t *testing.T) {
	clock := &fakeClock{}
	clock.set(time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC))
	var got calls
	logs := &syncBuffer{}
	s, err := New(Config{
		Jobs: []config.Job{{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC, Accounts: []string{"a", "b"}, CatchUpDays: 3}},
		Run: func(_ context.Context, _ config.Job, account string, d civil.Date) error {
			got.add(account, d)
			return nil
		},
		History: func(context.Context, config.Job) (map[string]Success, error) {
			return map[string]Success{"a": {BusinessDate: date("2025-03-28")}, "b": {BusinessDate: date("2025-03-29")}}, nil
		},
		Now:    clock.now,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		// Ticks every 20 ms; the catch-up still follows "0 2 * * *".
		Parse: func(config.Job) (cron.Schedule, error) { return every(20 * time.Millisecond), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	waitFor(t, "the catch-up", func() bool { return strings.Contains(logs.String(), "start-up runs done") })
	catchUp := []string{"a 2025-03-29", "a 2025-03-30", "b 2025-03-30", "a 2025-03-31", "b 2025-03-31"}
	if runs := got.get(); len(runs) < len(catchUp) || strings.Join(runs[:len(catchUp)], ", ") != strings.Join(catchUp, ", ") {
		t.Fatalf("first runs %q, want %q", runs, catchUp)
	}
	clock.set(time.Date(2025, 4, 2, 2, 0, 30, 0, time.UTC))
	waitFor(t, "scheduled runs of 1 April", func() bool {
		runs := got.get()
		return strings.Contains(strings.Join(runs, ","), "b 2025-04-01")
	})
	runs := got.get()
	// After the catch-up only scheduled runs: yesterday of the clock, 31
	// March then 1 April, a before b each time.
	allowed := map[string]bool{"a 2025-03-31": true, "b 2025-03-31": true, "a 2025-04-01": true, "b 2025-04-01": true}
	for _, r := range runs[len(catchUp):] {
		if !allowed[r] {
			t.Errorf("run %q after the catch-up", r)
		}
	}
	for i := 1; i < len(runs); i++ {
		if runs[i][2:] < runs[i-1][2:] {
			t.Errorf("run %d (%s) is older than the one before (%s): %q", i, runs[i], runs[i-1], runs)
		}
	}
	l := logs.String()
	for _, r := range catchUp {
		acct, d, _ := strings.Cut(r, " ")
		want := fmt.Sprintf(`msg="catch-up run starting" job=nightly account=%s business_date=%s catch_up=true`, acct, d)
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if n := strings.Count(l, `msg="catch-up run starting"`); n != len(catchUp) {
		t.Errorf("%d catch-up runs logged, want %d", n, len(catchUp))
	}
	for _, want := range []string{
		`msg="catching up" job=nightly account=a last_success=2025-03-28 dates=3 from=2025-03-29 to=2025-03-31 catch_up_days=3`,
		`msg="catching up" job=nightly account=b last_success=2025-03-29 dates=2 from=2025-03-30 to=2025-03-31 catch_up_days=3`,
		`msg="scheduled run starting" job=nightly account=a business_date=2025-04-01`,
	} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	// (After the catch-up, a tick may overlap a slow one on a busy machine.)
	if before, _, _ := strings.Cut(l, "start-up runs done"); strings.Contains(before, "this run is skipped") {
		t.Errorf("a tick during the catch-up was counted as skipped:\n%s", l)
	}
}

// TestCatchUpRunsWhatFellDueMeanwhile: the 2 April 02:00 run falls due
// while the catch-up runs 29 March; its tick is passed over, and the
// catch-up runs 1 April after 31 March.
func TestCatchUpRunsWhatFellDueMeanwhile(t *testing.T) {
	clock := &fakeClock{}
	clock.set(time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC))
	var got calls
	logs := &syncBuffer{}
	s, err := New(Config{
		Jobs: []config.Job{{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC, Accounts: []string{"a"}, CatchUpDays: 3}},
		Run: func(_ context.Context, _ config.Job, account string, d civil.Date) error {
			if len(got.get()) == 0 {
				clock.set(time.Date(2025, 4, 2, 2, 0, 0, 0, time.UTC))
				// Ticks come and are passed over (no t.Fatal off the test's goroutine).
				for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "catch-up still running") && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
			}
			got.add(account, d)
			return nil
		},
		History: func(context.Context, config.Job) (map[string]Success, error) {
			return map[string]Success{"a": {BusinessDate: date("2025-03-28")}}, nil
		},
		Now:    clock.now,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Parse:  func(config.Job) (cron.Schedule, error) { return every(20 * time.Millisecond), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	waitFor(t, "the catch-up", func() bool { return strings.Contains(logs.String(), "start-up runs done") })
	want := "a 2025-03-29, a 2025-03-30, a 2025-03-31, a 2025-04-01"
	if runs := got.get(); len(runs) < 4 || strings.Join(runs[:4], ", ") != want {
		t.Errorf("runs %q, want first %s", runs, want)
	}
	if l := logs.String(); !strings.Contains(l, "catch-up still running; the run due now follows it") ||
		!strings.Contains(l, `msg="catch-up run starting" job=nightly account=a business_date=2025-04-01 catch_up=true`) {
		t.Errorf("log:\n%s", l)
	}
}

// TestMetricsAtStart: /metrics has each account's last success time from
// the history before any run, and an account without one has none.
func TestMetricsAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := progress.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	finished := time.Date(2025, 3, 31, 2, 4, 5, 0, time.UTC)
	var runs atomic.Int32
	s, err := New(Config{
		Jobs: []config.Job{{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC, Accounts: []string{"a", "b"}, CatchUpDays: 0}},
		Run:  func(context.Context, config.Job, string, civil.Date) error { runs.Add(1); return nil },
		History: func(context.Context, config.Job) (map[string]Success, error) {
			return map[string]Success{"a": {BusinessDate: date("2025-03-30"), Finished: finished}}, nil
		},
		Metrics:  m,
		Registry: reg,
		Listener: ln,
	})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	want := `ledgerline_last_success_timestamp_seconds{account="a",etl_job="nightly"} 1.743386645e+09`
	var body string
	waitFor(t, "the last success in /metrics", func() bool {
		_, body = httpDo(t, "GET", "http://"+ln.Addr().String()+"/metrics")
		return strings.Contains(body, want)
	})
	if strings.Contains(body, `ledgerline_last_success_timestamp_seconds{account="b"`) {
		t.Errorf("b has a last success:\n%s", body)
	}
	if runs.Load() != 0 {
		t.Errorf("%d runs with catch_up_days 0", runs.Load())
	}
}
