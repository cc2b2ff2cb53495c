package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
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
