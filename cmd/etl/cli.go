package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/reportjob"
	"github.com/ledgerline/ledgerline/runlock"
	"github.com/robfig/cron/v3"
)

// cli holds what the commands need from the process, so tests can run them.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	// now is the clock; time.Now when nil.
	now func() time.Time
	// scheduleParse, when set, replaces the scheduler's cron parser (tests).
	scheduleParse func(job config.Job) (cron.Schedule, error)
	// level is the least level logged, set by --log-level (default info).
	level slog.Level
}

func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "validate":
		return c.validate(ctx, args[1:])
	case "check":
		return c.check(ctx, args[1:])
	case "run":
		return c.run(ctx, args[1:])
	case "backfill":
		return c.backfill(ctx, args[1:])
	case "schedule":
		return c.schedule(ctx, args[1:])
	case "runs":
		return c.runs(ctx, args[1:])
	case "status":
		return c.status(ctx, args[1:])
	case "report":
		return c.report(ctx, args[1:])
	case "sandbox":
		if len(args) < 2 || args[1] != "serve" {
			fmt.Fprintln(c.stderr, "etl sandbox: want 'etl sandbox serve'")
			return exitUsage
		}
		return c.sandboxServe(ctx, args[2:])
	case "version", "--version":
		fmt.Fprintln(c.stdout, "etl", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage())
		return exitOK
	}
	fmt.Fprintf(c.stderr, "etl: unknown command %q\n\n%s", args[0], usage())
	return exitUsage
}

// parse parses flags that may come before or after the positional
// arguments, as users type them, and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError reports a usage error from flag parsing: help is success.
func usageError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func (c *cli) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.level}
	if f, ok := c.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(c.stderr, opts))
		}
	}
	return slog.New(slog.NewJSONHandler(c.stderr, opts))
}

// load reads the configuration at path; a SIGTERM or SIGINT (ctx) ends a
// read that blocks, as on a FIFO.
func (c *cli) load(ctx context.Context, path string) (*config.File, bool) {
	f, err := config.LoadContext(ctx, path, c.getenv)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		fmt.Fprintf(c.stderr, "etl: interrupted while reading %s\n", path)
		return nil, false
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "etl: invalid configuration:\n%v\n", err)
		return nil, false
	}
	return f, true
}

func (c *cli) validate(ctx context.Context, args []string) int {
	fs := c.flagSet("validate")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl validate: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "%s: OK (%s, %s)\n", *path, plural(len(f.Accounts), "account"), plural(len(f.Jobs), "job"))
	return exitOK
}

