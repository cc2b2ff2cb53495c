package runstatus

import (
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestOf: the last success is the latest business date that succeeded; the
// lag counts the dates after it up to yesterday in the job's zone; the last
// error is the last failed or abandoned run that started after it; the next
// start follows the schedule in the job's zone.
func TestOf(t *testing.T) {
	day := func(d int) civil.Date { return civil.Date{Year: 2025, Month: 3, Day: d} }
	at := func(h int) time.Time { return time.Date(2025, 4, 1, h, 0, 0, 0, time.UTC) }
	run := func(id, acct, status string, d, h int) schemas.Run {
		return schemas.Run{RunID: id, Account: acct, Status: status, BusinessDate: day(d), StartedAt: at(h)}
	}
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	now := at(13) // 2 April 02:00 in Auckland
	for _, tt := range []struct {
		name        string
		tz          *time.Location
		runs        []schemas.Run
		lastSuccess string // run id; "" for none
		lag         int
		lastError   string
	}{
		{"no runs", time.UTC, nil, "", -1, ""},
		{"only failures", time.UTC, []schemas.Run{run("f1", "a", "failed", 30, 1), run("f2", "a", "abandoned", 31, 2)}, "", -1, "f2"},
		{"success then failure", time.UTC, []schemas.Run{run("s1", "a", "succeeded", 29, 1), run("f1", "a", "failed", 31, 2)}, "s1", 2, "f1"},
		{"failure then success", time.UTC, []schemas.Run{run("f1", "a", "failed", 31, 1), run("s1", "a", "succeeded", 31, 2)}, "s1", 0, ""},
		{"backfill of an older date after", time.UTC, []schemas.Run{run("s2", "a", "succeeded", 31, 1), run("s1", "a", "succeeded", 20, 2)}, "s2", 0, ""},
		{"other accounts ignored", time.UTC, []schemas.Run{run("s1", "a", "succeeded", 30, 1), run("f9", "b", "failed", 31, 2)}, "s1", 1, ""},
		{"yesterday in the job's zone", auckland, []schemas.Run{run("s1", "a", "succeeded", 31, 1)}, "s1", 1, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			job := config.Job{Name: "nightly", Schedule: "0 2 * * *", Timezone: tt.tz, Accounts: []string{"a"}}
			sts, err := Of(job, tt.runs, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) != 1 {
				t.Fatalf("%d statuses, want 1", len(sts))
			}
			st := sts[0]
			if got := idOf(st.LastSuccess); got != tt.lastSuccess || st.LagDays != tt.lag || idOf(st.LastError) != tt.lastError {
				t.Errorf("last success %q, lag %d, last error %q; want %q, %d, %q", got, st.LagDays, idOf(st.LastError), tt.lastSuccess, tt.lag, tt.lastError)
			}
			want := time.Date(2025, 4, 2, 2, 0, 0, 0, time.UTC)
			if tt.tz == auckland {
				want = time.Date(2025, 4, 3, 2, 0, 0, 0, auckland)
			}
			if st.Next == nil || !st.Next.Equal(want) {
				t.Errorf("next run %v, want %v", st.Next, want)
			}
		})
	}
}

func idOf(r *Run) string {
	if r == nil {
		return ""
	}
	return r.RunID
}

// TestLastSuccessesOfANewWarehouse: a warehouse no run has written yet
// (etl schedule's first start) has no last success, and no error.
func TestLastSuccessesOfANewWarehouse(t *testing.T) {
	job := config.Job{Name: "nightly", Schedule: "0 2 * * *", Timezone: time.UTC, Accounts: []string{"a"},
		Destination: config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: t.TempDir() + "/warehouse"}}}
	got, err := LastSuccesses(t.Context(), job)
	if err != nil || len(got) != 0 {
		t.Errorf("LastSuccesses = %v, %v; want none", got, err)
	}
}
