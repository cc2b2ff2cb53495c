// Package pipeline runs a job for one account and one business date:
// extract pages from the account's source, transform each record, and
// stream the rows into the destination's partitions, committing at the end.
//
// A run covers the orders of the look-back window ending at its business
// date and the subscriptions as they are at run time. Every partition of the
// window is replaced whole, so a rerun of a date gives the same tables.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

// Run is one run of a job on one account for one business date.
type Run struct {
	ID      string
	Job     config.Job
	Account config.Account
	// Date is the business date the run covers.
	Date        civil.Date
	Source      extract.Source
	Destination load.Destination
	// Warehouse reads what earlier runs committed at the destination: the
	// chargeback state.
	Warehouse load.Reader
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Version is the ledgerline version, recorded in etl_runs.
	Version string
	// Observer hears the run's progress; nil for none.
	Observer Observer
	// FullRefresh reads every subscription, whenever the last full read.
	FullRefresh bool

	state committedState // what the run read of the warehouse
}

// committedState is what a run read of the committed state, kept so that
// each table is read once.
type committedState struct {
	rates map[civil.Date]schemas.ChargebackRate // nil until read
}

// Summary says what a run did.
type Summary struct {
	RunID   string
	Job     string
	Account string
	Date    civil.Date
	// Streams are the streams the run extracted: the job's, or those a
	// narrowed run (etl run --stream) asked for.
	Streams []string
	// Window is the reporting dates of the orders window, inclusive; zero
	// when the run did not extract orders.
	Window  [2]civil.Date
	Tables  []TableSummary
	Rounded int64 // amounts rounded to six decimals
	// Skipped counts the orders, once per RefNo, that the searches of the
	// window's API days returned dated (in the reporting zone) before or
	// after the window: read, not stored, left to the run that covers
	// their date (orders.go says why the searches reach past the window).
	Skipped int64
	// OneDaySearches says that each API day of the orders window was
	// searched alone (StartDate = EndDate), as a probe showed that EndDate
	// covers its own day; otherwise each search reached into the next day.
	OneDaySearches bool
	// Rejected counts records that failed validation, by stream; they are
	// in the rejected_rows table.
	Rejected map[string]int64
	// Unsupported lists the job's streams the account's API cannot serve.
	Unsupported []string
	// Unavailable lists the job's streams skipped because the account is
	// set to run without their data (chargebacks: unavailable).
	Unavailable []string
	// Coverage counts, by stream, the records that carried each field the
	// tables depend on (coverage.go).
	Coverage  Coverage
	StartedAt time.Time
	Duration  time.Duration
}

// TableSummary counts one table's output of a run.
type TableSummary struct {
	Table string
	// Read is the rows the run got for the table: the distinct records
	// the API returned (orders: in the window or not, rejected or not;
	// order_items: the items of those orders), or, for the tables it
	// computes (chargebacks, chargeback_rates, rejected_rows), the rows it
	// computed. Rows is the rows it wrote, in the partitions it replaced.
	Read int64
	Rows int64
	// Files is the number of partitions written; Emptied the number of
	// committed partitions the run replaced with nothing because the API
	// no longer has rows for them. A partition that did not exist is
	// never counted as emptied.
	Files   int
	Emptied int
	// Unchanged is the number of partitions left as they were because the
	// run would have written the same rows (chargebacks, complete rates).
	Unchanged int
}

// Window returns the reporting dates of the orders window of a run on date
// with lookback days: the lookback days ending at date, widened back to the
// first of the month so that each monthly chargeback rate the run computes
// counts every transaction of its month.
func Window(date civil.Date, lookback int) (from, to civil.Date) {
	return transform.MonthOf(date.AddDays(1 - lookback)), date
}

