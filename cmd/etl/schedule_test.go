package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/config"
	"github.com/robfig/cron/v3"
)

// lockedBuffer is an output safe for the scheduler's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestScheduleRunsJobsAndServesMetrics runs etl schedule with a job due
// every second: it runs the job (yesterday of the clock: 2025-03-31),
// serves /healthz and /metrics with the run's metrics, and exits 0 when its
// context is cancelled.
func TestScheduleRunsJobsAndServesMetrics(t *testing.T) {
	path, warehouse := writeConfig(t, strings.Replace(backfillConfig, `schedule: "0 2 * * *"`, `schedule: "* * * * *"`, 1))
	var out, errb lockedBuffer
	c := &cli{stdout: &out, stderr: &errb,
		// jobs.yaml allows nothing more often than once a minute.
		scheduleParse: func(config.Job) (cron.Schedule, error) { return cron.Every(time.Second), nil },
		getenv:        func(k string) (string, bool) { v, ok := backfillEnv[k]; return v, ok },
		now:           func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) }}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- c.schedule(ctx, []string{"-c", path, "--addr", addr, "--grace", "30s"}) }()

	get := func(p string) (int, string) {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const succeeded = `ledgerline_runs_total{account="demo",etl_job="nightly",status="succeeded"} `
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, m := get("/metrics"); strings.Contains(m, succeeded) && !strings.Contains(m, succeeded+"0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful run in the metrics; log:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	_, m := get("/metrics")
	for _, want := range []string{
		`ledgerline_scheduler_runs_started_total{etl_job="nightly"}`,
		`ledgerline_rows_written_total{account="demo",etl_job="nightly",table="orders"}`,
		`ledgerline_last_success_timestamp_seconds{account="demo",etl_job="nightly"}`,
		`ledgerline_records_read_total{account="demo",etl_job="nightly",stream="orders"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d: %s", code, errb.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("etl schedule did not stop")
	}
	runs := readRuns(t, warehouse)
	if len(runs) == 0 || runs[0].BusinessDate.String() != "2025-03-31" {
		t.Errorf("etl_runs = %+v", runs)
	}
	for _, want := range []string{`"msg":"job scheduled"`, `"msg":"scheduled run done"`, `"msg":"scheduler stopped"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestScheduleUsage(t *testing.T) {
	path, _ := writeConfig(t, backfillConfig)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"--help"}, exitOK, "--grace"},
		{"argument", []string{"nightly", "-c", path}, exitUsage, `unexpected argument "nightly"`},
		{"unknown job", []string{"-c", path, "--job", "weekly"}, exitUsage, `no job "weekly"`},
		{"unknown --run-now job", []string{"-c", path, "--run-now", "weekly"}, exitUsage, `etl schedule: scheduler: run now: no job "weekly" (jobs: nightly)`},
		{"--run-now of a job --job leaves out", []string{"-c", path, "--job", "nightly", "--run-now", "nightly2"}, exitUsage, `no job "nightly2" (jobs: nightly)`},
		{"bad address", []string{"-c", path, "--addr", "256.0.0.1:x"}, exitFailed, "etl schedule:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, errb := newCLI(backfillEnv)
			if code := c.schedule(t.Context(), tt.args); code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, errb)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errb, tt.stderr)
			}
		})
	}
}

