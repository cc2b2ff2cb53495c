package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
)

// Subscriptions are kept as history (type 2): subscription_history holds
// one row per version, the current ones in the partition valid_to =
// 9999-12-31. A run reads from the API either every subscription (a full
// refresh, every full_refresh_every days, or with --full-refresh) or those
// modified since the day before its last read, and merges what it read into
// the current versions:
//
//   - an unchanged subscription keeps its row as it is;
//   - a changed one gets a new current version valid from the run's date,
//     and its old version is closed: valid_to = the run's date, in that
//     day's partition (a version the same date opened is replaced);
//   - a new one gets a version valid from its start date;
//   - on a full refresh, one the API no longer lists is closed.
//
// The read is spilled to a temporary file, so that memory holds a small
// index entry per subscription read, not the subscriptions. A run for a
// date before the history's latest read leaves the history as it is.

// subscriptionRead is how the run reads subscriptions, decided from the
// committed subscription_reads.
type subscriptionRead struct {
	skip   bool       // the history is newer than the run's date
	latest civil.Date // the latest business date read; zero if none
	full   bool
	filter extract.SubscriptionFilter
	// lastFull is the business date of the latest full read before this
	// run's; zero if none.
	lastFull civil.Date
}

// planSubscriptionRead reads subscription_reads (one request) and decides
// how this run reads.
func (r *Run) planSubscriptionRead(ctx context.Context) (subscriptionRead, error) {
	var lastFull, latest civil.Date
	var lastAt time.Time
	t := schemas.SubscriptionReads()
	err := load.ReadSpan(ctx, r.Warehouse, t, load.Span{Merchant: r.Account.MerchantCode}, func(row any) error {
		sr := row.(*schemas.SubscriptionRead)
		if sr.BusinessDate.After(latest) || (sr.BusinessDate == latest && sr.ReadAt.After(lastAt)) {
			latest, lastAt = sr.BusinessDate, sr.ReadAt
		}
		if sr.LastFullRefresh.After(lastFull) {
			lastFull = sr.LastFullRefresh
		}
		return nil
	})
	if err != nil {
		return subscriptionRead{}, fmt.Errorf("reading %s: %w", t.Name, err)
	}
	plan := subscriptionRead{latest: latest, lastFull: lastFull}
	switch {
	case !latest.IsZero() && r.Date.Before(latest):
		plan.skip = true
	case r.FullRefresh || lastFull.IsZero() || !lastFull.AddDays(r.Job.FullRefreshEvery).After(r.Date):
		plan.full = true
	default:
		// A day of overlap: the filter's day is the API's, and whether
		// "after" includes it is not documented.
		plan.filter.ModifiedAfter = civil.DateOf(lastAt.In(r.Account.SourceTimezone)).AddDays(-1)
	}
	return plan, nil
}

// spilled is one subscription of the read, in the spill file.
type spilled struct {
	off  int64
	size int32
	seen bool // matched to a current version
}

// subscriptionSpill is the run's read of subscriptions: the converted rows
// as JSON lines in a temporary file, and an index by reference.
type subscriptionSpill struct {
	f     *os.File
	w     *bufio.Writer
	off   int64
	order []spilled
	index map[string]int32 // reference to its place in order
}

func newSpill() (*subscriptionSpill, error) {
	f, err := os.CreateTemp("", "ledgerline-subscriptions-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("subscriptions spill file: %w", err)
	}
	os.Remove(f.Name()) // gone when closed, even if the process dies
	return &subscriptionSpill{f: f, w: bufio.NewWriterSize(f, 1<<16), index: map[string]int32{}}, nil
}

func (s *subscriptionSpill) Close() error { return s.f.Close() }

// add spills row, the first reading of its reference; later ones are
// dropped.
func (s *subscriptionSpill) add(row *schemas.Subscription) error {
	if _, dup := s.index[row.SubscriptionReference]; dup {
		return nil
	}
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("encoding subscription %s: %w", row.SubscriptionReference, err)
	}
	b = append(b, '\n')
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("subscriptions spill file: %w", err)
	}
	// A decoded string may share the page's buffer: a key kept for the
	// run must not keep the page.
	s.index[strings.Clone(row.SubscriptionReference)] = int32(len(s.order))
	s.order = append(s.order, spilled{off: s.off, size: int32(len(b))})
	s.off += int64(len(b))
	return nil
}

// load reads back entry e into row.
func (s *subscriptionSpill) load(e spilled, row *schemas.Subscription) error {
	b := make([]byte, e.size)
	if _, err := s.f.ReadAt(b, e.off); err != nil {
		return fmt.Errorf("subscriptions spill file: %w", err)
	}
	*row = schemas.Subscription{}
	if err := json.Unmarshal(b, row); err != nil {
		return fmt.Errorf("subscriptions spill file: %w", err)
	}
	return nil
}

// sameVersion reports whether a and b, rows of t, are the same version of a
// subscription: equal but for when it was valid and which run read it.
func sameVersion(t schemas.Table, a, b *schemas.Subscription) bool {
	ignore := []string{"valid_from", "valid_to", "run_id", "extracted_at"}
	return rowKey(t, a, ignore) == rowKey(t, b, ignore)
}