// Execute runs r and commits its data, with its record in etl_runs. On
// error nothing is committed and the destination keeps the data of the
// previous good run.
func (r *Run) Execute(ctx context.Context) (s Summary, err error) {
	r.state = committedState{}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	defer func() {
		if err != nil {
			s.Duration = now().Sub(started)
		}
	}()
	log := r.Logger.With("run_id", r.ID, "job", r.Job.Name, "account", r.Account.Name, "date", r.Date.String())
	from, to := Window(r.Date, r.Job.LookbackDays)
	feeFrom, err := r.feeWindowStart(ctx, from)
	if err != nil {
		return s, err
	}
	if feeFrom != from {
		log.Info("no complete chargeback rate of the month before the window in the warehouse: reading that month too, for its disputes' fee tier",
			"month", feeFrom.String()[:7])
		from = feeFrom
	}
	s = Summary{RunID: r.ID, Job: r.Job.Name, Account: r.Account.Name, Date: r.Date, Streams: r.Job.Streams, StartedAt: started}
	if r.Job.HasStream(extract.StreamOrders) {
		s.Window = [2]civil.Date{from, to}
	}
	conv := &transform.Converter{
		MerchantCode: r.Account.MerchantCode,
		SourceAPI:    r.Source.API(),
		Source:       r.Account.SourceTimezone,
		Reporting:    r.Account.ReportingTimezone,
		RunID:        r.ID,
		ExtractedAt:  started.UTC().Truncate(time.Microsecond),
	}
	parts := newPartitions(r.Destination)
	defer func() {
		if err != nil {
			parts.closeAll()
			if aerr := r.Destination.Abort(context.WithoutCancel(ctx)); aerr != nil {
				err = errors.Join(err, fmt.Errorf("abort: %w", aerr))
			}
		}
	}()
	if st, ok := r.Destination.(startRecorder); ok {
		// A run that dies from here on is recorded as abandoned by the
		// next run of the account.
		if err := st.Started(ctx, r.record(s, nil)); err != nil {
			return s, fmt.Errorf("record the run's start: %w", err)
		}
	}
	rej := &rejects{run: r, counts: map[string]int64{}}
	kept, err := r.otherRejects(ctx)
	if err != nil {
		return s, err
	}
	if err := r.streams(ctx, log, conv, parts, rej, &s); err != nil {
		return s, err
	}
	if err := kept.write(ctx, parts); err != nil {
		return s, err
	}
	s.Rejected = rej.counts
	s.Rounded = conv.Rounded
	s.Tables = parts.summary()
	s.Duration = now().Sub(started)
	// The run's record goes into the same commit as its data.
	if err := r.Destination.AppendRun(ctx, r.record(s, nil)); err != nil {
		return s, fmt.Errorf("append run record: %w", err)
	}
	if err := parts.closeAll(); err != nil {
		return s, err
	}
	if _, err := r.Destination.Commit(ctx); err != nil {
		return s, fmt.Errorf("commit: %w", err)
	}
	s.Tables = parts.summary()
	log.Info("run committed", "rows", s.rows(), "duration", s.Duration.String())
	return s, nil
}

// streams extracts and writes the job's streams, and the state they
// change.
func (r *Run) streams(ctx context.Context, log *slog.Logger, conv *transform.Converter, parts *partitions, rej *rejects, s *Summary) error {
	from, to := s.Window[0], s.Window[1]
	var cb *transform.Chargebacks
	switch {
	case !r.Job.HasStream(config.StreamChargebacks):
	case r.Account.NoChargebackData():
		log.Warn("chargebacks stream skipped: the account is set to chargebacks: unavailable")
		s.Unavailable = append(s.Unavailable, config.StreamChargebacks)
	default:
		cb = &transform.Chargebacks{
			MerchantCode: r.Account.MerchantCode, RunID: r.ID, Fees: r.Account.ChargebackFees,
			Currency: r.Account.Currency, TransactionStatuses: r.Account.TransactionStatuses,
			Date: r.Date, From: from,
		}
	}
	if r.Job.HasStream(extract.StreamOrders) {
		log.With("stream", extract.StreamOrders).Info("extracting orders", "from", from.String(), "to", to.String())
		if err := r.orderStream(ctx, log.With("stream", extract.StreamOrders), conv, parts, rej, cb, s); err != nil {
			return err
		}
	}
	if cb != nil {
		if err := r.checkChargebackCoverage(log, s.Coverage); err != nil {
			return err
		}
		log.With("stream", config.StreamChargebacks).Info("computing chargebacks and rates")
		if err := r.chargebacks(ctx, cb, parts); err != nil {
			return err
		}
	}
	if r.Job.HasStream(extract.StreamSubscriptions) {
		if err := r.subscriptionStream(ctx, log.With("stream", extract.StreamSubscriptions), conv, parts, rej, s); err != nil {
			return err
		}
	}
	return nil
}

