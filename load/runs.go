package load

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/schemas"
)

// Statuses of a run record in etl_runs.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	// StatusAbandoned is the record of a run that died without committing
	// or aborting, appended by the next run that found it.
	StatusAbandoned = "abandoned"
)

// RunQuery selects run records of etl_runs. Empty fields select any value.
type RunQuery struct {
	// Merchant is the merchant code of the runs' account.
	Merchant string
	Job      string
	Account  string
	Status   string
	// From and To bound the runs' business dates, inclusive; a zero date
	// leaves that end open.
	From, To civil.Date
	// StartedFrom, when set, leaves out runs that started (UTC) before it.
	// It bounds the partitions of etl_runs that are read.
	StartedFrom civil.Date
}

func (q RunQuery) match(r *schemas.Run) bool {
	return (q.Job == "" || r.Job == q.Job) &&
		(q.Account == "" || r.Account == q.Account) &&
		(q.Status == "" || r.Status == q.Status) &&
		(Span{From: q.From, To: q.To}).Contains(r.BusinessDate)
}

// Runs returns the run records of etl_runs that q selects, in the order
// the runs started (then by run id). It is the one place that queries
// etl_runs: run state, backfill planning and report coverage ask it. It
// reads with one request where r is a SpanReader.
func Runs(ctx context.Context, r Reader, q RunQuery) ([]schemas.Run, error) {
	var out []schemas.Run
	t := schemas.Runs()
	err := ReadSpan(ctx, r, t, Span{Merchant: q.Merchant, From: q.StartedFrom}, func(row any) error {
		if run := row.(*schemas.Run); q.match(run) {
			out = append(out, *run)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.Name, err)
	}
	slices.SortFunc(out, func(a, b schemas.Run) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.RunID, b.RunID)
	})
	return out, nil
}

// SucceededDates returns the business dates of the runs q selects that
// succeeded: the dates a backfill may skip.
func SucceededDates(ctx context.Context, r Reader, q RunQuery) (map[civil.Date]bool, error) {
	q.Status = StatusSucceeded
	runs, err := Runs(ctx, r, q)
	if err != nil {
		return nil, err
	}
	done := make(map[civil.Date]bool, len(runs))
	for _, run := range runs {
		done[run.BusinessDate] = true
	}
	return done, nil
}
