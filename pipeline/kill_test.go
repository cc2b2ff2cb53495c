package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
)

const killChildEnv = "LEDGERLINE_PIPELINE_KILL_CHILD"

// TestKilledRunIsRecordedAbandoned (issue 11, F2): a run killed (SIGKILL)
// while it writes partitions leaves no record and temporary files; the
// next run of the account records it in etl_runs as abandoned, with its
// job and business date, removes its temporary files, and succeeds.
func TestKilledRunIsRecordedAbandoned(t *testing.T) {
	if v := os.Getenv(killChildEnv); v != "" {
		killedRun(t, v)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	root := t.TempDir()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunIsRecordedAbandoned$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+root+"|"+ready)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the child run never got under way")
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	left := hiddenFiles(t, root)
	if !slices.ContainsFunc(left, func(p string) bool { return strings.HasSuffix(p, "/.killed-run.LLTEST.parquet.tmp") }) ||
		!slices.Contains(left, ".ledgerline/runs/LLTEST.killed-run.json") {
		t.Fatalf("the killed run left %v, want its marker and partition files: the test shows nothing", left)
	}
	t.Logf("the killed run left %d files", len(left))

	acct, job := testAccount(t), testJob(3)
	job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := pipeline.RunAccount(t.Context(), job, acct, businessDate, pipeline.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r, err := local.OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := load.Runs(t.Context(), r, load.RunQuery{Merchant: acct.MerchantCode})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rec := range runs {
		got[rec.RunID] = fmt.Sprint(rec.Status, " ", rec.Job, " ", rec.Account, " ", rec.BusinessDate)
		if rec.Status == pipeline.StatusAbandoned && (rec.Error == nil || !strings.Contains(*rec.Error, "found by run "+s.RunID)) {
			t.Errorf("abandoned record's error = %v", rec.Error)
		}
	}
	want := map[string]string{
		"killed-run": "abandoned nightly demo 2025-03-31",
		s.RunID:      "succeeded nightly demo 2025-03-31",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("etl_runs = %v, want %v", got, want)
	}
	if tmp := hiddenFiles(t, root); len(tmp) > 0 {
		t.Errorf("debris after the next run: %v", tmp)
	}
}

// hiddenFiles returns the temporary files, markers and journals under
// root: every file but the data and the account locks.
func hiddenFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(rel, ".ledgerline/runs/") || strings.HasPrefix(rel, ".ledgerline/journal/") {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// killedRun runs the job in the child process: its source stops for good
// after a few pages, once it has said so by creating the ready file.
func killedRun(t *testing.T, arg string) {
	root, ready, _ := strings.Cut(arg, "|")
	acct, job := testAccount(t), testJob(3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, closeSrc, err := pipeline.OpenSource(t.Context(), acct, businessDate, job.Timezone, log)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSrc()
	dest, err := local.Open(root, acct.MerchantCode, "killed-run")
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Run{ID: "killed-run", Job: job, Account: acct, Date: businessDate,
		Source: &stallingSource{Source: src, ready: ready}, Destination: dest, Warehouse: dest, Logger: log}
	r.Execute(t.Context())
	t.Fatal("the run was not stopped")
}

// stallingSource passes on the pages of its source until the subscriptions,
// and there stops for good: by then every orders partition is written.
type stallingSource struct {
	extract.Source
	ready string
	once  atomic.Bool
}

func (s *stallingSource) Subscriptions(ctx context.Context, f extract.SubscriptionFilter, yield func(extract.Page[extract.Subscription]) error) error {
	if !s.once.Swap(true) {
		if err := os.WriteFile(s.ready, nil, 0o644); err != nil {
			return err
		}
	}
	select {} // killed here
}
