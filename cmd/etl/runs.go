package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/runstatus"
)

// runs lists the run history of etl_runs.
func (c *cli) runs(ctx context.Context, args []string) int {
	fs := c.flagSet("runs")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	job := fs.String("job", "", "only the runs of job `NAME`")
	account := fs.String("account", "", "only the runs of account `NAME`")
	since := fs.String("since", "", "only the runs started (UTC) on or after `date` YYYY-MM-DD")
	asJSON := fs.Bool("json", false, "print the runs as one JSON array")
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl runs: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	q := runstatus.Query{Job: *job, Account: *account}
	if *since != "" {
		if q.Since, err = civil.ParseDate(*since); err != nil {
			fmt.Fprintf(c.stderr, "etl runs: --since %q: want YYYY-MM-DD\n", *since)
			return exitUsage
		}
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	if *job != "" {
		if _, ok := f.Job(*job); !ok {
			fmt.Fprintf(c.stderr, "etl runs: no job %q in %s\n", *job, *path)
			return exitUsage
		}
	}
	runs, err := runstatus.List(ctx, f, q)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl runs: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		return c.printJSON("runs", runs)
	}
	printRuns(c.stdout, runs)
	return exitOK
}

// printRuns prints one line per run, oldest first.
func printRuns(w io.Writer, runs []runstatus.Run) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs recorded")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED (UTC)\tJOB\tACCOUNT\tDATE\tSTATUS\tWINDOW\tORDERS\tITEMS\tSUBSCRIPTIONS\tCHARGEBACKS\tREJECTED\tDURATION\tVERSION\tERROR")
	for _, r := range runs {
		window := ""
		if r.WindowFrom != "" {
			window = r.WindowFrom + ".." + r.WindowTo
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.StartedAt.UTC().Format("2006-01-02 15:04:05"), r.Job, r.Account, r.BusinessDate, r.Status, window,
			progress.Count(r.Rows["orders"]), progress.Count(r.Rows["order_items"]), progress.Count(r.Rows["subscription_history"]), progress.Count(r.Rows["chargebacks"]),
			progress.Count(r.Rejected), (time.Duration(r.DurationMS) * time.Millisecond).String(), r.Version, oneLine(r.Error))
	}
	tw.Flush()
}

// status shows where each job and account stands.
func (c *cli) status(ctx context.Context, args []string) int {
	fs := c.flagSet("status")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	job := fs.String("job", "", "only job `NAME`")
	asJSON := fs.Bool("json", false, "print the statuses as one JSON array")
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl status: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	if *job != "" {
		if _, ok := f.Job(*job); !ok {
			fmt.Fprintf(c.stderr, "etl status: no job %q in %s\n", *job, *path)
			return exitUsage
		}
	}
	sts, err := runstatus.Statuses(ctx, f, *job, c.clock())
	if err != nil {
		fmt.Fprintf(c.stderr, "etl status: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		return c.printJSON("status", sts)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tACCOUNT\tLAST SUCCESS\tLAG\tNEXT RUN\tLAST ERROR")
	for _, st := range sts {
		last, lag, next, lastErr := "never", "-", "not scheduled", ""
		if st.LastSuccess != nil {
			last = st.LastSuccess.BusinessDate + " (finished " + st.LastSuccess.FinishedAt.UTC().Format("2006-01-02 15:04 UTC") + ")"
			lag = plural(st.LagDays, "day")
		}
		if st.Next != nil {
			next = st.Next.Format("2006-01-02 15:04 MST")
		}
		if st.LastError != nil {
			lastErr = st.LastError.BusinessDate + " " + st.LastError.Status + ": " + oneLine(st.LastError.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.Job, st.Account, last, lag, next, lastErr)
	}
	tw.Flush()
	return exitOK
}

// printJSON writes v as one indented JSON document on stdout.
func (c *cli) printJSON(cmd string, v any) int { return c.printJSONTo(c.stdout, cmd, v) }

// printJSONTo writes v as one indented JSON document to w.
func (c *cli) printJSONTo(w io.Writer, cmd string, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(c.stderr, "etl %s: %v\n", cmd, err)
		return exitFailed
	}
	return exitOK
}

// oneLine returns the first line of an error message: its cause comes last,
// so it is not shortened.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
