package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ledgerline/ledgerline/load"
)

// Commit makes the run's partitions and records visible at once: it
// writes and syncs the records, publishes the run's journal (the commit
// point), then takes its steps (each finished file renamed over its slice
// file, the slice file of every cleared or empty partition removed, the
// records renamed into etl_runs, the run's marker removed), syncs the
// directories, removes the journal and releases the account lock.
//
// It fails, changing nothing, if a partition writer is still open or
// failed, or if anything fails before the commit point; then only Abort is
// left. Once the journal is published the run is committed, whatever
// follows: readers see it, and a step that fails after it is retaken by
// the next Begin of the slice, so Commit reports success.
func (d *Dir) Commit(ctx context.Context) (load.CommitStats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return load.CommitStats{}, err
	}
	if err := ctx.Err(); err != nil {
		return load.CommitStats{}, err
	}
	parts := d.sortedParts()
	if err := d.checkWriters(parts); err != nil {
		return load.CommitStats{}, err
	}
	d.ended.Store(true)
	d.state = failed // until the journal is published
	records, err := d.writeRecords(ctx)
	if err != nil {
		return load.CommitStats{}, fmt.Errorf("local: commit of run %s: %w", d.runID, err)
	}
	j, stats := d.plan(parts, records)
	unlock, err := d.commitLock()
	if err != nil {
		return load.CommitStats{}, fmt.Errorf("local: commit of run %s: %w", d.runID, err)
	}
	defer unlock()
	d.published = true // from the first step on, Abort removes the journal
	if err := d.publish(j); err != nil {
		return load.CommitStats{}, fmt.Errorf("local: commit of run %s: %w", d.runID, err)
	}
	d.state = committed
	// The error is not the run's: the run is committed, and the next Begin
	// of the slice retakes what failed.
	_ = d.finish(j)
	d.unlock()
	return stats, nil
}

// checkWriters reports an error if a partition writer is open or failed.
func (d *Dir) checkWriters(parts []*part) error {
	for _, p := range parts {
		if p.w == nil {
			continue
		}
		switch st, err := p.w.status(); {
		case st == writerOpen:
			return fmt.Errorf("local: commit of run %s: %s partition %v not closed", d.runID, p.table.Name, p.date)
		case err != nil:
			return fmt.Errorf("local: commit of run %s: %s partition %v: %w", d.runID, p.table.Name, p.date, err)
		}
	}
	return nil
}

// plan returns the journal of the run's commit and what it will replace.
// The records' steps come after the data's, and the marker's last.
func (d *Dir) plan(parts []*part, records []recordFile) (*journal, load.CommitStats) {
	j := &journal{RunID: d.runID, Slice: d.slice}
	var stats load.CommitStats
	for _, p := range parts {
		data := d.rel(filepath.Join(p.dir, FileName(d.slice)))
		if p.w != nil && p.w.rows > 0 {
			j.Ops = append(j.Ops, op{From: d.rel(p.w.path), Path: data})
			stats.Partitions++
			stats.Rows += p.w.rows
			continue
		}
		if p.w != nil {
			j.Ops = append(j.Ops, op{Path: d.rel(p.w.path)})
		}
		j.Ops = append(j.Ops, op{Path: data})
		stats.Cleared++
	}
	for _, rec := range records {
		j.Ops = append(j.Ops, op{From: d.rel(rec.tmp), Path: d.rel(rec.path)})
	}
	j.Ops = append(j.Ops, op{Path: d.rel(d.markerPath())})
	return j, stats
}

func (d *Dir) markerPath() string {
	return filepath.Join(d.control(runsSub), controlName(d.slice, d.runID))
}

func (d *Dir) sortedParts() []*part {
	parts := make([]*part, 0, len(d.parts))
	for _, p := range d.parts {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b *part) int {
		if c := strings.Compare(a.table.Name, b.table.Name); c != 0 {
			return c
		}
		return a.date.Compare(b.date)
	})
	return parts
}

// Abort discards the run's temporary files, a journal that a failed
// Commit may have published, and the run's marker, and releases the
// account lock. It is idempotent and does nothing after a successful
// Commit. What it fails to remove, the next Begin of the slice removes.
func (d *Dir) Abort(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state == committed || d.state == aborted {
		return nil
	}
	d.ended.Store(true)
	var errs []error
	if d.published {
		// The journal goes first: replayed without the files it renames,
		// it would take only its removals.
		jdir := d.control(journalSub)
		errs = append(errs, d.locked(func() error {
			if err := removeIfExists(d.fs, filepath.Join(jdir, controlName(d.slice, d.runID))); err != nil {
				return err
			}
			return d.fs.SyncDir(jdir)
		}))
	}
	for _, p := range d.sortedParts() {
		if p.w == nil {
			continue
		}
		p.w.f.Close() // already closed unless the writer is still open
		errs = append(errs, removeIfExists(d.fs, p.w.path))
	}
	errs = append(errs, d.removeRecordTmps())
	errs = append(errs, removeIfExists(d.fs, d.markerPath()), d.fs.SyncDir(d.control(runsSub)))
	d.state = aborted
	d.unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("local: abort of run %s: %w", d.runID, err)
	}
	return nil
}
