package main

import (
	"encoding/json"

	"github.com/ledgerline/ledgerline/backfill"
	"github.com/ledgerline/ledgerline/pipeline"
)

// The --json documents of etl run and etl backfill: what the text summary
// says, for scripts.

type tableJSON struct {
	Table       string `json:"table"`
	RowsRead    int64  `json:"rows_read"`
	RowsWritten int64  `json:"rows_written"`
	Partitions  int    `json:"partitions_written"`
	Unchanged   int    `json:"partitions_unchanged"`
	Emptied     int    `json:"partitions_emptied"`
}

type runJSON struct {
	RunID         string           `json:"run_id,omitempty"`
	Account       string           `json:"account"`
	Streams       []string         `json:"streams,omitempty"`
	Date          string           `json:"date"`
	WindowFrom    string           `json:"window_from,omitempty"`
	WindowTo      string           `json:"window_to,omitempty"`
	Status        string           `json:"status"`
	Error         string           `json:"error,omitempty"`
	Tables        []tableJSON      `json:"tables"`
	Rounded       int64            `json:"amounts_rounded"`
	OutsideWindow int64            `json:"orders_outside_window"`
	Rejected      map[string]int64 `json:"rejected,omitempty"`
	Unsupported   []string         `json:"streams_unsupported,omitempty"`
	Unavailable   []string         `json:"streams_unavailable,omitempty"`
	FieldCoverage json.RawMessage  `json:"field_coverage,omitempty"`
	DurationMS    int64            `json:"duration_ms"`
}

// summaryJSON returns the JSON view of the run of account on date that
// ended with s and err.
func summaryJSON(account, date string, s pipeline.Summary, err error) runJSON {
	out := runJSON{RunID: s.RunID, Account: account, Streams: s.Streams, Date: date, Status: "succeeded", Tables: []tableJSON{},
		Rounded: s.Rounded, OutsideWindow: s.Skipped, Rejected: s.Rejected, Unsupported: s.Unsupported,
		Unavailable: s.Unavailable, DurationMS: s.Duration.Milliseconds()}
	if !s.Window[0].IsZero() {
		out.WindowFrom, out.WindowTo = s.Window[0].String(), s.Window[1].String()
	}
	if err != nil {
		out.Status, out.Error = "failed", err.Error()
	}
	for _, t := range s.Tables {
		out.Tables = append(out.Tables, tableJSON{t.Table, t.Read, t.Rows, t.Files, t.Unchanged, t.Emptied})
	}
	if cov := s.Coverage.JSON(); cov != "" {
		out.FieldCoverage = json.RawMessage(cov)
	}
	return out
}

type runDocJSON struct {
	Job  string    `json:"job"`
	Date string    `json:"date"`
	Runs []runJSON `json:"runs"`
}

type backfillDocJSON struct {
	Job       string    `json:"job"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Succeeded int       `json:"succeeded"`
	Skipped   int       `json:"skipped"`
	Failed    int       `json:"failed"`
	NotRun    int       `json:"not_run"`
	Rows      int64     `json:"rows"`
	Tasks     []runJSON `json:"tasks"`
}

// backfillJSON returns the JSON view of a finished backfill.
func backfillJSON(b *backfill.Backfill, tasks []*backfill.Task) backfillDocJSON {
	n := backfill.Count(tasks)
	doc := backfillDocJSON{Job: b.Job.Name, From: b.From.String(), To: b.To.String(), Succeeded: n.Succeeded,
		Skipped: n.Skipped, Failed: n.Failed, NotRun: n.NotRun, Rows: n.Rows, Tasks: []runJSON{}}
	for _, t := range tasks {
		r := summaryJSON(t.Account.Name, t.Date.String(), t.Summary, t.Err)
		if t.Err == nil {
			r.Status = string(t.Status)
		}
		doc.Tasks = append(doc.Tasks, r)
	}
	return doc
}
