package runlock_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/runlock"
)

func TestSecondAcquireFailsNamingTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	since := time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC)
	first, err := runlock.Acquire(dir, "nightly", "demo", runlock.Holder{RunID: "run-1", Host: "box", Since: since, Command: "etl run nightly"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		job, account string
		held         bool
	}{
		{"nightly", "demo", true},
		{"nightly", "other", false},
		{"monthly", "demo", false},
	}
	for _, tt := range tests {
		l, err := runlock.Acquire(dir, tt.job, tt.account, runlock.Holder{RunID: "run-2"})
		if !tt.held {
			if err != nil {
				t.Errorf("%s/%s: %v", tt.job, tt.account, err)
			}
			l.Release()
			continue
		}
		var he *runlock.HeldError
		if !errors.As(err, &he) || !errors.Is(err, runlock.ErrHeld) {
			t.Fatalf("%s/%s: err = %v, want a HeldError", tt.job, tt.account, err)
		}
		want := "job nightly, account demo is already running: held by pid " + strconv.Itoa(os.Getpid()) +
			" on box (etl run nightly), run run-1, since 2025-04-01T02:00:00Z"
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %q, want prefix %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	again, err := runlock.Acquire(dir, "nightly", "demo", runlock.Holder{})
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	again.Release()
	if _, err := os.Stat(runlock.Path(dir, "nightly", "demo")); err != nil {
		t.Errorf("the lock file should stay: %v", err)
	}
}

func TestInvalidNames(t *testing.T) {
	for _, name := range []string{"", "../x", "a/b", ".hidden"} {
		if l, err := runlock.Acquire(t.TempDir(), name, "demo", runlock.Holder{}); err == nil {
			l.Release()
			t.Errorf("job %q: no error", name)
		}
	}
}

// TestLockDiesWithItsProcess: another process holds the lock; while it
// lives Acquire fails naming its pid; once it is killed (no chance to clean
// up) the lock is free.
func TestLockDiesWithItsProcess(t *testing.T) {
	if os.Getenv("RUNLOCK_HELPER_DIR") != "" {
		return // the helper's own run of this test
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldsLock$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HELPER_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	_, err = runlock.Acquire(dir, "nightly", "demo", runlock.Holder{})
	var he *runlock.HeldError
	if !errors.As(err, &he) || he.Holder.PID != cmd.Process.Pid || he.Holder.RunID != "helper-run" {
		t.Fatalf("while the helper lives: err = %v, want held by pid %d", err, cmd.Process.Pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := runlock.Acquire(dir, "nightly", "demo", runlock.Holder{})
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	l.Release()
}

// TestHelperHoldsLock is the other process of TestLockDiesWithItsProcess.
func TestHelperHoldsLock(t *testing.T) {
	dir := os.Getenv("RUNLOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	if _, err := runlock.Acquire(dir, "nightly", "demo", runlock.Holder{RunID: "helper-run"}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute) // until killed
}
