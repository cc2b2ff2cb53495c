package backfill

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
)

func day(d int) civil.Date { return civil.Date{Year: 2025, Month: 3, Day: d} }

var (
	demo   = config.Account{Name: "demo", MerchantCode: "LLDEMO"}
	second = config.Account{Name: "second", MerchantCode: "LLTWO"}
)

// describe writes tasks as "date account status" lines.
func describe(tasks []*Task) string {
	var b strings.Builder
	for _, t := range tasks {
		fmt.Fprintf(&b, "%02d %s %s\n", t.Date.Day, t.Account.Name, t.Status)
	}
	return b.String()
}

func TestTasks(t *testing.T) {
	tests := []struct {
		name     string
		from, to civil.Date
		accounts []config.Account
		done     map[string]map[civil.Date]bool
		want     string
	}{
		{"one date", day(1), day(1), []config.Account{demo}, nil, "01 demo not run\n"},
		{"dates in order", day(1), day(3), []config.Account{demo}, nil, "01 demo not run\n02 demo not run\n03 demo not run\n"},
		{"date by date, accounts in order", day(1), day(2), []config.Account{second, demo}, nil,
			"01 second not run\n01 demo not run\n02 second not run\n02 demo not run\n"},
		{"succeeded dates skipped per account", day(1), day(2), []config.Account{demo, second},
			map[string]map[civil.Date]bool{"demo": {day(1): true}, "second": {day(2): true, day(9): true}},
			"01 demo skipped\n01 second not run\n02 demo not run\n02 second skipped\n"},
		{"across a month", civil.Date{Year: 2025, Month: 2, Day: 28}, day(1), []config.Account{demo}, nil, "28 demo not run\n01 demo not run\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(Tasks(tt.from, tt.to, tt.accounts, tt.done)); got != tt.want {
				t.Errorf("got\n%swant\n%s", got, tt.want)
			}
		})
	}
}

// recorder is a RunFunc that records its runs, fails the dates in fail
// and tracks how many run at once.
type recorder struct {
	fail map[string]bool // "account date"
	// cancel, if set, is called on the run of cancelAt.
	cancel   context.CancelFunc
	cancelAt string

	mu                sync.Mutex
	runs              map[string][]int // dates run by account, in order
	running, mostSeen int
}

func (r *recorder) run(ctx context.Context, acct config.Account, date civil.Date) (pipeline.Summary, error) {
	key := acct.Name + " " + date.String()
	r.mu.Lock()
	if r.runs == nil {
		r.runs = map[string][]int{}
	}
	r.runs[acct.Name] = append(r.runs[acct.Name], date.Day)
	r.running++
	r.mostSeen = max(r.mostSeen, r.running)
	r.mu.Unlock()
	if key == r.cancelAt {
		r.cancel()
	}
	time.Sleep(2 * time.Millisecond) // let other accounts overlap
	r.mu.Lock()
	r.running--
	r.mu.Unlock()
	s := pipeline.Summary{RunID: "run-" + key, Tables: []pipeline.TableSummary{{Table: "orders", Rows: int64(date.Day)}, {Table: "order_items", Rows: 1}}}
	if r.fail[key] {
		return s, errors.New("boom")
	}
	return s, nil
}

