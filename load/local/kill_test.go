package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestCrashDuringRecovery: the run dies before its commit point, then the
// next open for writing dies after each step of its recovery in turn
// (recording the abandoned run, sweeping, writing its own marker). The
// open after that still finds the old data, the dead run recorded as
// abandoned exactly once (and the dead opener too, once its marker was
// written), and no debris.
func TestCrashDuringRecovery(t *testing.T) {
	setup := func(t *testing.T) (string, crashWant) {
		root := t.TempDir()
		old := crashBase(t, root)
		c := &crashFS{after: -1}
		w := New(root)
		w.fs = c
		d, _ := crashNext(t, w, old)
		c.arm(0)
		if _, err := d.Commit(context.Background()); err == nil {
			t.Fatal("Commit did not crash")
		}
		d.unlock()
		return root, old
	}
	root, _ := setup(t)
	c := &crashFS{after: -1}
	w := New(root)
	w.fs = c
	if _, err := w.begin(t.Context(), "M1", "after"); err != nil {
		t.Fatal(err)
	}
	steps := slices.Clone(c.log)
	t.Logf("%d steps in the open that recovers:\n%s", len(steps), strings.Join(steps, "\n"))
	const ownMarker = "rename runs/.M1.after.json.tmp → M1.after.json"
	if !slices.Contains(steps, ownMarker) {
		t.Fatalf("no step %q", ownMarker)
	}
	for taken := range len(steps) + 1 {
		t.Run(strconv.Itoa(taken), func(t *testing.T) {
			root, old := setup(t)
			c := &crashFS{after: taken}
			w := New(root)
			w.fs = c
			w.now = func() time.Time { return time.Date(2026, 10, 31, 3, 0, 0, 0, time.UTC) }
			if d, err := w.begin(t.Context(), "M1", "after"); err == nil {
				d.unlock() // it dies right after
			}
			afterDied := slices.Contains(c.log, ownMarker)
			last, err := Open(root, "M1", "last")
			if err != nil {
				t.Fatal(err)
			}
			if err := last.Abort(t.Context()); err != nil {
				t.Fatal(err)
			}
			want := abandonedRuns(t, root, afterDied)
			expectContent(t, root, want(old))
			expectNoDebris(t, root, crashFiles(false, afterDied))
		})
	}
}

// abandonedRuns checks that etl_runs holds one abandoned record for run
// next, and one for run after if it died, and returns a function that
// adds them to the old content.
func abandonedRuns(t *testing.T, root string, afterDied bool) func(crashWant) crashWant {
	t.Helper()
	r, err := OpenReader(root)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := load.Runs(t.Context(), r, load.RunQuery{Merchant: "M1", Status: load.StatusAbandoned})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, rec := range runs {
		ids = append(ids, rec.RunID)
	}
	slices.Sort(ids)
	want := []string{"next"}
	if afterDied {
		want = []string{"after", "next"}
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("abandoned runs = %v, want %v", ids, want)
	}
	return func(old crashWant) crashWant {
		out := abandoned(t, root, old, "next")
		if afterDied {
			i := slices.IndexFunc(runs, func(r schemas.Run) bool { return r.RunID == "after" })
			out[schemas.Runs().Name] = append(out[schemas.Runs().Name], &runs[i])
		}
		return out
	}
}

// childEnv names the step after which the child process of
// TestKillDuringCommit stops to be killed, and its warehouse.
const childEnv = "LEDGERLINE_LOCAL_KILL_CHILD"

// TestKillDuringCommit kills (SIGKILL) a child process that commits the
// crashed run, stopped after a step before the commit point, at it, and
// in the middle of taking the journal's steps; then checks the warehouse as
// TestCrashAtEveryCommitStep does.
func TestKillDuringCommit(t *testing.T) {
	if v := os.Getenv(childEnv); v != "" {
		killChild(t, v)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	steps, point := commitSteps(t)
	for _, taken := range []int{point - 1, point, point + 1, point + 5} {
		t.Run(fmt.Sprintf("after step %d %s", taken, steps[taken-1]), func(t *testing.T) {
			root := t.TempDir()
			old := crashBase(t, root)
			_, next := crashNext(t, New(root), old) // only for its content
			root = t.TempDir()
			crashBase(t, root)
			ready := filepath.Join(t.TempDir(), "ready")
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringCommit$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d|%s|%s", childEnv, taken, root, ready))
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Minute)
			for {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatal("the child never reached the step")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil {
				t.Fatal("the child exited normally")
			}
			checkAfterCrash(t, root, taken, point, old, next)
		})
	}
}

// killChild commits the crashed run and stops for good after the given
// step, once it has said so by creating the ready file.
func killChild(t *testing.T, arg string) {
	f := strings.SplitN(arg, "|", 3)
	taken, err := strconv.Atoi(f[0])
	if err != nil || len(f) != 3 {
		t.Fatalf("bad %s %q", childEnv, arg)
	}
	root, ready := f[1], f[2]
	old := crashBase(t, t.TempDir()) // for the rows only
	c := &crashFS{after: -1, pause: func() {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			panic(err)
		}
		select {} // killed here
	}}
	w := New(root)
	w.fs = c
	d, _ := crashNext(t, w, old)
	c.arm(taken)
	d.Commit(context.Background())
	t.Fatal("the commit was not stopped")
}