// orderStream writes the orders and items of the window, and replaces
// the days that no longer have any with nothing.
func (r *Run) orderStream(ctx context.Context, log *slog.Logger, conv *transform.Converter, parts *partitions, rej *rejects, cb *transform.Chargebacks, s *Summary) error {
	from, to := s.Window[0], s.Window[1]
	inclusive, err := r.endDateCovers(ctx, log, from, to)
	if err != nil {
		return err
	}
	s.OneDaySearches = inclusive
	if err := r.orders(ctx, conv, parts, rej, cb, from, to, s); err != nil {
		return err
	}
	if err := rej.check(extract.StreamOrders); err != nil {
		return err
	}
	// A day with no orders must still replace what an earlier run wrote.
	// Which days hold rows is read from order_items alone, for both
	// tables: an order without items is rejected, so the two have the
	// same days, and orders is already read once a run (chargebacks).
	committed, err := r.committedDates(ctx, schemas.OrderItems(), parts.unwritten(schemas.OrderItems(), from, to))
	if err != nil {
		return err
	}
	for _, t := range []schemas.Table{schemas.Orders(), schemas.OrderItems()} {
		for d := from; !d.After(to); d = d.AddDays(1) {
			if err := parts.clearUnwritten(ctx, t, d, committed[d]); err != nil {
				return err
			}
		}
	}
	return nil
}

// subscriptionStream merges the subscriptions as they are now into their
// history (subscriptions.go).
func (r *Run) subscriptionStream(ctx context.Context, log *slog.Logger, conv *transform.Converter, parts *partitions, rej *rejects, s *Summary) error {
	err := r.subscriptionHistory(ctx, log, conv, parts, rej, &s.Coverage)
	switch {
	case errors.Is(err, extract.ErrUnsupported):
		// The legacy API has no subscriptions: the job still loads
		// its orders, and says what it could not do.
		log.Warn("stream not available from this API; skipped", "api", r.Source.API(), "error", err.Error())
		s.Unsupported = append(s.Unsupported, extract.StreamSubscriptions)
	case err != nil:
		return err
	}
	return rej.check(extract.StreamSubscriptions)
}

// record returns the etl_runs row of a run that ended with err (nil for
// success).
func (r *Run) record(s Summary, err error) schemas.Run {
	row := schemas.Run{
		RunID:        r.ID,
		Job:          r.Job.Name,
		Account:      r.Account.Name,
		MerchantCode: r.Account.MerchantCode,
		BusinessDate: r.Date,
		Status:       StatusSucceeded,
		StartedAt:    s.StartedAt.UTC().Truncate(time.Microsecond),
		StartedOn:    civil.DateOf(s.StartedAt.UTC()),
		FinishedAt:   s.StartedAt.Add(s.Duration).UTC().Truncate(time.Microsecond),
		DurationMS:   s.Duration.Milliseconds(),
		Rejected:     s.Rejected[extract.StreamOrders] + s.Rejected[extract.StreamSubscriptions],
		Version:      r.Version,
	}
	if j := s.Coverage.JSON(); j != "" {
		row.FieldCoverage = &j
	}
	if !s.Window[0].IsZero() {
		from, to := s.Window[0], s.Window[1]
		row.WindowFrom, row.WindowTo = &from, &to
	}
	for _, t := range s.Tables {
		row.Files += int64(t.Files)
		switch t.Table {
		case "orders":
			row.Orders = t.Rows
		case "order_items":
			row.OrderItems = t.Rows
		case "subscription_history":
			row.Subs = t.Rows
		case "chargebacks":
			row.Chargebacks = t.Rows
		}
	}
	if err != nil {
		msg := err.Error()
		row.Status, row.Error = StatusFailed, &msg
	}
	return row
}

// Run statuses in etl_runs.
const (
	StatusSucceeded = load.StatusSucceeded
	StatusFailed    = load.StatusFailed
	StatusAbandoned = load.StatusAbandoned
)

// startRecorder is a destination that records a run's start, so that a run
// whose process dies is recorded as abandoned (the local warehouse; a
// BigQuery run that dies leaves its staging tables to expire and no
// record).
type startRecorder interface {
	Started(ctx context.Context, rec schemas.Run) error
}

// RecordFailure appends the failed run r, which ended with runErr after s,
// to etl_runs through dest, a destination of its own (the run's was
// aborted), and commits it.
func RecordFailure(ctx context.Context, r *Run, dest load.Destination, s Summary, runErr error) (err error) {
	defer func() {
		if err != nil {
			dest.Abort(context.WithoutCancel(ctx))
		}
	}()
	if err := dest.AppendRun(ctx, r.record(s, runErr)); err != nil {
		return err
	}
	_, err = dest.Commit(ctx)
	return err
}

func (s Summary) rows() int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.Rows
	}
	return n
}

