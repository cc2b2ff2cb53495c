package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

// rejected is a record that failed validation, with the record as JSON.
type rejected struct {
	err *RecordError
	raw string
}

func rejectedRecord(e *RecordError, raw any) rejected {
	b, err := json.Marshal(raw)
	if err != nil {
		b = []byte(fmt.Sprintf("%q", fmt.Sprintf("unprintable record: %v", err)))
	}
	return rejected{err: e, raw: string(b)}
}

// rejects quarantines the records of a run that fail validation into the
// rejected_rows table, and fails the run when a stream has too many.
type rejects struct {
	run     *Run
	counts  map[string]int64 // rejected records by stream
	records map[string]int64 // records read by stream
	first   map[string]*RecordError
}

// add writes the rejected records of a page of records, in stream order.
func (r *rejects) add(ctx context.Context, parts *partitions, stream string, records int, bad []rejected) error {
	if r.records == nil {
		r.records, r.first = map[string]int64{}, map[string]*RecordError{}
	}
	base := r.records[stream]
	r.records[stream] += int64(records)
	t := schemas.RejectedRows()
	for _, b := range bad {
		e := b.err
		row := schemas.RejectedRow{
			MerchantCode: r.run.Account.MerchantCode,
			RunID:        r.run.ID,
			RunDate:      r.run.Date,
			Stream:       stream,
			Position:     base + int64(e.Position),
			Page:         int64(e.Page),
			Record:       int64(e.Position),
			Reason:       e.Err.Error(),
			Raw:          b.raw,
		}
		if !e.Window.From.IsZero() {
			day := e.Window.From
			row.APIDay = &day
		}
		if e.Key != "" {
			key := e.Key
			row.RecordKey = &key
		}
		var fe *transform.FieldError
		if errors.As(e.Err, &fe) {
			field := fe.Field
			row.Field = &field
		}
		if err := parts.write(ctx, t, r.run.Date, &row); err != nil {
			return err
		}
		parts.read[t.Name]++
		r.counts[stream]++
		if r.first[stream] == nil {
			r.first[stream] = e
		}
		r.run.Logger.Warn("record rejected", "run_id", r.run.ID, "account", r.run.Account.Name, "stream", stream,
			"position", row.Position, "error", e.Error())
	}
	return nil
}

// TooManyRejectedError fails a run whose stream had more invalid records
// than the job's max_rejected allows.
type TooManyRejectedError struct {
	Stream            string
	Rejected, Records int64
	Max               *big.Rat
	First             *RecordError
}

func (e *TooManyRejectedError) Error() string {
	share := new(big.Rat).Mul(big.NewRat(e.Rejected, e.Records), big.NewRat(100, 1))
	limit := new(big.Rat).Mul(e.Max, big.NewRat(100, 1))
	return fmt.Sprintf("stream %s: %d of %d records (%s%%) failed validation, more than max_rejected %s%%; first: %v",
		e.Stream, e.Rejected, e.Records, share.FloatString(2), limit.FloatString(2), e.First)
}

func (e *TooManyRejectedError) Unwrap() error { return e.First }

// check fails if stream's rejects exceed the job's share.
func (r *rejects) check(stream string) error {
	n := r.counts[stream]
	if n == 0 {
		return nil
	}
	limit := r.run.Job.MaxRejected
	if limit == nil {
		limit = new(big.Rat)
	}
	if big.NewRat(n, r.records[stream]).Cmp(limit) > 0 {
		return &TooManyRejectedError{Stream: stream, Rejected: n, Records: r.records[stream], Max: limit, First: r.first[stream]}
	}
	return nil
}
