package load

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/ledgerline/ledgerline/schemas"
)

const (
	// batchRows is the number of rows buffered in Arrow builders before
	// they become a record batch for the Parquet writer.
	batchRows = 2048
	// rowGroupRows bounds a row group, and so the memory a writer holds:
	// a buffered row group stays in memory, compressed, until it is full.
	// It is a multiple of batchRows, so batches never straddle row groups.
	rowGroupRows = 64 * batchRows
	// pageBytes is the size of a data page before compression. Every
	// column holds a page in memory while it fills.
	pageBytes = 256 << 10
	// zstdLevel is the zstd compression level of every column.
	zstdLevel = 1
	// maxDecimalUnits is the largest magnitude of DECIMAL(18,6), in
	// millionths.
	maxDecimalUnits = 999_999_999_999_999_999
)

// ParquetWriter writes the rows of one table as a Parquet file: DECIMAL(18,6)
// stored as INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS), DATE, zstd
// compression, row groups of a bounded number of rows. Timestamps keep
// whole microseconds; finer digits are dropped. Columns whose first batch
// of values repeats a lot are dictionary-encoded.
//
// Its memory use does not grow with the number of rows: a writer of a large
// file holds some tens of MB, one of a few rows much less. Rows are buffered
// in Arrow builders and encoded a batch at a time in the background, the
// columns of a batch in parallel. A ParquetWriter is not safe for
// concurrent use.
type ParquetWriter struct {
	table   schemas.Table
	rowType reflect.Type // pointer to the row struct
	sink    io.Writer
	schema  *schema.Schema
	mem     memory.Allocator
	fw      *file.Writer                // created with the first batch
	rgw     file.BufferedRowGroupWriter // the row group being filled, or nil
	rgRows  int                         // rows in rgw
	cols    []column
	checks  []column // the columns whose values need validation
	order   []int    // column indexes, the costliest to encode first
	workers []context.Context
	pending int // rows in the builders
	rows    int64
	err     error // sticky: set when the file is broken
	closed  bool

	// A batch is encoded in the background while the next one is built.
	// While busy, the encoding goroutine owns arrs, errs, fw, rgw and
	// rgRows, and sends its result on done.
	busy bool
	done chan error
	arrs []arrow.Array
	errs []error
}

// column writes one column of the row struct into an Arrow builder.
type column struct {
	name     string
	field    int
	nullable bool
	b        array.Builder
	def      []int16 // definition levels of a nullable column, reused
	// appendValue appends a value; for a nullable column f is the
	// pointer's target.
	appendValue func(f reflect.Value)
	// check, if not nil, validates a value before anything is appended.
	check func(f reflect.Value) error
}

// NewParquetWriter returns a writer of rows of t to w. Close finishes the
// file; it does not close w.
func NewParquetWriter(w io.Writer, t schemas.Table) (*ParquetWriter, error) {
	sc := t.ArrowSchema()
	mem := new(bufferPool)
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem))
	pqschema, err := pqarrow.ToParquet(sc, writerProperties(t, mem, nil), arrowProps)
	if err != nil {
		return nil, fmt.Errorf("load: parquet schema of %s: %w", t.Name, err)
	}
	pw := &ParquetWriter{table: t, rowType: reflect.PointerTo(t.Row), sink: writeOnly{w}, schema: pqschema, mem: mem}
	for i, c := range t.Columns {
		b := array.NewBuilder(mem, sc.Field(i).Type)
		col, err := newColumn(t, c, b)
		if err != nil {
			b.Release()
			pw.release()
			return nil, err
		}
		pw.cols = append(pw.cols, col)
		if col.check != nil {
			pw.checks = append(pw.checks, col)
		}
		pw.order = append(pw.order, i)
	}
	slices.SortStableFunc(pw.order, func(a, b int) int {
		return encodingCost(t.Columns[b].Type) - encodingCost(t.Columns[a].Type)
	})
	for range min(runtime.GOMAXPROCS(0), maxWorkers, len(pw.cols)) {
		pw.workers = append(pw.workers, pqarrow.NewArrowWriteContext(context.Background(), &arrowProps))
	}
	pw.arrs = make([]arrow.Array, len(pw.cols))
	pw.errs = make([]error, len(pw.cols))
	pw.done = make(chan error, 1)
	return pw, nil
}

// start creates the Parquet file writer once the first batch shows which
// columns are worth a dictionary: those with few distinct values.
func (w *ParquetWriter) start(first []arrow.Array) error {
	var dict []string
	for i, a := range first {
		if a != nil && fewDistinct(a) {
			dict = append(dict, w.table.Columns[i].Name)
		}
	}
	fw, err := file.NewParquetWriterWithError(w.sink, w.schema.Root(), file.WithWriterProps(writerProperties(w.table, w.mem, dict)))
	if err != nil {
		w.err = fmt.Errorf("load: parquet writer for %s: %w", w.table.Name, err)
		return w.err
	}
	w.fw = fw
	return nil
}