func (c *cli) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *cli) run(ctx context.Context, args []string) (code int) {
	fs := c.flagSet("run")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	dateFlag := fs.String("date", "", "business `date` to run (default: yesterday in the job's time zone)")
	lockDirFlag := fs.String("lock-dir", "", "`directory` of the run locks (default: lock_dir of jobs.yaml, else .locks in a local warehouse, else under the temporary directory)")
	pushgateway := fs.String("pushgateway", "", "push run metrics to the Prometheus Pushgateway at `URL` (default: metrics.pushgateway of jobs.yaml, else none)")
	reportsDir := reportsDirFlag(fs)
	asJSON := fs.Bool("json", false, "print the summary as one JSON document on stdout (the rest goes to stderr)")
	fullRefresh := fs.Bool("full-refresh", false, "read every subscription, not only those modified since the last read (default: every full_refresh_every days)")
	// jobNames is the repeatable string flag of etl schedule.
	var accounts, streams jobNames
	fs.Var(&accounts, "account", "run only the account `name`, one of the job's (repeatable; default: every account of the job)")
	fs.Var(&streams, "stream", "run only the `streams` named, among the job's: orders, subscriptions, chargebacks (repeatable or comma-separated; chargebacks need orders; default: the job's streams)")
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	jsonOut := c.stdout
	if *asJSON {
		c.stdout = c.stderr
		defer func() { c.stdout = jsonOut }()
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	// Flags win over jobs.yaml.
	if *pushgateway == "" {
		*pushgateway = f.Metrics.Pushgateway
	}
	if *lockDirFlag == "" {
		*lockDirFlag = f.LockDir
	}
	job, ok := f.Job(pos[0])
	if !ok {
		fmt.Fprintf(c.stderr, "etl run: no job %q in %s\n", pos[0], *path)
		return exitUsage
	}
	if job, err = job.Narrow(accounts, streams); err != nil {
		fmt.Fprintf(c.stderr, "etl run: %v\n", err)
		return exitUsage
	}
	date, ok := c.runDate(job, *dateFlag)
	if !ok {
		return exitUsage
	}
	code = exitOK
	doc := runDocJSON{Job: job.Name, Date: date.String(), Runs: []runJSON{}}
	if *asJSON {
		defer func() {
			if c.printJSONTo(jsonOut, "run", doc) != exitOK {
				code = exitFailed
			}
		}()
	}
	opts := runOptions{lockDir: *lockDirFlag, pushgateway: *pushgateway, reportsDir: reportjob.Dir(*reportsDir, f), json: *asJSON,
		narrowed: len(streams) > 0, fullRefresh: *fullRefresh}
	for _, name := range job.Accounts {
		acct, _ := f.Account(name) // validated by config.Load
		s, rc := c.runAccount(ctx, job, acct, date, opts)
		doc.Runs = append(doc.Runs, s)
		if rc == exitFailed || rc == exitLocked && code == exitOK {
			code = rc
		}
	}
	return code
}

// runOptions are the flags of etl run that each account's run uses.
type runOptions struct {
	lockDir, pushgateway, reportsDir string
	json                             bool
	// narrowed: --stream named the streams to run.
	narrowed bool
	// fullRefresh: --full-refresh.
	fullRefresh bool
}

// runAccount runs job for acct on date, prints its summary (unless JSON)
// and builds its reports, and returns the summary's JSON view and an exit
// code.
func (c *cli) runAccount(ctx context.Context, job config.Job, acct config.Account, date civil.Date, o runOptions) (runJSON, int) {
	var display *progress.Display
	if progress.Terminal(c.stderr) {
		display = progress.NewDisplay(c.stderr, c.now)
	}
	r := c.runner(c.displayLogger(display), o.lockDir, "etl run "+job.Name)
	r.FullRefresh = o.fullRefresh
	if display != nil {
		r.Observer = display
	}
	if o.pushgateway != "" {
		var err error
		if r.Metrics, err = progress.NewMetrics(nil); err != nil {
			fmt.Fprintf(c.stderr, "etl run: %v\n", err)
			return summaryJSON(acct.Name, date.String(), pipeline.Summary{}, err), exitFailed
		}
	}
	display.Start()
	s, err := r.RunLocked(ctx, job, acct, date)
	display.Finish()
	r.PushMetrics(ctx, o.pushgateway, job.Name)
	out := summaryJSON(acct.Name, date.String(), s, err)
	switch {
	case errors.Is(err, runlock.ErrHeld):
		fmt.Fprintf(c.stderr, "etl run: %v\n", err)
		return out, exitLocked
	case err != nil:
		r.Log.Error("run failed", "job", job.Name, "account", acct.Name, "date", date.String(), "error", err.Error())
		fmt.Fprintf(c.stderr, "etl run: job %s, account %s, date %s: %v\n", job.Name, acct.Name, date, err)
		return out, exitFailed
	}
	if !o.json {
		printSummary(c.stdout, s, o.narrowed)
	}
	if err := c.jobReports(ctx, r.Log, job, acct, date, o.reportsDir); err != nil {
		fmt.Fprintf(c.stderr, "etl run: job %s, account %s: accounting report: %v\n", job.Name, acct.Name, err)
		return out, exitFailed
	}
	return out, exitOK
}

// printSummary prints what a run did: a line naming it, a table of rows
// read and written and partitions written, unchanged and emptied per
// table, what the orders outside the window are, and anything skipped or
// incomplete. narrowed says the run was narrowed to some streams.
func printSummary(w io.Writer, s pipeline.Summary, narrowed bool) {
	head := fmt.Sprintf("run %s: job %s, account %s, date %s", s.RunID, s.Job, s.Account, s.Date)
	if !s.Window[0].IsZero() {
		head += fmt.Sprintf(", orders window %s..%s", s.Window[0], s.Window[1])
	}
	if narrowed {
		head += ", streams " + strings.Join(s.Streams, ", ")
	}
	fmt.Fprintln(w, head)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trows read\trows written\tpartitions written\tunchanged\temptied\t")
	var total pipeline.TableSummary
	for _, t := range s.Tables {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", t.Table, progress.Count(t.Read), progress.Count(t.Rows),
			count(t.Files), count(t.Unchanged), count(t.Emptied))
		total.Read, total.Rows = total.Read+t.Read, total.Rows+t.Rows
		total.Files, total.Unchanged, total.Emptied = total.Files+t.Files, total.Unchanged+t.Unchanged, total.Emptied+t.Emptied
	}
	fmt.Fprintf(tw, "total\t%s\t%s\t%s\t%s\t%s\t\n", progress.Count(total.Read), progress.Count(total.Rows),
		count(total.Files), count(total.Unchanged), count(total.Emptied))
	tw.Flush()
	if !s.Window[0].IsZero() {
		fmt.Fprintln(w, outsideLine(s))
	}
	fmt.Fprintf(w, "duration %s; amounts rounded to 6 decimals: %s\n", s.Duration.Round(time.Millisecond), progress.Count(s.Rounded))
	for _, stream := range slices.Sorted(maps.Keys(s.Rejected)) {
		if n := s.Rejected[stream]; n > 0 {
			they := "they are"
			if n == 1 {
				they = "it is"
			}
			fmt.Fprintf(w, "stream %s: %s failed validation; %s in rejected_rows\n", stream, progress.Plural(n, "record"), they)
		}
	}
	for _, stream := range s.Unsupported {
		fmt.Fprintf(w, "stream %s skipped: the account's API does not provide it\n", stream)
	}
	for _, stream := range s.Unavailable {
		fmt.Fprintf(w, "stream %s skipped: the account is set to %s: unavailable; chargeback fees are not computed\n", stream, stream)
	}
	for _, line := range s.Coverage.Incomplete() {
		fmt.Fprintf(w, "field coverage under 100%%: %s\n", line)
	}
}

