package bigquery

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bq "cloud.google.com/go/bigquery"
	"github.com/ledgerline/ledgerline/schemas"
	"google.golang.org/api/iterator"
)

// ErrStateConflict is the error of a commit refused because another run of
// the same slice committed after this run began: this run may have read
// the slice's committed state (such as the chargebacks) before that commit,
// so committing it could give a result no serial order of the two runs
// gives. Nothing of the run is committed; rerunning it reads the new state.
// Such a commit is not retried.
var ErrStateConflict = errors.New("state conflict")

// conflictMarker starts the message of the ERROR() the commit transaction
// raises on a state conflict, by which Commit recognizes it.
const conflictMarker = "ledgerline state conflict"

// succeededRuns returns how many succeeded runs of slice etl_runs holds.
// Runs append to etl_runs and never change or delete a record, and a run
// that changes a slice's data commits its succeeded record in the same
// transaction, so the count grows with every such commit.
func (w *Warehouse) succeededRuns(ctx context.Context, slice string) (int64, error) {
	q := w.client.Query(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s = @slice AND %s = 'succeeded'",
		qualified(w.table(schemas.Runs().Name)), quoteIdent(sliceColumn), quoteIdent("status")))
	q.Parameters = []bq.QueryParameter{{Name: "slice", Value: slice}}
	q.Location = w.cfg.Location
	it, err := q.Read(ctx)
	if err != nil {
		return 0, fmt.Errorf("bigquery: counting the succeeded runs of %s: %w", slice, err)
	}
	var row []bq.Value
	if err := it.Next(&row); err != nil {
		if errors.Is(err, iterator.Done) {
			err = errors.New("no row")
		}
		return 0, fmt.Errorf("bigquery: counting the succeeded runs of %s: %w", slice, err)
	}
	n, ok := row[0].(int64)
	if len(row) != 1 || !ok {
		return 0, fmt.Errorf("bigquery: counting the succeeded runs of %s: got %v, want an INT64", slice, row)
	}
	return n, nil
}

// stateGuard returns the statement that opens the commit transaction of a
// run of slice that began when etl_runs (runs, qualified) held seen
// succeeded runs of slice: it fails the transaction with ERROR() when the
// count differs, and inserts nothing otherwise. It is an INSERT of no rows
// rather than IF ... RAISE or SELECT ERROR(), which the BigQuery emulator
// skips inside a script; the one-row count makes ERROR() run whatever
// etl_runs holds.
func stateGuard(slice string, runs string, seen int64) string {
	t := schemas.Runs()
	nulls := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		nulls[i] = "CAST(NULL AS " + sqlType(c.Type) + ")"
	}
	msg := fmt.Sprintf("%s: %d succeeded runs of merchant %s when the run began", conflictMarker, seen, slice)
	return fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s\nFROM (SELECT COUNT(*) AS n FROM %s WHERE %s = %s AND %s = 'succeeded')\nWHERE IF(n = %d, FALSE, ERROR(CONCAT(%s, CAST(n AS STRING), ' now')));\n",
		runs, columnList(t), strings.Join(nulls, ", "), runs, quoteIdent(sliceColumn), quoteString(slice), quoteIdent("status"), seen, quoteString(msg+", "))
}

// sqlType returns the GoogleSQL name of a column type, for CAST.
func sqlType(t schemas.Type) string {
	switch t {
	case schemas.String:
		return "STRING"
	case schemas.Int64:
		return "INT64"
	case schemas.Bool:
		return "BOOL"
	case schemas.Decimal, schemas.Rate:
		return "NUMERIC"
	case schemas.Timestamp:
		return "TIMESTAMP"
	case schemas.Date:
		return "DATE"
	default:
		panic(fmt.Sprintf("bigquery: unknown column type %v", t))
	}
}

// stateConflict reports whether err is the commit transaction's failure
// on a state conflict.
func stateConflict(err error) bool {
	return err != nil && strings.Contains(err.Error(), conflictMarker)
}
