package scheduler

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/runlock"
)

// httpDo sends a request without a body and returns the status and body.
func httpDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestRunNowOverHTTP drives POST /run on a real loopback server, with the
// real run locks (package runlock) in a temporary directory: a run starts
// (202) and runs yesterday on each account under their locks; a second
// request while it runs is a 409; a lock held elsewhere (as by etl run) is
// a 409 naming the holder, with no run and no lock kept; an unknown job is
// a 404, a missing one a 400, and GET a 405.
func TestRunNowOverHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	lockDir := t.TempDir()
	clock := &fakeClock{}
	clock.set(time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC))
	release := make(chan struct{})
	var got calls
	s, err := New(Config{
		Jobs: []config.Job{{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC, Accounts: []string{"a", "b"}}},
		Run: func(_ context.Context, job config.Job, account string, d civil.Date) error {
			// The scheduler holds the account's lock during the run.
			if l, err := runlock.Acquire(lockDir, job.Name, account, runlock.Holder{}); err == nil {
				l.Release()
				t.Errorf("account %s's lock not held during its run", account)
			}
			got.add(account, d)
			<-release
			return nil
		},
		Lock: func(job config.Job, account string) (func(), error) {
			l, err := runlock.Acquire(lockDir, job.Name, account, runlock.Holder{Command: "etl schedule"})
			if err != nil {
				return nil, err
			}
			return func() { l.Release() }, nil
		},
		Now:      clock.now,
		Listener: ln,
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	waitFor(t, "the server", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/run?job=nightly", http.StatusMethodNotAllowed, ""},
		{"POST", "/run", http.StatusBadRequest, "missing job: POST /run?job=NAME\n"},
		{"POST", "/run?job=weekly", http.StatusNotFound, "no job \"weekly\" (jobs: nightly)\n"},
		{"POST", "/run?job=nightly", http.StatusAccepted, "started job nightly for 2025-03-31 on a, b\n"},
		{"POST", "/run?job=nightly", http.StatusConflict, "job nightly: a run is in progress: a requested run, since "},
	}
	for _, tt := range tests {
		code, body := httpDo(t, tt.method, base+tt.path)
		if code != tt.code || !strings.HasPrefix(body, tt.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, code, body, tt.code, tt.body)
		}
	}
	close(release)
	waitFor(t, "the requested run", func() bool { return len(got.get()) == 2 })
	if runs := strings.Join(got.get(), ", "); runs != "a 2025-03-31, b 2025-03-31" {
		t.Errorf("runs %s", runs)
	}
	waitFor(t, "the run's end", func() bool { busy, _, _ := s.entry("nightly").inProgress(); return !busy })

	// Another process runs nightly on b.
	held, err := runlock.Acquire(lockDir, "nightly", "b", runlock.Holder{PID: 4242, Command: "etl run nightly"})
	if err != nil {
		t.Fatal(err)
	}
	code, body := httpDo(t, "POST", base+"/run?job=nightly")
	if want := "a run is in progress: job nightly, account b is already running: held by pid 4242"; code != http.StatusConflict || !strings.Contains(body, want) {
		t.Errorf("with b's lock held: %d %q, want 409 %q", code, body, want)
	}
	held.Release()
	if l, err := runlock.Acquire(lockDir, "nightly", "a", runlock.Holder{}); err != nil {
		t.Errorf("a's lock kept after the refused run: %v", err)
	} else {
		l.Release()
	}
	if n := len(got.get()); n != 2 {
		t.Errorf("%d runs, want 2 (none while b's lock was held)", n)
	}
}

// TestRunNowAtStart: Config.RunNow (etl schedule --run-now) runs yesterday
// at start, after the catch-up and not twice when the catch-up ran it.
func TestRunNowAtStart(t *testing.T) {
	tests := []struct {
		name    string
		history map[string]Success
		want    string
	}{
		{"no history", nil, "a 2025-03-31, b 2025-03-31"},
		{"catch-up first", map[string]Success{"a": {BusinessDate: date("2025-03-29")}}, "a 2025-03-30, a 2025-03-31, b 2025-03-31"},
		{"up to date", map[string]Success{"a": {BusinessDate: date("2025-03-31")}, "b": {BusinessDate: date("2025-03-31")}},
			"a 2025-03-31, b 2025-03-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got calls
			logs := &syncBuffer{}
			s, err := New(Config{
				Jobs: []config.Job{{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC, Accounts: []string{"a", "b"}, CatchUpDays: 3}},
				Run: func(_ context.Context, _ config.Job, account string, d civil.Date) error {
					got.add(account, d)
					return nil
				},
				History: func(context.Context, config.Job) (map[string]Success, error) { return tt.history, nil },
				RunNow:  []string{"nightly"},
				Now:     func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) },
				Logger:  slog.New(slog.NewTextHandler(logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			runScheduler(t, s)
			waitFor(t, "the start-up runs", func() bool { return strings.Contains(logs.String(), "start-up runs done") })
			if runs := strings.Join(got.get(), ", "); runs != tt.want {
				t.Errorf("runs %s, want %s", runs, tt.want)
			}
		})
	}
	_, err := New(Config{Run: func(context.Context, config.Job, string, civil.Date) error { return nil },
		Jobs: []config.Job{{Name: "nightly"}}, RunNow: []string{"weekly"}})
	if err == nil || err.Error() != `scheduler: run now: no job "weekly" (jobs: nightly)` {
		t.Errorf("unknown run-now job: %v", err)
	}
}