// outsideLine explains the orders the run read and did not store
// (pipeline.Summary.Skipped): the searches of API days from-1 to to+2, one
// day each, or from-1 to to+1, each asking for its day and the next, return
// orders dated, in the reporting zone, before or after the window.
func outsideLine(s pipeline.Summary) string {
	from, to := s.Window[0], s.Window[1]
	last, how := to.AddDays(1), "each also asking for the next day"
	if s.OneDaySearches {
		last, how = to.AddDays(2), "one API day each"
	}
	return fmt.Sprintf("orders outside the window: %s (read, not stored: the day searches, %s..%s, %s, "+
		"returned them dated before %s or after %s; a run whose window holds their date stores them)",
		progress.Count(s.Skipped), from.AddDays(-1), last, how, from, to)
}

func count(n int) string { return progress.Count(int64(n)) }

// runDate returns the business date of etl run: flag, or yesterday in
// the job's time zone when it is empty. It refuses, with a message, a date
// that does not parse and a day that is not over, which has no final data:
// running it would mark its month complete over orders still to come.
func (c *cli) runDate(job config.Job, flag string) (civil.Date, bool) {
	yesterday := pipeline.Yesterday(job, c.clock())
	if flag == "" {
		return yesterday, true
	}
	date, err := civil.ParseDate(flag)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl run: --date %q: want YYYY-MM-DD\n", flag)
		return civil.Date{}, false
	}
	if date.After(yesterday) {
		fmt.Fprintf(c.stderr, "etl run: --date %s is after yesterday (%s in %s): that day is not over\n", date, yesterday, job.Timezone)
		return civil.Date{}, false
	}
	return date, true
}

func (c *cli) sandboxServe(ctx context.Context, args []string) int {
	fs := c.flagSet("sandbox serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
	seed := fs.Int64("seed", 1, "data `seed`: the same seed serves the same merchant")
	perDay := fs.Int("orders-per-day", 200, "average `orders` per day")
	merchant := fs.String("merchant-code", "LLDEMO", "merchant `code` that login accepts")
	since := fs.String("since", "2025-01-01", "first trading `day` of the merchant")
	tz := fs.String("timezone", "Etc/GMT-2", "API time `zone` of the merchant's dates")
	faultSpec := fs.String("faults", "", "failures to inject, a `SPEC` such as 429=0.1:1s,500=0.05,slow=0.05:200ms,truncate=0.02,malformed=0.02,expire=0.01,insert=3 (default: none)")
	dialects := fs.String("dialect", "", "real-world `variations` to serve, comma-separated: "+strings.Join(dialect.Names(), ", "))
	pos, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(c.stderr, "etl sandbox serve: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	sinceDate, err := civil.ParseDate(*since)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: --since %q: want YYYY-MM-DD\n", *since)
		return exitUsage
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: --timezone: %v\n", err)
		return exitUsage
	}
	faults, err := sandbox.ParseFaults(*faultSpec)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: --faults: %v\n", err)
		return exitUsage
	}
	dia, err := dialect.Parse(*dialects)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: --dialect: %v\n", err)
		return exitUsage
	}
	// The sandbox's secret is not a real credential, but it is still read
	// from the environment rather than a flag, like every key.
	secret, ok := c.getenv("LEDGERLINE_SANDBOX_SECRET")
	if !ok {
		secret = "sandbox-demo-secret"
	}
	m, err := sandbox.New(sandbox.Config{MerchantCode: *merchant, SecretKey: secret, Seed: *seed,
		OrdersPerDay: *perDay, Since: sinceDate, Location: loc, Now: time.Now, Faults: faults, Dialect: dia})
	if err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: %v\n", err)
		return exitUsage
	}
	srv, err := sandbox.Serve(ctx, m, *addr)
	if err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "sandbox merchant %s (seed %d, faults %s, dialect %s)\n  JSON-RPC 6.0  %s\n  REST 6.0      %s\n  legacy API    %s\nCtrl-C stops.\n",
		*merchant, *seed, faults, dia, srv.URL(), srv.RESTURL(), srv.LegacyURL())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(c.stderr, "etl sandbox serve: %v\n", err)
		return exitFailed
	}
	return exitOK
}
