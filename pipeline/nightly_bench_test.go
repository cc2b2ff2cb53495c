package pipeline_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
)

// BenchmarkNightlyEndToEnd runs the nightly job end to end at size: `etl
// run`, built from this tree, as a child process, reading a sandbox merchant
// (`etl sandbox serve`, another child, so that its memory is not counted)
// over JSON-RPC on loopback with no rate limit, 120 lookback days (widened
// to the first of the month) into a local warehouse. Per case it reports
//
//	orders         orders written
//	orders/s       orders written per second of the run's wall time
//	peak-RSS-MB    the peak RSS of the whole etl run process (rusage maxrss,
//	               through a small launcher: see wrapEnv)
//	floor-ratio    the run's wall time over a fetch-only pass's: the same
//	               client reading the same API days with the same
//	               concurrency, through the pipeline's own orders loop, the
//	               pages discarded (see discardSource); run in this
//	               process, against the same sandbox, just before the run
//	duckdb-ratio   the run's wall time over the fetch-only pass's plus
//	               DuckDB's converting the same orders from one NDJSON file
//	               to partitioned Parquet (duckdbConvert); orders cases only
//
// and prints a table of them. Cases are orders per day of the sandbox
// (1000, 4000 and 8000: about 120k, 480k and 960k orders in the window)
// with streams orders and chargebacks, and "subs" (about a million
// subscriptions, stream subscriptions alone). LEDGERLINE_BENCH_SIZES
// overrides the list, e.g. "1000" or "1000,subs"; LEDGERLINE_BENCH_PROFILE=DIR
// writes the runs' CPU and heap profiles there.
func BenchmarkNightlyEndToEnd(b *testing.B) {
	cases := strings.Split(envOr("LEDGERLINE_BENCH_SIZES", "1000,4000,8000,subs"), ",")
	etl := buildETL(b)
	var table []string
	for _, name := range cases {
		c, err := benchCaseOf(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res := runNightlyCase(b, etl, c)
				b.ReportMetric(float64(res.rows), c.unit)
				b.ReportMetric(float64(res.rows)/res.run.Seconds(), c.unit+"/s")
				b.ReportMetric(float64(res.maxRSS)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(res.run.Seconds()/res.fetch.Seconds(), "floor-ratio")
				duck := "-"
				if res.duck > 0 {
					ratio := res.run.Seconds() / (res.fetch + res.duck).Seconds()
					b.ReportMetric(ratio, "duckdb-ratio")
					duck = fmt.Sprintf("%.2fs %d orders, %.2fx", res.duck.Seconds(), res.duckRows, ratio)
				}
				table = append(table, fmt.Sprintf("%-6s %9d %-13s %8.2fs %8.2fs %6.2fx %9.0f/s %8.0f MB   %s",
					c.name, res.rows, c.unit, res.run.Seconds(), res.fetch.Seconds(),
					res.run.Seconds()/res.fetch.Seconds(), float64(res.rows)/res.run.Seconds(), float64(res.maxRSS)/(1<<20), duck))
			}
		})
	}
	fmt.Printf("\nNightly job end to end (etl run as a child process, sandbox in another)\n")
	fmt.Printf("%-6s %9s %-13s %9s %9s %7s %11s %11s   %s\n", "case", "rows", "", "run", "fetch", "ratio", "rate", "peak RSS",
		"DuckDB convert, run/(fetch+DuckDB)")
	for _, l := range table {
		fmt.Println(l)
	}
}

type benchCase struct {
	name    string
	perDay  int
	days    int // sandbox trading days before the business date
	streams []string
	unit    string // what rows counts
	table   string // the table whose rows are counted
}

