// Package load writes the tables of the contract in package schemas as
// Parquet files and defines the destinations a run loads them into.
//
// A run begins at a [Warehouse] and writes every partition it touches
// through the [Destination] it gets; each partition's rows replace the
// partition whole, and nothing becomes visible until the commit, which also
// appends the run's record to etl_runs. Warehouses live in subpackages
// (local, bigquery), are chosen by package destinations, and must all pass
// the conformance suite in package loadtest.
package load

import (
	"context"
	"fmt"
	"reflect"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/schemas"
)

// Partitioner accepts the partitions of a run: the data flows in through
// it, one partition writer at a time, like an io.Writer.
type Partitioner interface {
	// Partition returns a writer whose rows replace partition date of table
	// t whole. Rows are pointers to t's row struct, and their partition
	// column must equal date. A partition written with no rows is empty
	// after Commit, as if cleared.
	Partition(ctx context.Context, t schemas.Table, date civil.Date) (PartitionWriter, error)
	// Clear replaces partition date of table t with nothing at Commit.
	Clear(ctx context.Context, t schemas.Table, date civil.Date) error
}

// RunRecorder appends run records to etl_runs (schemas.Runs). etl_runs is
// append-only: a record is added by the commit of the run that appends it,
// never by rewriting what is there, so runs committing at once cannot lose
// each other's records.
type RunRecorder interface {
	// AppendRun adds rec to etl_runs at Commit, together with the run's
	// partitions.
	AppendRun(ctx context.Context, rec schemas.Run) error
}

// Committer ends a run.
type Committer interface {
	// Commit makes every partition and run record of the run visible.
	Commit(ctx context.Context) (CommitStats, error)
	// Abort discards everything written. It is idempotent, and a no-op
	// after a successful Commit.
	Abort(ctx context.Context) error
}

// Destination is one run at a warehouse: it accepts partitions and run
// records, and nothing is visible until Commit. Its methods are safe for
// concurrent use; each PartitionWriter is used by one goroutine at a time.
//
// A run names each partition at most once, by Partition or Clear. Commit
// fails, committing nothing, if a PartitionWriter is still open or failed.
type Destination interface {
	Partitioner
	RunRecorder
	Committer
}

// Warehouse is where runs load and what they committed is read from: a
// local directory, a BigQuery dataset (see package destinations). It is
// safe for concurrent use.
type Warehouse interface {
	SpanReader
	// Begin starts the run runID, which replaces the rows of slice (the
	// account's merchant code) in the partitions it writes or clears. The
	// run id must be unique among the runs of the slice.
	Begin(ctx context.Context, slice, runID string) (Destination, error)
	// Close releases the warehouse once its runs have ended.
	Close() error
}

// ReadCloser is a read-only warehouse: opening one creates nothing.
type ReadCloser interface {
	SpanReader
	Close() error
}

// PartitionWriter writes the rows of one partition.
type PartitionWriter interface {
	// Write appends row, a pointer to the table's row struct. The row is
	// not retained.
	Write(row any) error
	// Close finishes the partition's file; it becomes visible at Commit.
	Close() error
}

// CommitStats describes what a Commit replaced.
type CommitStats struct {
	// Partitions is the number of partitions replaced by rows.
	Partitions int
	// Cleared is the number of partitions replaced by nothing, whether by
	// Clear or by a partition written with no rows.
	Cleared int
	// Rows is the number of rows in the replaced partitions.
	Rows int64
}

// Reader reads the committed data of a destination partition by
// partition. The conformance suite reads through it, and so do the reports.
type Reader interface {
	// Partitions returns the dates of the non-empty partitions of t, in
	// ascending order.
	Partitions(ctx context.Context, t schemas.Table) ([]civil.Date, error)
	// ReadPartition calls fn with every row of partition date of t, a
	// pointer to a new row struct that fn may keep, in no particular
	// order. A partition that does not exist has no rows. An error from fn
	// stops the read and is returned.
	ReadPartition(ctx context.Context, t schemas.Table, date civil.Date, fn func(row any) error) error
}

// Span selects committed rows: those of one merchant (every merchant when
// Merchant is empty) whose partition date is from From to To, inclusive. A
// zero From or To leaves that end open.
type Span struct {
	Merchant string
	From, To civil.Date
	// Columns, when not empty, names the columns the read must fill; it
	// may leave the others zero. BigQuery bills a query by the columns it
	// reads, whatever its filter.
	Columns []string
}

// Contains reports whether date is within the span's dates.
func (s Span) Contains(date civil.Date) bool {
	return (s.From.IsZero() || !date.Before(s.From)) && (s.To.IsZero() || !date.After(s.To))
}

// SpanReader is a Reader that also reads the rows of a span in one request
// (one query against BigQuery, instead of one per partition).
type SpanReader interface {
	Reader
	// Read calls fn with every committed row of t in span, as
	// ReadPartition does, in no particular order.
	Read(ctx context.Context, t schemas.Table, span Span, fn func(row any) error) error
}

// PartitionCheck returns a function that reports an error unless row is a
// pointer to t's row struct whose partition column equals date.
// Destinations use it to refuse rows that belong to another partition.
func PartitionCheck(t schemas.Table, date civil.Date) (func(row any) error, error) {
	c, ok := t.Column(t.Partition)
	if !ok || c.Type != schemas.Date || c.Nullable {
		return nil, fmt.Errorf("load: table %s has no DATE partition column %q", t.Name, t.Partition)
	}
	if !date.IsValid() {
		return nil, fmt.Errorf("load: table %s: invalid partition date %v", t.Name, date)
	}
	want := reflect.PointerTo(t.Row)
	return func(row any) error {
		if reflect.TypeOf(row) != want {
			return fmt.Errorf("load: table %s: row is %T, want %v", t.Name, row, want)
		}
		v := reflect.ValueOf(row)
		if v.IsNil() {
			return fmt.Errorf("load: table %s: nil row", t.Name)
		}
		d := v.Elem().Field(c.Field).Addr().Interface().(*civil.Date)
		if *d != date {
			return fmt.Errorf("load: table %s: row with %s %v written to partition %v", t.Name, t.Partition, *d, date)
		}
		return nil
	}, nil
}