// TestScheduleCatchUpMetricsAndRunNow, on a real local warehouse whose
// etl_runs has a success for 28 March, the clock at 1 April 09:00 UTC:
// with catch_up_days 0, /metrics shows that success's time at start and
// nothing runs; with the default (3), etl schedule runs 29, 30 and 31 March
// at start, in order, logged as catch-ups; POST /run then runs 31 March
// again (202), an unknown job is a 404; --run-now of an unknown job exits 2.
func TestScheduleCatchUpMetricsAndRunNow(t *testing.T) {
	path, warehouse := writeConfig(t, backfillConfig)
	c, _, errb := newCLI(backfillEnv)
	if code := c.run(t.Context(), []string{"nightly", "-c", path, "--date", "2025-03-28"}); code != exitOK {
		t.Fatalf("etl run: exit %d: %s", code, errb)
	}
	// schedule runs etl schedule with the config body until stop is called;
	// its ticks are an hour apart, so only start-up and requested runs run.
	schedule := func(body string, args ...string) (addr string, logs *lockedBuffer, stop func() int) {
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "WAREHOUSE", warehouse)), 0o644); err != nil {
			t.Fatal(err)
		}
		logs = &lockedBuffer{}
		c := &cli{stdout: io.Discard, stderr: logs,
			scheduleParse: func(config.Job) (cron.Schedule, error) { return cron.Every(time.Hour), nil },
			getenv:        func(k string) (string, bool) { v, ok := backfillEnv[k]; return v, ok },
			now:           func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) }}
		addr = freeAddr(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan int, 1)
		go func() { done <- c.schedule(ctx, append([]string{"-c", path, "--addr", addr}, args...)) }()
		stop = sync.OnceValue(func() int {
			cancel()
			select {
			case code := <-done:
				return code
			case <-time.After(2 * time.Minute):
				t.Error("etl schedule did not stop")
				return -1
			}
		})
		t.Cleanup(func() { stop() }) // before TempDir's removal, if the test fails
		return addr, logs, stop
	}
	waitMetric := func(addr string, logs *lockedBuffer, want string) string {
		t.Helper()
		// A run takes a few seconds, over ten with -race.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(b), want) {
					return string(b)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("/metrics never had %s; log:\n%s", want, logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// 1 April 09:00 UTC, the clock of every run: the seeded run finished then.
	const lastSuccess = `ledgerline_last_success_timestamp_seconds{account="demo",etl_job="nightly"} 1.743498e+09`
	addr, logs, stop := schedule(strings.Replace(backfillConfig, "lookback_days: 1", "lookback_days: 1\n    catch_up_days: 0", 1))
	m := waitMetric(addr, logs, lastSuccess)
	if strings.Contains(m, "ledgerline_runs_total{") {
		t.Errorf("a run with catch_up_days 0:\n%s", m)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}

	addr, logs, stop = schedule(backfillConfig)
	const succeeded = `ledgerline_runs_total{account="demo",etl_job="nightly",status="succeeded"} `
	waitMetric(addr, logs, succeeded+"3")
	post := func(q string) (int, string) {
		resp, err := http.Post("http://"+addr+"/run?"+q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("job=weekly"); code != http.StatusNotFound || body != "no job \"weekly\" (jobs: nightly)\n" {
		t.Errorf("POST /run?job=weekly = %d %q", code, body)
	}
	// The catch-up may still be between its last run and its release.
	var code int
	var body string
	for range 100 {
		if code, body = post("job=nightly"); code != http.StatusConflict {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusAccepted || body != "started job nightly for 2025-03-31 on demo\n" {
		t.Errorf("POST /run?job=nightly = %d %q", code, body)
	}
	waitMetric(addr, logs, succeeded+"4")
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d: %s", code, logs)
	}
	var dates []string
	for _, r := range readRuns(t, warehouse) {
		if r.Status != "succeeded" {
			t.Errorf("run %s for %s: %s", r.RunID, r.BusinessDate, r.Status)
		}
		dates = append(dates, r.BusinessDate.String())
	}
	slices.Sort(dates) // readRuns reads by partition
	if got := strings.Join(dates, " "); got != "2025-03-28 2025-03-29 2025-03-30 2025-03-31 2025-03-31" {
		t.Errorf("etl_runs business dates: %s", got)
	}
	l := logs.String()
	for _, d := range []string{"2025-03-29", "2025-03-30", "2025-03-31"} {
		want := `"msg":"catch-up run starting","job":"nightly","account":"demo","business_date":"` + d + `","catch_up":true`
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if i, j := strings.Index(l, `"business_date":"2025-03-29","catch_up":true`), strings.Index(l, `"business_date":"2025-03-31","catch_up":true`); i < 0 || j < i {
		t.Errorf("catch-ups out of order:\n%s", l)
	}
	if !strings.Contains(l, `"msg":"requested run starting","job":"nightly","account":"demo","business_date":"2025-03-31"`) {
		t.Errorf("log lacks the requested run:\n%s", l)
	}
}
