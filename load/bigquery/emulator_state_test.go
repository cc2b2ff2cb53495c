//go:build bqemulator

package bigquery_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/schemas"
)

// succeeded returns the succeeded run record of run id of slice.
func succeeded(id, slice string) schemas.Run {
	at := time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)
	return schemas.Run{RunID: id, Job: "nightly", Account: "main", MerchantCode: slice, BusinessDate: day1,
		Status: load.StatusSucceeded, StartedAt: at, StartedOn: civil.DateOf(at), FinishedAt: at, Version: "v1"}
}

// commitWithRecord appends rec to r and commits it.
func commitWithRecord(t *testing.T, r *bigquery.Run, rec schemas.Run) error {
	t.Helper()
	if err := r.AppendRun(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	_, err := r.Commit(t.Context())
	return err
}

// TestConcurrentRunsOfOneSliceCommitSerially shows two runs of slice M1
// begun before either commits: the first commits; the second, which may
// have read M1's state before that commit, fails with ErrStateConflict,
// commits nothing and is not retried. A run of another slice, and a run of
// M1 begun after the commit, commit.
func TestConcurrentRunsOfOneSliceCommitSerially(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.Orders()
	first := sliceRows(tab, day1, 3, 0, "M1", emulatorDigits)
	second := sliceRows(tab, day1, 5, 1, "M1", emulatorDigits)
	other := sliceRows(tab, day1, 2, 2, "M2", emulatorDigits)
	r1 := writeRun(t, w, "M1", "run-1", tab, map[civil.Date][]any{day1: first})
	r2 := writeRun(t, w, "M1", "run-2", tab, map[civil.Date][]any{day1: second})
	r3 := writeRun(t, w, "M2", "run-3", tab, map[civil.Date][]any{day1: other})
	if err := commitWithRecord(t, r1, succeeded("run-1", "M1")); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	e.rec.reset()
	err := commitWithRecord(t, r2, succeeded("run-2", "M1"))
	if !errors.Is(err, bigquery.ErrStateConflict) {
		t.Fatalf("second commit: %v, want ErrStateConflict", err)
	}
	for _, s := range []string{"commit of run run-2", "another run of merchant M1 committed since this run read its state; rerun it", "1 now"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("second commit error %q does not say %q", err, s)
		}
	}
	var ids []string
	for _, j := range e.rec.jobInserts(t) {
		ids = append(ids, j.JobReference.JobID)
	}
	// Its rows are loaded by its Commit, then its transaction fails once.
	if want := []string{r2.LoadJobID(tab.Name), r2.CommitJobID()}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("jobs of the second commit %v, want %v (a state conflict is not retried)", ids, want)
	}
	if err := r2.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The tables are as the first run left them.
	expect(t, w, tab, day1, first)
	checkRuns(t, w, "M1", "run-1")

	// Another slice's run, begun before M1's commit, commits.
	if err := commitWithRecord(t, r3, succeeded("run-3", "M2")); err != nil {
		t.Fatalf("commit of slice M2: %v", err)
	}
	// The rerun of the second run, begun after the first committed, commits.
	r4 := writeRun(t, w, "M1", "run-4", tab, map[civil.Date][]any{day1: second})
	if err := commitWithRecord(t, r4, succeeded("run-4", "M1")); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	expect(t, w, tab, day1, append(append([]any{}, second...), other...))
	checkRuns(t, w, "M1", "run-1", "run-4")
}

// TestStateGuardIgnoresFailedRuns shows a run that commits after a failed
// run of its slice recorded its failure: the failure changed no data, so
// it is no conflict.
func TestStateGuardIgnoresFailedRuns(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.Orders()
	rows := sliceRows(tab, day1, 3, 0, "M1", emulatorDigits)
	r := writeRun(t, w, "M1", "run-1", tab, map[civil.Date][]any{day1: rows})
	f, err := w.BeginRun(t.Context(), "M1", "run-0.failure")
	if err != nil {
		t.Fatal(err)
	}
	rec := succeeded("run-0", "M1")
	rec.Status = load.StatusFailed
	if err := commitWithRecord(t, f, rec); err != nil {
		t.Fatalf("failure record: %v", err)
	}
	if err := commitWithRecord(t, r, succeeded("run-1", "M1")); err != nil {
		t.Fatalf("commit: %v", err)
	}
	expect(t, w, tab, day1, rows)
	checkRuns(t, w, "M1", "run-0", "run-1")
}

// checkRuns checks that etl_runs holds exactly the records ids of slice.
func checkRuns(t *testing.T, w *bigquery.Warehouse, slice string, ids ...string) {
	t.Helper()
	runs, err := load.Runs(t.Context(), w, load.RunQuery{Merchant: slice})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.RunID)
	}
	slices.Sort(got)
	if strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("etl_runs of %s: %v, want %v", slice, got, ids)
	}
}