func TestExecute(t *testing.T) {
	three := []config.Account{demo, second, {Name: "third", MerchantCode: "LL3"}}
	tests := []struct {
		name      string
		accounts  []config.Account
		done      map[string]map[civil.Date]bool
		parallel  int
		keepGoing bool
		fail      []string
		cancelAt  string
		want      string
		runs      map[string][]int
	}{
		{name: "all succeed", accounts: []config.Account{demo}, parallel: 1,
			want: "01 demo succeeded\n02 demo succeeded\n03 demo succeeded\n",
			runs: map[string][]int{"demo": {1, 2, 3}}},
		{name: "skipped dates are not run", accounts: []config.Account{demo}, parallel: 1,
			done: map[string]map[civil.Date]bool{"demo": {day(2): true}},
			want: "01 demo succeeded\n02 demo skipped\n03 demo succeeded\n",
			runs: map[string][]int{"demo": {1, 3}}},
		{name: "a failed date stops its account only", accounts: []config.Account{demo, second}, parallel: 2,
			fail: []string{"demo 2025-03-02"},
			want: "01 demo succeeded\n01 second succeeded\n02 demo failed\n02 second succeeded\n03 demo not run\n03 second succeeded\n",
			runs: map[string][]int{"demo": {1, 2}, "second": {1, 2, 3}}},
		{name: "keep going after a failed date", accounts: []config.Account{demo}, parallel: 1, keepGoing: true,
			fail: []string{"demo 2025-03-01"},
			want: "01 demo failed\n02 demo succeeded\n03 demo succeeded\n",
			runs: map[string][]int{"demo": {1, 2, 3}}},
		{name: "cancelled: no more dates start", accounts: []config.Account{demo}, parallel: 1, cancelAt: "demo 2025-03-02",
			want: "01 demo succeeded\n02 demo succeeded\n03 demo not run\n",
			runs: map[string][]int{"demo": {1, 2}}},
		{name: "parallel accounts, dates in order", accounts: three, parallel: 2,
			want: "01 demo succeeded\n01 second succeeded\n01 third succeeded\n02 demo succeeded\n02 second succeeded\n02 third succeeded\n03 demo succeeded\n03 second succeeded\n03 third succeeded\n",
			runs: map[string][]int{"demo": {1, 2, 3}, "second": {1, 2, 3}, "third": {1, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &recorder{fail: map[string]bool{}, cancel: cancel, cancelAt: tt.cancelAt}
			for _, f := range tt.fail {
				r.fail[f] = true
			}
			var progress []string
			b := &Backfill{Accounts: tt.accounts, From: day(1), To: day(3), Parallel: tt.parallel, KeepGoing: tt.keepGoing, Run: r.run,
				Progress: func(done, total int, t *Task) {
					note := ""
					if t != nil {
						note = " " + t.Account.Name + " " + string(t.Status)
					}
					progress = append(progress, fmt.Sprintf("%d/%d%s", done, total, note))
				}}
			tasks := Tasks(b.From, b.To, b.Accounts, tt.done)
			b.Execute(ctx, tasks)
			if got := describe(tasks); got != tt.want {
				t.Errorf("tasks:\n%swant\n%s", got, tt.want)
			}
			for acct, want := range tt.runs {
				if got := r.runs[acct]; !slices.Equal(got, want) {
					t.Errorf("%s ran dates %v, want %v", acct, got, want)
				}
			}
			if len(r.runs) != len(tt.runs) {
				t.Errorf("runs %v, want %v", r.runs, tt.runs)
			}
			if r.mostSeen > tt.parallel {
				t.Errorf("%d runs at once, want at most %d", r.mostSeen, tt.parallel)
			}
			ran := 0
			for _, d := range tt.runs {
				ran += len(d)
			}
			// 0 of the dates to run (the skipped ones are not), then one
			// call per date run, counting up from 1: none counts a date
			// before it has finished.
			toRun := len(tasks) - strings.Count(tt.want, "skipped")
			want := []string{fmt.Sprintf("0/%d", toRun)}
			for i := 1; i <= ran; i++ {
				want = append(want, fmt.Sprintf("%d/%d", i, toRun))
			}
			for i := range progress {
				progress[i], _, _ = strings.Cut(progress[i], " ")
			}
			if !slices.Equal(progress, want) {
				t.Errorf("progress %v, want %v", progress, want)
			}
			for _, task := range tasks {
				if task.Status == Failed && (task.Err == nil || task.Summary.RunID == "") {
					t.Errorf("failed task %+v lacks its error or summary", task)
				}
			}
		})
	}
}

func TestCount(t *testing.T) {
	sum := func(rows ...int64) pipeline.Summary {
		var s pipeline.Summary
		for _, n := range rows {
			s.Tables = append(s.Tables, pipeline.TableSummary{Rows: n})
		}
		return s
	}
	tests := []struct {
		name     string
		tasks    []*Task
		want     Counts
		complete bool
	}{
		{"none", nil, Counts{}, true},
		{"succeeded and skipped", []*Task{{Status: Succeeded, Summary: sum(3, 4)}, {Status: Skipped}, {Status: Succeeded, Summary: sum(5)}},
			Counts{Succeeded: 2, Skipped: 1, Rows: 12}, true},
		{"failed rows not counted", []*Task{{Status: Failed, Summary: sum(7)}, {Status: Succeeded, Summary: sum(1)}},
			Counts{Succeeded: 1, Failed: 1, Rows: 1}, false},
		{"not run", []*Task{{Status: NotRun}, {Status: Skipped}}, Counts{Skipped: 1, NotRun: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Count(tt.tasks)
			if got != tt.want || got.Complete() != tt.complete {
				t.Errorf("Count = %+v complete %v, want %+v complete %v", got, got.Complete(), tt.want, tt.complete)
			}
		})
	}
}

// writeRuns commits runs to etl_runs of the local warehouse at root, each
// in a run of its own, as runs append their records.
func writeRuns(t *testing.T, root string, runs ...schemas.Run) {
	t.Helper()
	w := local.New(root)
	for _, r := range runs {
		d, err := w.Begin(t.Context(), r.MerchantCode, r.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AppendRun(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSucceededDates(t *testing.T) {
	root := filepath.Join(t.TempDir(), "warehouse")
	run := func(id, job, merchant string, date civil.Date, status string, started civil.Date) schemas.Run {
		at := started.In(time.UTC)
		return schemas.Run{RunID: id, Job: job, MerchantCode: merchant, BusinessDate: date, Status: status, StartedAt: at, StartedOn: started, FinishedAt: at}
	}
	writeRuns(t, root,
		run("r1", "nightly", "LLDEMO", day(1), pipeline.StatusSucceeded, day(10)),
		run("r2", "nightly", "LLDEMO", day(2), pipeline.StatusFailed, day(10)),
		run("r3", "nightly", "LLDEMO", day(3), pipeline.StatusFailed, day(11)),
		run("r4", "nightly", "LLDEMO", day(3), pipeline.StatusSucceeded, day(12)),
		run("r5", "weekly", "LLDEMO", day(4), pipeline.StatusSucceeded, day(12)),
		run("r6", "nightly", "LLTWO", day(5), pipeline.StatusSucceeded, day(12)),
	)
	job := config.Job{Name: "nightly", Destination: config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}}
	tests := []struct {
		name string
		job  config.Job
		acct config.Account
		want []civil.Date
	}{
		{"succeeded after failing, other jobs and merchants not counted", job, demo, []civil.Date{day(1), day(3)}},
		{"another merchant", job, second, []civil.Date{day(5)}},
		{"no runs yet", config.Job{Name: "nightly", Destination: config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: filepath.Join(t.TempDir(), "empty")}}}, demo, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SucceededDates(t.Context(), tt.job, tt.acct)
			if err != nil {
				t.Fatal(err)
			}
			var dates []civil.Date
			for d := range got {
				dates = append(dates, d)
			}
			slices.SortFunc(dates, func(a, b civil.Date) int { return a.DaysSince(b) })
			if !slices.Equal(dates, tt.want) {
				t.Errorf("SucceededDates = %v, want %v", dates, tt.want)
			}
		})
	}
}

// TestPlanForce: a forced backfill does not read etl_runs (its
// destination need not even be valid), an unforced one skips what
// succeeded.
func TestPlanForce(t *testing.T) {
	root := filepath.Join(t.TempDir(), "warehouse")
	at := day(10).In(time.UTC)
	writeRuns(t, root, schemas.Run{RunID: "r1", Job: "nightly", MerchantCode: "LLDEMO", BusinessDate: day(2), Status: pipeline.StatusSucceeded, StartedAt: at, StartedOn: day(10), FinishedAt: at})
	tests := []struct {
		name  string
		force bool
		dest  config.Destination
		want  string
	}{
		{"skips what succeeded", false, config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}, "01 demo not run\n02 demo skipped\n03 demo not run\n"},
		{"forced", true, config.Destination{Type: "nowhere"}, "01 demo not run\n02 demo not run\n03 demo not run\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Backfill{Job: config.Job{Name: "nightly", Destination: tt.dest}, Accounts: []config.Account{demo}, From: day(1), To: day(3), Force: tt.force}
			tasks, err := b.Plan(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(tasks); got != tt.want {
				t.Errorf("got\n%swant\n%s", got, tt.want)
			}
		})
	}
}
