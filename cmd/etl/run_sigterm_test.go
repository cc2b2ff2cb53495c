package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunKilledBySIGTERMLeavesThePartitions runs etl run as another
// process, as main does, and sends it SIGTERM while it loads: it exits 1,
// every partition of the data tables is byte for byte as the previous run
// left it, no temporary file is left behind, and etl_runs records the
// interrupted run as failed.
func TestRunKilledBySIGTERMLeavesThePartitions(t *testing.T) {
	if os.Getenv("ETL_SIGTERM_HELPER") != "" {
		return // the helper's own run of this test
	}
	// A merchant busy enough for the run to take a while after its first
	// log line.
	path, warehouse := writeConfig(t, strings.Replace(backfillConfig, "orders_per_day: 8", "orders_per_day: 400", 1))
	c, out, errb := newCLI(backfillEnv)
	if code := c.main(t.Context(), []string{"run", "nightly", "-c", path, "--date", "2025-03-20"}); code != exitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errb)
	}
	before := snapshot(t, warehouse)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRunUntilSIGTERM$")
	cmd.Env = append(os.Environ(), "ETL_SIGTERM_HELPER="+path, "CLI_SECRET=x")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// SIGTERM once the run is writing its first partitions.
	logs := bufio.NewScanner(stderr)
	var seen []string
	for logs.Scan() {
		seen = append(seen, logs.Text())
		if strings.Contains(logs.Text(), `"msg":"extracting orders"`) {
			time.Sleep(150 * time.Millisecond)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFailed {
		t.Fatalf("etl run after SIGTERM: %v, want exit %d\n%s", err, exitFailed, strings.Join(seen, "\n"))
	}

	after := snapshot(t, warehouse)
	for name, sum := range before {
		if strings.HasPrefix(name, "etl_runs/") {
			continue
		}
		if after[name] != sum {
			t.Errorf("%s changed", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok && !strings.HasPrefix(name, "etl_runs/") {
			t.Errorf("%s appeared", name)
		}
	}
	var failed int
	for _, r := range readRuns(t, warehouse) {
		if r.Status == "failed" && r.BusinessDate.String() == "2025-03-21" {
			failed++
			if e := deref(r.Error); !strings.Contains(e, "canceled") && !strings.Contains(e, "terminated") {
				t.Errorf("the failed run's error = %q, want the signal", deref(r.Error))
			}
		}
	}
	if failed != 1 {
		t.Errorf("etl_runs has %d failed runs of 2025-03-21, want 1", failed)
	}
}

// TestHelperRunUntilSIGTERM is the process of
// TestRunKilledBySIGTERMLeavesThePartitions: etl run, wired as in main.
func TestHelperRunUntilSIGTERM(t *testing.T) {
	path := os.Getenv("ETL_SIGTERM_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdout: io.Discard, stderr: os.Stderr, getenv: os.LookupEnv,
		now: func() time.Time { return time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC) }}
	os.Exit(c.main(ctx, []string{"run", "nightly", "-c", path, "--date", "2025-03-21"}))
}

// snapshot returns the SHA-256 of every file under root, by relative path,
// lock files aside; temporary files (dot files) are errors.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if d.Name() == ".locks" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			t.Errorf("temporary file left: %s", rel)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
