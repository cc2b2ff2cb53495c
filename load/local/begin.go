package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// lockPoll is how often Begin retries an account lock held by another run.
const lockPoll = 20 * time.Millisecond

// lockSlice takes the account lock of slice, waiting while another run of
// the slice, in this process or another, holds it.
func (w *Warehouse) lockSlice(ctx context.Context, slice string) (*os.File, error) {
	path := filepath.Join(w.control(lockSub), slice+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	for {
		held, err := tryLock(f)
		if err == nil && !held {
			return f, nil
		}
		if err == nil {
			select {
			case <-ctx.Done():
				err = fmt.Errorf("waiting for the lock of account %s: %w", slice, ctx.Err())
			case <-t.C:
				continue
			}
		}
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
}

// commitLockName is the file in the lock directory (a name no slice's lock
// file can have: slices hold no dot) that a commit locks exclusively
// while it publishes and takes the steps of its journal, and a read locks
// shared while it lists and reads files: a read then sees each commit
// before or after it, and never opens a file that a step has just renamed
// or removed.
const commitLockName = "warehouse.commit.lock"

// commitLock takes the exclusive commit lock, creating its file if needed,
// and returns the function that releases it.
func (w *Warehouse) commitLock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(w.control(lockSub), commitLockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockExclusive(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// readLock takes the shared commit lock for a read, and returns the
// function that releases it. It creates nothing: without a lock file no run
// has begun, and there is nothing to wait for.
func (w *Warehouse) readLock() (func(), error) {
	f, err := os.Open(filepath.Join(w.control(lockSub), commitLockName))
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := lockShared(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// runMarker says that a run has begun: it is written at Begin and removed
// when the run commits (as the last step of its journal) or aborts. A
// marker found by the next run of the slice is a run that died.
type runMarker struct {
	RunID   string    `json:"run_id"`
	Slice   string    `json:"slice"`
	BegunAt time.Time `json:"begun_at"`
	// Record is the run's record as the run described itself (Started),
	// recorded with status abandoned if the run dies.
	Record *schemas.Run `json:"record,omitempty"`
}

func (d *Dir) writeMarker(m runMarker) error {
	return writeDurably(d.fs, d.control(runsSub), controlName(d.slice, d.runID), m)
}

// Started records what the run is, rec with its job, account and business
// date, so that if the run dies before it commits or aborts, the next run
// of the slice appends rec to etl_runs with status abandoned.
func (d *Dir) Started(ctx context.Context, rec schemas.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	if err := d.writeMarker(runMarker{RunID: d.runID, Slice: d.slice, BegunAt: d.begunAt, Record: &rec}); err != nil {
		return fmt.Errorf("local: run %s: %w", d.runID, err)
	}
	return nil
}

// recover cleans up after the runs of the slice that died, under the
// slice's lock: it finishes their published commits, appends an abandoned
// record for each run that died before its commit point, and removes their
// temporary files.
func (d *Dir) recover(ctx context.Context) error {
	js, err := d.journals(d.slice)
	if err != nil {
		return err
	}
	for _, j := range js {
		if err := d.locked(func() error { return d.finish(j) }); err != nil {
			return fmt.Errorf("finishing the commit of run %s: %w", j.RunID, err)
		}
	}
	runs := d.control(runsSub)
	entries, err := os.ReadDir(runs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, d.slice+".") && strings.HasSuffix(n, ".json") {
			if err := d.abandon(ctx, filepath.Join(runs, n)); err != nil {
				return err
			}
		}
	}
	return d.sweep()
}

// abandon appends the abandoned record of the run whose marker is at
// path, and removes the marker, in one commit.
func (d *Dir) abandon(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m runMarker
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("run marker %s: %w", path, err)
	}
	if m.Slice != d.slice || !runIDPattern.MatchString(m.RunID) || filepath.Base(path) != controlName(m.Slice, m.RunID) {
		return fmt.Errorf("run marker %s names run %q of slice %q", path, m.RunID, m.Slice)
	}
	rec := abandonedRecord(m, d.runID, d.begunAt)
	t := schemas.Runs()
	dir := d.PartitionDir(t, rec.StartedOn)
	tmp := filepath.Join(dir, recordTempName(m.RunID, d.slice))
	if err := writeFile(ctx, d.fs, dir, tmp, t, []*schemas.Run{&rec}); err != nil {
		return err
	}
	j := &journal{RunID: m.RunID, Slice: d.slice, Ops: []op{
		{From: d.rel(tmp), Path: d.rel(filepath.Join(dir, RecordFileName(d.slice, m.RunID)))},
		{Path: d.rel(path)},
	}}
	err = d.locked(func() error {
		if err := d.publish(j); err != nil {
			return err
		}
		return d.finish(j)
	})
	if err != nil {
		return fmt.Errorf("recording abandoned run %s: %w", m.RunID, err)
	}
	return nil
}

// locked calls fn under the exclusive commit lock.
func (w *Warehouse) locked(fn func() error) error {
	unlock, err := w.commitLock()
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// abandonedRecord returns the etl_runs record of the run of marker m,
// found dead by run by at now. A run that never described itself is
// recorded with what its marker holds, its business date the day it began.
func abandonedRecord(m runMarker, by string, now time.Time) schemas.Run {
	rec := schemas.Run{RunID: m.RunID, StartedAt: m.BegunAt.UTC().Truncate(time.Microsecond)}
	if m.Record != nil {
		rec = *m.Record
	}
	rec.RunID, rec.MerchantCode, rec.Status = m.RunID, m.Slice, load.StatusAbandoned
	if rec.StartedAt.IsZero() {
		rec.StartedAt = m.BegunAt.UTC().Truncate(time.Microsecond)
	}
	rec.StartedOn = civil.DateOf(rec.StartedAt)
	if !rec.BusinessDate.IsValid() {
		rec.BusinessDate = rec.StartedOn
	}
	rec.FinishedAt = now.UTC().Truncate(time.Microsecond)
	rec.DurationMS = max(rec.FinishedAt.Sub(rec.StartedAt).Milliseconds(), 0)
	msg := fmt.Sprintf("the run ended without committing or aborting (its process died); found by run %s, whose start is finished_at", by)
	rec.Error = &msg
	return rec
}

// sweep removes the temporary files of the slice's runs, which no run of
// the slice owns any more: the caller holds the slice's lock and has
// finished every published commit of the slice.
func (d *Dir) sweep() error {
	suffix := "." + FileName(d.slice) + ".tmp"
	var errs []error
	err := filepath.WalkDir(d.root, func(path string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case e.IsDir() && path == filepath.Join(d.root, controlDir):
			return d.sweepControl()
		case e.IsDir():
			return nil
		}
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, suffix) {
			errs = append(errs, removeIfExists(d.fs, path))
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sweepControl removes the temporary journal and marker files of the
// slice, and reports filepath.SkipDir.
func (d *Dir) sweepControl() error {
	var errs []error
	for _, sub := range []string{journalSub, runsSub} {
		dir := d.control(sub)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasPrefix(n, "."+d.slice+".") && strings.HasSuffix(n, ".json.tmp") {
				errs = append(errs, removeIfExists(d.fs, filepath.Join(dir, n)))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return filepath.SkipDir
}
