// Package load writes the tables of the contract in package schemas as
// Parquet files and defines the destinations a run loads them into.
//
// A run writes every partition it touches through a [Destination]; each
// partition's rows replace the partition whole, and nothing becomes visible
// until [Destination.Commit]. Destinations live in subpackages (local, and
// later bigquery) and must all pass the conformance suite in package
// loadtest.
package load

import (
	"context"
	"fmt"
	"reflect"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/schemas"
)

// Destination accepts the partitions of one run; nothing is visible until
// Commit. Its methods are safe for concurrent use; each PartitionWriter is
// used by one goroutine at a time.
//
// A run names each partition at most once, by Partition or Clear. Commit
// fails, committing nothing, if a PartitionWriter is still open or failed.
type Destination interface {
	// Partition returns a writer whose rows replace partition date of table
	// t whole. Rows are pointers to t's row struct, and their partition
	// column must equal date. A partition written with no rows is empty
	// after Commit, as if cleared.
	Partition(ctx context.Context, t schemas.Table, date civil.Date) (PartitionWriter, error)
	// Clear replaces partition date of table t with nothing at Commit.
	Clear(ctx context.Context, t schemas.Table, date civil.Date) error
	// Commit makes every partition of the run visible.
	Commit(ctx context.Context) (CommitStats, error)
	// Abort discards everything written. It is idempotent, and a no-op
	// after a successful Commit.
	Abort(ctx context.Context) error
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

// Reader reads the committed data of a destination. The conformance suite
// reads through it, and so do the reports and the run state.
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