// readSubscriptions reads the subscriptions plan asks for into a spill.
func (r *Run) readSubscriptions(ctx context.Context, plan subscriptionRead, conv *transform.Converter, parts *partitions, rej *rejects, cov *Coverage) (*subscriptionSpill, error) {
	spill, err := newSpill()
	if err != nil {
		return nil, err
	}
	var row schemas.Subscription
	err = r.Source.Subscriptions(ctx, plan.filter, func(p extract.Page[extract.Subscription]) error {
		var bad []rejected
		for i := range p.Items {
			raw := &p.Items[i]
			cov.addSubscription(raw)
			if err := conv.Subscription(raw, &row); err != nil {
				bad = append(bad, rejectedRecord(
					&RecordError{Account: r.Account.Name, Stream: extract.StreamSubscriptions, Page: p.Number, Position: i + 1, Key: raw.SubscriptionReference, Err: err}, raw))
				continue
			}
			if err := spill.add(&row); err != nil {
				return err
			}
		}
		parts.read[schemas.SubscriptionHistory().Name] += int64(len(p.Items))
		if r.Observer != nil {
			r.Observer.Page(r.Account.Name, extract.StreamSubscriptions, len(p.Items))
		}
		return rej.add(ctx, parts, extract.StreamSubscriptions, len(p.Items), bad)
	})
	if err == nil {
		err = spill.w.Flush()
	}
	if err != nil {
		spill.Close()
		return nil, err
	}
	return spill, nil
}

// mergeSubscriptions writes the current versions and the versions the run
// closes, from the committed history of the run's date and later (the
// current versions, and those an earlier run of the date closed: one
// request) and the spill.
func (r *Run) mergeSubscriptions(ctx context.Context, plan subscriptionRead, spill *subscriptionSpill, parts *partitions) (added, closed int64, err error) {
	t := schemas.SubscriptionHistory()
	open := schemas.OpenValidTo()
	var read schemas.Subscription
	committed := false // the merchant has current versions
	span := load.Span{Merchant: r.Account.MerchantCode, From: r.Date}
	err = load.ReadSpan(ctx, r.Warehouse, t, span, func(row any) error {
		cur := row.(*schemas.Subscription)
		committed = committed || cur.ValidTo == open
		if cur.ValidTo != open {
			return parts.write(ctx, t, cur.ValidTo, cur) // closed by an earlier run of the date
		}
		i, ok := spill.index[cur.SubscriptionReference]
		if !ok {
			if plan.full {
				closed++
				cur.ValidTo = r.Date // gone from the API
				return parts.write(ctx, t, r.Date, cur)
			}
			return parts.write(ctx, t, open, cur)
		}
		spill.order[i].seen = true
		if err := spill.load(spill.order[i], &read); err != nil {
			return err
		}
		if sameVersion(t, cur, &read) {
			return parts.write(ctx, t, open, cur)
		}
		added++
		if cur.ValidFrom.Before(r.Date) {
			closed++
			old := *cur
			old.ValidTo = r.Date
			if err := parts.write(ctx, t, r.Date, &old); err != nil {
				return err
			}
		}
		read.ValidFrom = r.Date
		if cur.ValidFrom.After(r.Date) {
			read.ValidFrom = cur.ValidFrom // not started by the run's date
		}
		return parts.write(ctx, t, open, &read)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", t.Name, err)
	}
	for _, e := range spill.order {
		if e.seen {
			continue
		}
		if err := spill.load(e, &read); err != nil {
			return 0, 0, err
		}
		added++
		if err := parts.write(ctx, t, open, &read); err != nil {
			return 0, 0, err
		}
	}
	// No current version left must still replace the committed ones.
	return added, closed, parts.clearUnwritten(ctx, t, open, committed)
}

// subscriptionHistory reads the subscriptions and merges them into the
// history, and records the read in subscription_reads.
func (r *Run) subscriptionHistory(ctx context.Context, log *slog.Logger, conv *transform.Converter, parts *partitions, rej *rejects, cov *Coverage) error {
	plan, err := r.planSubscriptionRead(ctx)
	if err != nil {
		return err
	}
	if plan.skip {
		log.Warn("subscriptions not read: the history is at a later date, and a run for an earlier one does not rewrite it",
			"history", plan.latest.String(), "date", r.Date.String())
		return nil
	}
	readAt := conv.ExtractedAt.UTC().Truncate(time.Microsecond)
	if plan.full {
		log.Info("extracting subscriptions: full refresh")
	} else {
		log.Info("extracting subscriptions modified since", "modified_after", plan.filter.ModifiedAfter.String())
	}
	spill, err := r.readSubscriptions(ctx, plan, conv, parts, rej, cov)
	if err != nil {
		return err
	}
	defer spill.Close()
	added, closed, err := r.mergeSubscriptions(ctx, plan, spill, parts)
	if err != nil {
		return err
	}
	log.Info("subscription history merged", "read", len(spill.order), "new_versions", added, "closed", closed)
	rec := schemas.SubscriptionRead{MerchantCode: r.Account.MerchantCode, BusinessDate: r.Date, RunID: r.ID, ReadAt: readAt,
		Full: plan.full, Read: int64(len(spill.order)), NewVersions: added, Closed: closed, LastFullRefresh: plan.lastFull}
	if plan.full {
		rec.LastFullRefresh = r.Date
	}
	if !plan.full {
		d := plan.filter.ModifiedAfter
		rec.ModifiedAfter = &d
	}
	return parts.write(ctx, schemas.SubscriptionReads(), r.Date, &rec)
}