// RecordError says which raw record could not be converted.
type RecordError struct {
	Account  string
	Stream   string
	Window   extract.Window // the API days searched; zero for subscriptions
	Page     int
	Position int // from 1, within the page
	Key      string
	Err      error
}

func (e *RecordError) Error() string {
	where := fmt.Sprintf("account %s, stream %s", e.Account, e.Stream)
	if !e.Window.From.IsZero() {
		where += ", API days " + e.Window.String()
	}
	return fmt.Sprintf("%s, page %d, record %d (%s): %v", where, e.Page, e.Position, e.Key, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// partitions tracks the partition writers of a run.
type partitions struct {
	dest load.Destination
	open map[partKey]load.PartitionWriter
	done map[partKey]bool // finished or cleared
	// read and rows count rows per table, read and written (TableSummary).
	read, rows map[string]int64
	// files, emptied and unchanged count partitions per table.
	files, emptied, unchanged map[string]int
}

type partKey struct {
	table string
	date  civil.Date
}

func newPartitions(dest load.Destination) *partitions {
	return &partitions{dest: dest, open: map[partKey]load.PartitionWriter{}, done: map[partKey]bool{},
		read: map[string]int64{}, rows: map[string]int64{}, files: map[string]int{}, emptied: map[string]int{}, unchanged: map[string]int{}}
}

func (p *partitions) write(ctx context.Context, t schemas.Table, date civil.Date, row any) error {
	k := partKey{t.Name, date}
	w, ok := p.open[k]
	if !ok {
		if p.done[k] {
			return fmt.Errorf("%s partition %s was finished before all its rows arrived", t.Name, date)
		}
		var err error
		if w, err = p.dest.Partition(ctx, t, date); err != nil {
			return fmt.Errorf("open %s partition %s: %w", t.Name, date, err)
		}
		p.open[k] = w
		p.files[t.Name]++
	}
	if err := w.Write(row); err != nil {
		return fmt.Errorf("write %s partition %s: %w", t.Name, date, err)
	}
	p.rows[t.Name]++
	return nil
}

func (p *partitions) finish(k partKey) error {
	w := p.open[k]
	delete(p.open, k)
	p.done[k] = true
	if err := w.Close(); err != nil {
		return fmt.Errorf("finish %s partition %s: %w", k.table, k.date, err)
	}
	return nil
}

// closeBefore finishes the open partitions of the named tables dated
// before d.
func (p *partitions) closeBefore(d civil.Date, tables ...string) error {
	for k := range p.open {
		if k.date.Before(d) && slices.Contains(tables, k.table) {
			if err := p.finish(k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *partitions) closeAll() error {
	var errs []error
	for k := range p.open {
		errs = append(errs, p.finish(k))
	}
	return errors.Join(errs...)
}

// unwritten returns the dates from from to to of t's partitions that
// received no rows.
func (p *partitions) unwritten(t schemas.Table, from, to civil.Date) []civil.Date {
	var out []civil.Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		k := partKey{t.Name, d}
		if _, ok := p.open[k]; !ok && !p.done[k] {
			out = append(out, d)
		}
	}
	return out
}

// clearUnwritten replaces a partition that received no rows with nothing;
// committed says whether it holds rows now, to count it as emptied.
func (p *partitions) clearUnwritten(ctx context.Context, t schemas.Table, d civil.Date, committed bool) error {
	k := partKey{t.Name, d}
	if _, ok := p.open[k]; ok || p.done[k] {
		return nil
	}
	p.done[k] = true
	if committed {
		p.emptied[t.Name]++
	}
	// Cleared even when not committed: the reader may not know (no
	// Warehouse), and clearing nothing changes nothing.
	if err := p.dest.Clear(ctx, t, d); err != nil {
		return fmt.Errorf("clear %s partition %s: %w", t.Name, d, err)
	}
	return nil
}

// summary counts the run's output by table.
func (p *partitions) summary() []TableSummary {
	names := map[string]bool{}
	for _, m := range []map[string]int{p.files, p.emptied, p.unchanged} {
		for name := range m {
			names[name] = true
		}
	}
	for name := range p.read {
		names[name] = true
	}
	var out []TableSummary
	for name := range names {
		out = append(out, TableSummary{Table: name, Read: p.read[name], Rows: p.rows[name], Files: p.files[name],
			Emptied: p.emptied[name], Unchanged: p.unchanged[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

// keep records that a partition of t is left as committed.
func (p *partitions) keep(t schemas.Table) { p.unchanged[t.Name]++ }