func benchCaseOf(name string) (benchCase, error) {
	if name == "subs" {
		// The sandbox creates about 0.87 subscriptions per order, so 8,000
		// orders a day for 143 days is about a million subscriptions.
		return benchCase{name: name, perDay: 8000, days: 143, streams: []string{"subscriptions"},
			unit: "subscriptions", table: "subscription_history"}, nil
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 1 {
		return benchCase{}, fmt.Errorf("LEDGERLINE_BENCH_SIZES: %q is neither orders per day nor subs", name)
	}
	return benchCase{name: name, perDay: n, days: 200, streams: []string{"orders", "chargebacks"},
		unit: "orders", table: "orders"}, nil
}

type caseResult struct {
	rows       int64
	run, fetch time.Duration
	maxRSS     int64         // bytes
	duck       time.Duration // DuckDB's conversion; zero for subs
	duckRows   int64
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// buildETL builds cmd/etl from this tree.
func buildETL(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "etl")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ledgerline/ledgerline/cmd/etl").CombinedOutput()
	if err != nil {
		b.Fatalf("go build cmd/etl: %v\n%s", err, out)
	}
	return bin
}

const benchSecret = "bench-secret"

func runNightlyCase(b *testing.B, etl string, c benchCase) caseResult {
	dir := b.TempDir()
	date := civil.DateOf(time.Now().UTC()).AddDays(-1)
	url := startSandbox(b, etl, c.perDay, date.AddDays(-c.days))
	cfg := filepath.Join(dir, "jobs.yaml")
	streams := strings.Join(c.streams, ", ")
	if err := os.WriteFile(cfg, []byte(benchJobs(url, streams, filepath.Join(dir, "warehouse"))), 0o644); err != nil {
		b.Fatal(err)
	}
	fetch, oneDay := fetchOnly(b, cfg, date, filepath.Join(dir, "fetch"))

	cmd := exec.Command(etl, "run", "bench", "-c", cfg, "--date", date.String(), "--lock-dir", filepath.Join(dir, "locks"))
	cmd.Env = append(os.Environ(), "BENCH_SECRET="+benchSecret)
	if p := os.Getenv("LEDGERLINE_BENCH_PROFILE"); p != "" {
		cmd.Env = append(cmd.Env, "LEDGERLINE_CPUPROFILE="+filepath.Join(p, c.name+".cpu.pprof"),
			"LEDGERLINE_MEMPROFILE="+filepath.Join(p, c.name+".heap.pprof"))
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd, peakRSS := wrapped(b, cmd)
	start := time.Now()
	out, err := cmd.Output()
	run := time.Since(start)
	if err != nil {
		b.Fatalf("etl run: %v\n%s\n%s", err, out, tail(stderr.String(), 4000))
	}
	// The floor is only a floor if it made the run's requests.
	if c.table == "orders" && strings.Contains(string(out), "one API day each") != oneDay {
		b.Fatalf("the fetch-only pass searched one API day each: %v; the run did not agree:\n%s", oneDay, out)
	}
	rows := summaryRows(b, string(out), c.table)
	if rows == 0 {
		b.Fatalf("etl run wrote no %s:\n%s", c.table, out)
	}
	res := caseResult{rows: rows, run: run, fetch: fetch, maxRSS: peakRSS()}
	if c.table == "orders" {
		res.duck, res.duckRows = duckdbConvert(b, c, date, dir)
	}
	return res
}

func benchJobs(url, streams, warehouse string) string {
	return `accounts:
  - name: bench
    merchant_code: BENCH01
    secret_key: ${BENCH_SECRET}
    api: jsonrpc
    endpoint: ` + url + `
    requests_per_second: 100000
    source_timezone: Etc/GMT-2
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
jobs:
  - name: bench
    schedule: "@daily"
    accounts: [bench]
    streams: [` + streams + `]
    lookback_days: 120
    destination: {type: local, path: ` + warehouse + `}
`
}

// startSandbox starts `etl sandbox serve` on an ephemeral loopback port and
// returns its JSON-RPC URL; it is killed when the benchmark ends.
func startSandbox(b *testing.B, etl string, perDay int, since civil.Date) string {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, etl, "sandbox", "serve", "--addr", "127.0.0.1:0", "--merchant-code", "BENCH01",
		"--orders-per-day", strconv.Itoa(perDay), "--since", since.String(), "--log-level", "warn")
	cmd.Env = append(os.Environ(), "LEDGERLINE_SANDBOX_SECRET="+benchSecret)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	re := regexp.MustCompile(`JSON-RPC 6\.0\s+(\S+)`)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stdout)
			return m[1]
		}
	}
	b.Fatalf("etl sandbox serve printed no JSON-RPC URL (%v)", sc.Err())
	return ""
}

// fetchOnly reads what the job in cfg would read, through the pipeline's
// own loop over the window with the account's client and concurrency, but
// hands it pages of at most one record (discardSource), so almost nothing
// is converted or written; it returns its wall time, and whether it
// searched one API day each (pipeline.Summary.OneDaySearches).
func fetchOnly(b *testing.B, cfg string, date civil.Date, root string) (time.Duration, bool) {
	ctx := context.Background()
	f, err := config.Load(cfg, func(k string) (string, bool) {
		if k == "BENCH_SECRET" {
			return benchSecret, true
		}
		return os.LookupEnv(k)
	})
	if err != nil {
		b.Fatal(err)
	}
	job, _ := f.Job("bench")
	acct, _ := f.Account("bench")
	// Chargebacks are computed from the orders already read: no requests.
	var streams []string
	for _, s := range job.Streams {
		if s != config.StreamChargebacks {
			streams = append(streams, s)
		}
	}
	job.Streams = streams
	log := slog.New(slog.DiscardHandler)
	start := time.Now()
	src, closeSrc, err := pipeline.OpenSource(ctx, acct, date, job.Timezone, log)
	if err != nil {
		b.Fatal(err)
	}
	defer closeSrc()
	wh := local.New(root)
	dest, err := wh.Begin(ctx, acct.MerchantCode, "fetch-only")
	if err != nil {
		b.Fatal(err)
	}
	r := &pipeline.Run{ID: "fetch-only", Job: job, Account: acct, Date: date, Source: discardSource{src},
		Destination: dest, Warehouse: wh, Logger: log}
	s, err := r.Execute(ctx)
	if err != nil {
		b.Fatalf("fetch-only pass: %v", err)
	}
	return time.Since(start), s.OneDaySearches
}

// discardSource makes every request of the source it wraps, decoding each
// page, and hands on each order page with its first order alone: the
// run's EndDate probe (pipeline's endDateCovers) must still see that a day
// has orders, so that the pass makes the run's requests, one-day searches
// included.
type discardSource struct{ extract.Source }

func (s discardSource) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	return s.Source.Orders(ctx, w, func(p extract.Page[extract.Order]) error {
		p.Items = p.Items[:min(len(p.Items), 1)]
		return yield(p)
	})
}

func (s discardSource) Subscriptions(ctx context.Context, f extract.SubscriptionFilter, yield func(extract.Page[extract.Subscription]) error) error {
	return s.Source.Subscriptions(ctx, f, func(p extract.Page[extract.Subscription]) error {
		p.Items = nil
		return yield(p)
	})
}

// summaryRows returns the rows written to table in etl run's summary, whose
// columns are table, rows read, rows written, ... with thousands separators.
func summaryRows(b *testing.B, out, table string) int64 {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == table {
			n, err := strconv.ParseInt(strings.ReplaceAll(f[2], ",", ""), 10, 64)
			if err != nil {
				b.Fatalf("summary line %q: %v", line, err)
			}
			return n
		}
	}
	b.Fatalf("no %s line in the summary:\n%s", table, out)
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