// Write appends row, a pointer to the table's row struct. A row with a
// value the file cannot hold is refused, with nothing written. Rows are
// encoded in batches in the background, so an error writing the file is
// reported by a later Write or by Close, and breaks the writer.
func (w *ParquetWriter) Write(row any) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("load: %s: write to closed parquet writer", w.table.Name)
	}
	if reflect.TypeOf(row) != w.rowType {
		return fmt.Errorf("load: %s: row is %T, want %v", w.table.Name, row, w.rowType)
	}
	p := reflect.ValueOf(row)
	if p.IsNil() {
		return fmt.Errorf("load: %s: nil row", w.table.Name)
	}
	v := p.Elem()
	for i := range w.checks {
		c := &w.checks[i]
		f := v.Field(c.field)
		if c.nullable {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		if err := c.check(f); err != nil {
			return fmt.Errorf("load: %s column %s: %w", w.table.Name, c.name, err)
		}
	}
	for i := range w.cols {
		c := &w.cols[i]
		f := v.Field(c.field)
		if c.nullable {
			if f.IsNil() {
				c.b.AppendNull()
				continue
			}
			f = f.Elem()
		}
		c.appendValue(f)
	}
	w.rows++
	w.pending++
	if w.pending == batchRows {
		return w.flush()
	}
	return nil
}

// Rows returns the number of rows written.
func (w *ParquetWriter) Rows() int64 { return w.rows }

// flush starts encoding the buffered rows into the current row group, in
// the background, after the previous batch is done.
func (w *ParquetWriter) flush() error {
	if w.pending == 0 {
		return nil
	}
	if err := w.wait(); err != nil {
		return err
	}
	n := w.pending
	w.pending = 0
	for i, c := range w.cols {
		w.arrs[i] = c.b.NewArray()
		if n == batchRows {
			// More rows are likely to follow: make room for a batch like
			// this one.
			c.b.Reserve(batchRows)
			if sb, ok := c.b.(*array.StringBuilder); ok {
				sb.ReserveData(len(w.arrs[i].(*array.String).ValueBytes()))
			}
		}
	}
	if w.fw == nil {
		if err := w.start(w.arrs); err != nil {
			w.releaseArrays()
			return err
		}
	}
	w.busy = true
	go func() { w.done <- w.encodeBatch(n) }()
	return nil
}

// wait waits for the batch being encoded, if any, and returns the sticky
// error.
func (w *ParquetWriter) wait() error {
	if w.busy {
		w.busy = false
		if err := <-w.done; err != nil && w.err == nil {
			w.err = fmt.Errorf("load: %s: writing parquet: %w", w.table.Name, err)
		}
	}
	return w.err
}

// encodeBatch encodes the arrays of a batch of n rows, releases them, and
// writes the row group out when it is full.
func (w *ParquetWriter) encodeBatch(n int) error {
	defer w.releaseArrays()
	if err := w.encode(n); err != nil {
		return err
	}
	w.rgRows += n
	if w.rgRows >= rowGroupRows {
		return w.endRowGroup()
	}
	return nil
}

// encode writes the arrays of a batch of n rows into the row group, each
// column by one of the workers.
func (w *ParquetWriter) encode(n int) error {
	if w.rgw == nil {
		rgw, err := w.fw.AppendBufferedRowGroupChecked()
		if err != nil {
			return err
		}
		w.rgw, w.rgRows = rgw, 0
	}
	if len(w.workers) == 1 {
		for _, i := range w.order {
			if err := w.encodeColumn(w.workers[0], i, n); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, ctx := range w.workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(w.order) {
					return
				}
				i := w.order[k]
				w.errs[i] = w.encodeColumn(ctx, i, n)
			}
		})
	}
	wg.Wait()
	for i, err := range w.errs {
		if err != nil {
			w.errs[i] = nil
			return fmt.Errorf("column %s: %w", w.cols[i].name, err)
		}
	}
	return nil
}

// encodeColumn writes the array of column i, holding n rows, into its
// column chunk. Only the worker owning ctx may be in it at a time.
func (w *ParquetWriter) encodeColumn(ctx context.Context, i, n int) error {
	cw, err := w.rgw.Column(i)
	if err != nil {
		return err
	}
	c, arr := &w.cols[i], w.arrs[i]
	var def []int16
	if c.nullable {
		if cap(c.def) < n {
			c.def = make([]int16, batchRows)
		}
		def = c.def[:n]
		for j := range def {
			def[j] = 0
			if arr.IsValid(j) {
				def[j] = 1
			}
		}
	}
	return pqarrow.WriteArrowToColumn(ctx, cw, arr, def, nil, c.nullable)
}

// endRowGroup writes the current row group out.
func (w *ParquetWriter) endRowGroup() error {
	if w.rgw == nil {
		return nil
	}
	err := w.rgw.Close()
	w.rgw, w.rgRows = nil, 0
	return err
}

// Close writes the remaining rows and the file footer. It does not close
// the underlying writer. Closing again has no effect.
func (w *ParquetWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	defer w.release()
	err := w.flush()
	if err == nil {
		err = w.wait()
	}
	if err == nil && w.fw == nil {
		err = w.start(make([]arrow.Array, len(w.cols)))
	}
	if err == nil {
		if err = w.endRowGroup(); err != nil {
			err = fmt.Errorf("load: %s: writing parquet row group: %w", w.table.Name, err)
		}
	}
	if w.fw == nil {
		return err
	}
	if cerr := w.fw.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("load: %s: closing parquet: %w", w.table.Name, cerr)
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// releaseArrays releases the arrays of the batch.
func (w *ParquetWriter) releaseArrays() {
	for i, a := range w.arrs {
		if a != nil {
			a.Release()
			w.arrs[i] = nil
		}
	}
}

// release frees the builders, and lets go of everything else that holds
// buffers (the file writer, the pool, the workers' contexts): a closed
// writer may be kept by its owner until a commit, and must not keep its
// memory with it.
func (w *ParquetWriter) release() {
	for i := range w.cols {
		w.cols[i].b.Release()
		w.cols[i].b, w.cols[i].def = nil, nil
	}
	w.checks = nil
	w.fw, w.rgw, w.mem, w.workers, w.arrs = nil, nil, nil, nil, nil
}
