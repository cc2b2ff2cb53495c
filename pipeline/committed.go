package pipeline

import (
	"context"
	"fmt"
	"reflect"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
)

// committedDates returns which of dates hold committed rows of t for the
// run's account: one read of the partition column, and none when dates is
// empty (a window whose every day has rows) or there is no warehouse to
// read.
func (r *Run) committedDates(ctx context.Context, t schemas.Table, dates []civil.Date) (map[civil.Date]bool, error) {
	out := map[civil.Date]bool{}
	if len(dates) == 0 || r.Warehouse == nil {
		return out, nil
	}
	want := map[civil.Date]bool{}
	for _, d := range dates {
		want[d] = true
	}
	date, ok := t.Column(t.Partition)
	if !ok {
		return nil, fmt.Errorf("table %s has no partition column %s", t.Name, t.Partition)
	}
	span := load.Span{Merchant: r.Account.MerchantCode, From: dates[0], To: dates[len(dates)-1],
		Columns: []string{"merchant_code", t.Partition}}
	err := load.ReadSpan(ctx, r.Warehouse, t, span, func(row any) error {
		if d, ok := fieldOf(row, date.Field).(civil.Date); ok && want[d] {
			out[d] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s %s to %s: %w", t.Name, span.From, span.To, err)
	}
	return out, nil
}

// keptRejects are the committed rejected_rows of the run's date that the
// run keeps: those of streams it does not extract (a run narrowed to
// subscriptions keeps the orders' rejects of the date), rewritten with the
// run's own, since the date's partition is replaced whole.
type keptRejects struct {
	run       *Run
	rows      []*schemas.RejectedRow
	committed bool // the partition holds rows now
}

// otherRejects reads the committed rejected_rows of the run's date.
func (r *Run) otherRejects(ctx context.Context) (*keptRejects, error) {
	k := &keptRejects{run: r}
	t := schemas.RejectedRows()
	err := r.readSpan(ctx, t, r.Date, r.Date, func(row any) {
		k.committed = true
		if rr := row.(*schemas.RejectedRow); !r.Job.HasStream(rr.Stream) {
			k.rows = append(k.rows, rr)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", t.Name, r.Date, err)
	}
	return k, nil
}

// write writes the kept rejects after the run's own and replaces the
// partition with nothing when there are none.
func (k *keptRejects) write(ctx context.Context, parts *partitions) error {
	t := schemas.RejectedRows()
	for _, row := range k.rows {
		if err := parts.write(ctx, t, k.run.Date, row); err != nil {
			return err
		}
	}
	return parts.clearUnwritten(ctx, t, k.run.Date, k.committed)
}

// fieldOf returns field i of row, a pointer to a row struct.
func fieldOf(row any, i int) any { return reflect.ValueOf(row).Elem().Field(i).Interface() }
