package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// AppendRun adds rec to etl_runs at Commit, in a file of the run's own in
// the partition of rec.StartedOn. The record must be of the run's slice.
func (d *Dir) AppendRun(ctx context.Context, rec schemas.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec.MerchantCode != d.slice {
		return fmt.Errorf("local: run record of merchant_code %q appended by the run of slice %q", rec.MerchantCode, d.slice)
	}
	if !rec.StartedOn.IsValid() {
		return fmt.Errorf("local: run record %s: invalid started_on %v", rec.RunID, rec.StartedOn)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usable(); err != nil {
		return err
	}
	d.records = append(d.records, rec)
	return nil
}

// RecordFileName returns the name of the file of the records of run runID
// of slice in an etl_runs partition.
func RecordFileName(slice, runID string) string { return slice + "." + runID + ".parquet" }

// recordFile is a file of the run's records, written to tmp, committed at
// path.
type recordFile struct{ tmp, path string }

// writeRecords writes the run's records to temporary files, one per
// etl_runs partition, and syncs them. They are recorded in d.recordTmps
// until renamed, so that Abort removes them.
func (d *Dir) writeRecords(ctx context.Context) ([]recordFile, error) {
	t := schemas.Runs()
	byDay := make(map[civil.Date][]*schemas.Run)
	for i := range d.records {
		rec := &d.records[i]
		byDay[rec.StartedOn] = append(byDay[rec.StartedOn], rec)
	}
	var files []recordFile
	for _, day := range slices.SortedFunc(maps.Keys(byDay), civil.Date.Compare) {
		dir := d.PartitionDir(t, day)
		f := recordFile{
			tmp:  filepath.Join(dir, recordTempName(d.runID, d.slice)),
			path: filepath.Join(dir, RecordFileName(d.slice, d.runID)),
		}
		d.recordTmps = append(d.recordTmps, f.tmp)
		if err := writeFile(ctx, d.fs, dir, f.tmp, t, byDay[day]); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// recordTempName returns the name of the temporary file of the records of
// run runID of slice in an etl_runs partition.
func recordTempName(runID, slice string) string {
	return "." + runID + ".etl_runs." + FileName(slice) + ".tmp"
}

// writeFile writes rows of t as the Parquet file name in dir and syncs it.
func writeFile[R any](ctx context.Context, fsys fileSystem, dir, name string, t schemas.Table, rows []*R) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	pw, err := load.NewParquetWriter(bw, t)
	for i := 0; err == nil && i < len(rows); i++ {
		err = pw.Write(rows[i])
	}
	if err == nil {
		err = pw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = fsys.Sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// removeRecordTmps removes the temporary record files that remain.
func (d *Dir) removeRecordTmps() error {
	var errs []error
	for _, name := range d.recordTmps {
		errs = append(errs, removeIfExists(d.fs, name))
	}
	d.recordTmps = nil
	return errors.Join(errs...)
}

// Read calls fn with every committed row of t in span: partition by
// partition in date order, file by file in name order.
func (w *Warehouse) Read(ctx context.Context, t schemas.Table, span load.Span, fn func(row any) error) error {
	keep, err := load.MerchantFilter(t, span.Merchant)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNames(t); err != nil {
		return err
	}
	unlock, err := w.readLock()
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	defer unlock()
	v, err := w.pending()
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	dates, err := w.partitions(t, v)
	if err != nil {
		return err
	}
	for _, date := range dates {
		if !span.Contains(date) {
			continue
		}
		err := w.readPartition(ctx, t, date, v, span.Columns, func(row any) error {
			if !keep(row) {
				return nil
			}
			return fn(row)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
