package reportjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/destinations"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/schemas"
)

// The kinds of delivery report_deliveries records.
const (
	KindFirst   = "first"   // no delivery of the report to these recipients before
	KindRevised = "revised" // the figures changed since the last delivery
	KindResent  = "resent"  // the same figures, sent again with --resend
)

// Skipped is a delivery not made because the same figures went to the same
// recipients before.
type Skipped struct {
	To []string
	// Last is the delivery that carried the same figures.
	Last schemas.ReportDelivery
}

// recipientsKey is how report_deliveries names a list of recipients.
func recipientsKey(to []string) string {
	s := slices.Clone(to)
	for i := range s {
		s[i] = strings.ToLower(strings.TrimSpace(s[i]))
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}

// lastDelivery returns the latest of rows for account and recipients, or
// nil.
func lastDelivery(rows []*schemas.ReportDelivery, account, recipients string) *schemas.ReportDelivery {
	var last *schemas.ReportDelivery
	for _, r := range rows {
		if r.Report == config.ReportAccounting && r.Account == account && r.Recipients == recipients &&
			(last == nil || r.SentAt.After(last.SentAt)) {
			last = r
		}
	}
	return last
}

// deliver sends the report to the recipients of each of job's accounting
// reports, unless the last delivery to the same recipients carried the
// same figures (and not o.Resend), and records each delivery in
// report_deliveries. A changed report goes out REVISED, listing the
// changed figures. A failed delivery does not stop the next ones.
//
// The account's run of the warehouse is held from reading the last
// deliveries to recording the new ones, so that two report runs at once
// cannot both send: the second waits and then finds the first's record.
// A process that dies after sending and before recording sends again next
// time: a report is delivered at least once, and a repeat says so
// (REVISED, or the same figures).
func (res *Result) deliver(ctx context.Context, log *slog.Logger, job config.Job, o Options) error {
	rep := res.Report
	wh, err := destinations.Open(ctx, job.Destination)
	if err != nil {
		return fmt.Errorf("warehouse: %w", err)
	}
	defer wh.Close()
	dest, err := wh.Begin(ctx, rep.Account.MerchantCode, res.RunID)
	if err != nil {
		return fmt.Errorf("warehouse: recording deliveries: %w", err)
	}
	defer dest.Abort(context.WithoutCancel(ctx))
	table := schemas.ReportDeliveries()
	var rows []*schemas.ReportDelivery
	err = wh.Read(ctx, table, load.Span{Merchant: rep.Account.MerchantCode, From: rep.Month, To: rep.Month}, func(row any) error {
		rows = append(rows, row.(*schemas.ReportDelivery))
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", table.Name, err)
	}
	figures, digest := reports.EncodeFigures(reports.Figures(rep.Totals))
	sent := len(rows)
	var errs []error
	for _, r := range Accounting(job) {
		row, err := res.deliverTo(ctx, log, r, rows, figures, digest, o)
		if err != nil {
			errs = append(errs, err)
		}
		if row != nil {
			rows = append(rows, row)
		}
	}
	if len(rows) > sent {
		if err := commitDeliveries(ctx, dest, table, rep.Month, rows); err != nil {
			errs = append(errs, fmt.Errorf("sent, but not recorded in %s (the next report run will send again): %w", table.Name, err))
		}
	}
	return errors.Join(errs...)
}

// deliverTo makes the delivery of report r unless the last one to its
// recipients in rows carried digest, and returns its record; nil if it
// sent nothing.
func (res *Result) deliverTo(ctx context.Context, log *slog.Logger, r config.Report, rows []*schemas.ReportDelivery, figures, digest string, o Options) (*schemas.ReportDelivery, error) {
	rep := *res.Report
	to := recipientsKey(r.To)
	kind := KindFirst
	if last := lastDelivery(rows, rep.Account.Name, to); last != nil {
		switch {
		case last.Digest == digest && !o.Resend:
			log.Info("report already sent with the same figures; not sent again (--resend sends it)",
				"to", to, "sent_at", last.SentAt.Format(time.RFC3339), "message_id", last.MessageID)
			res.Skipped = append(res.Skipped, Skipped{To: r.To, Last: *last})
			return nil, nil
		case last.Digest == digest:
			kind = KindResent
		default:
			kind = KindRevised
			prev, err := reports.DecodeFigures(last.Figures)
			if err != nil {
				return nil, fmt.Errorf("report_deliveries, message %s: %w", last.MessageID, err)
			}
			cur, _ := reports.DecodeFigures(figures)
			rep.Revision = &reports.Revision{
				SentAt:    last.SentAt.In(rep.Account.ReportingTimezone).Format("2006-01-02 15:04 MST"),
				MessageID: last.MessageID,
				Changes:   reports.Changes(prev, cur),
			}
		}
	}
	m, err := reports.MailerFromEnv(o.Getenv, r.Outbox, log)
	if err != nil {
		return nil, err
	}
	d, err := m.Deliver(ctx, &rep, r.To)
	if err != nil {
		log.Error("delivery failed", "to", strings.Join(r.To, ", "), "error", err.Error())
		return nil, err
	}
	d.Kind = kind
	res.Deliveries = append(res.Deliveries, d)
	return &schemas.ReportDelivery{
		MerchantCode: rep.Account.MerchantCode, Month: rep.Month, Report: config.ReportAccounting,
		Account: rep.Account.Name, Recipients: to, Digest: digest, Figures: figures,
		MessageID: d.MessageID, Method: d.Method, Kind: kind, Provisional: !rep.Totals.Complete,
		SentAt: o.Now().UTC().Truncate(time.Microsecond), RunID: res.RunID,
	}, nil
}

// commitDeliveries writes rows, every delivery of the merchant's month,
// as the month's partition of table, and commits.
func commitDeliveries(ctx context.Context, dest load.Destination, table schemas.Table, month civil.Date, rows []*schemas.ReportDelivery) error {
	pw, err := dest.Partition(ctx, table, month)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := pw.Write(r); err != nil {
			pw.Close()
			return err
		}
	}
	if err := pw.Close(); err != nil {
		return err
	}
	_, err = dest.Commit(ctx)
	return err
}
