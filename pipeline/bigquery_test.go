//go:build bqemulator

// The BigQuery emulator compiles GoogleSQL from Go source, which takes about
// 15 minutes the first time on two cores: its tests run with
// 'make test-bigquery' (go test -tags bqemulator), which CI runs after
// 'make test'.

package pipeline_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/goccy/bigquery-emulator/server"
	"github.com/goccy/bigquery-emulator/types"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
	"github.com/xuri/excelize/v2"
	"google.golang.org/api/iterator"
)

const bqProject = "ledgerline-test"

// startBigQuery starts a BigQuery emulator in the test's process, with
// project bqProject and no datasets (a run creates them), and returns its
// URL.
func startBigQuery(t testing.TB) string {
	t.Helper()
	srv, err := server.New(server.TempStorage)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Load(server.StructSource(types.NewProject(bqProject))); err != nil {
		t.Fatal(err)
	}
	ts := srv.TestServer()
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the emulator: %v", err)
		}
	})
	return ts.URL
}

// The emulator keeps every job, a query's whole result with it, and reads
// them all back on every request it serves: each request costs more than
// the one before, and three nightly runs and their reads took over three
// minutes. The test deletes the jobs after each run and each read, which
// brings it under one (BigQuery keeps its jobs too, but they do not slow
// it down).

// forgetJobs deletes the jobs of the emulator behind c. It is called when
// no job is running: after a run has committed, after a read has returned.
// (The emulator lists jobs without their status.)
func forgetJobs(t testing.TB, c *bq.Client) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	var jobs []*bq.Job
	it := c.Jobs(ctx)
	for {
		j, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatalf("listing the emulator's jobs: %v", err)
		}
		jobs = append(jobs, j)
	}
	for _, j := range jobs {
		if err := j.Delete(ctx); err != nil {
			t.Fatalf("deleting job %s: %v", j.ID(), err)
		}
	}
}

// bigQueryReader is the BigQuery warehouse reader; it deletes the
// emulator's jobs after every read, so it serves one reader at a time (the
// run's own reads go through its destination, and the reports read
// sequentially).
type bigQueryReader struct {
	*bigquery.Warehouse
	t *testing.T
}

func (r bigQueryReader) Partitions(ctx context.Context, tab schemas.Table) ([]civil.Date, error) {
	defer forgetJobs(r.t, r.Client())
	return r.Warehouse.Partitions(ctx, tab)
}

func (r bigQueryReader) ReadPartition(ctx context.Context, tab schemas.Table, date civil.Date, fn func(row any) error) error {
	defer forgetJobs(r.t, r.Client())
	return r.Warehouse.ReadPartition(ctx, tab, date, fn)
}

func (r bigQueryReader) Read(ctx context.Context, tab schemas.Table, span load.Span, fn func(row any) error) error {
	defer forgetJobs(r.t, r.Client())
	return r.Warehouse.Read(ctx, tab, span, fn)
}

// twin is the same job writing to a local warehouse and to BigQuery.
type twin struct {
	acct      config.Account
	local, bq config.Job
	localRuns []string // run ids, in run order
	bqRuns    []string
	bqClient  *bq.Client
}

// run runs the job for date at clock now into both warehouses: the runs of
// both sides see the same sandbox and the same clock.
func (tw *twin) run(t *testing.T, date civil.Date, now time.Time) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := pipeline.Options{Logger: log, Version: "test", Now: func() time.Time { return now }}
	for _, side := range []struct {
		job  config.Job
		runs *[]string
	}{{tw.local, &tw.localRuns}, {tw.bq, &tw.bqRuns}} {
		start := time.Now()
		s, err := pipeline.RunAccount(t.Context(), side.job, tw.acct, date, opts)
		if err != nil {
			t.Fatalf("%s run of %s: %v", side.job.Destination.Type, date, err)
		}
		*side.runs = append(*side.runs, s.RunID)
		if side.job.Destination.Type == config.DestinationBigQuery {
			forgetJobs(t, tw.bqClient)
		}
		t.Logf("%s run of %s: %d orders, %d chargebacks in %v", side.job.Destination.Type, date,
			count(s, "orders"), count(s, "chargebacks"), time.Since(start).Round(time.Millisecond))
	}
}

// warehouse opens the committed data of job for reading.
func warehouse(t testing.TB, job config.Job) load.Reader {
	t.Helper()
	r, closeR, err := pipeline.OpenWarehouse(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeR() })
	return r
}

// tableRows are the committed rows of a table, by partition.
type tableRows struct {
	dates []civil.Date
	rows  []any
}

// snapshot reads every table of the contract through r. Every row must be
// in its partition, no key may repeat, and every timestamp must be in UTC.
// The columns named in blank are set to their zero value.
func snapshot(t *testing.T, r load.Reader, blank ...string) map[string]tableRows {
	t.Helper()
	out := map[string]tableRows{}
	for _, tab := range schemas.All() {
		dates, err := r.Partitions(t.Context(), tab)
		if err != nil {
			t.Fatalf("partitions of %s: %v", tab.Name, err)
		}
		var tr tableRows
		tr.dates = dates
		keys := map[string]bool{}
		part, _ := tab.Column(tab.Partition)
		for _, d := range dates {
			err := r.ReadPartition(t.Context(), tab, d, func(row any) error {
				v := reflect.ValueOf(row).Elem()
				if got := v.Field(part.Field).Interface().(civil.Date); got != d {
					return fmt.Errorf("row with %s %s in partition %s", tab.Partition, got, d)
				}
				var key strings.Builder
				for _, k := range tab.Key {
					c, _ := tab.Column(k)
					fmt.Fprintf(&key, "%v\x00", v.Field(c.Field).Interface())
				}
				if keys[key.String()] {
					return fmt.Errorf("key %q twice", key.String())
				}
				keys[key.String()] = true
				for _, c := range tab.Columns {
					f := v.Field(c.Field)
					if c.Type == schemas.Timestamp {
						if c.Nullable {
							if f.IsNil() {
								continue
							}
							f = f.Elem()
						}
						if loc := f.Interface().(time.Time).Location(); loc != time.UTC {
							return fmt.Errorf("%s in %v, not UTC", c.Name, loc)
						}
					}
					if slices.Contains(blank, c.Name) {
						v.Field(c.Field).SetZero()
					}
				}
				tr.rows = append(tr.rows, row)
				return nil
			})
			if err != nil {
				t.Fatalf("reading %s partition %s: %v", tab.Name, d, err)
			}
		}
		out[tab.Name] = tr
	}
	return out
}

// diffSnapshots reports every table whose partitions or rows differ.
func diffSnapshots(t *testing.T, what string, want, got map[string]tableRows, skip ...string) {
	t.Helper()
	for _, tab := range schemas.All() {
		if slices.Contains(skip, tab.Name) {
			continue
		}
		w, g := want[tab.Name], got[tab.Name]
		if !slices.Equal(w.dates, g.dates) {
			t.Errorf("%s: %s partitions %v, want %v", what, tab.Name, g.dates, w.dates)
		}
		if d := loadtest.Diff(tab, w.rows, g.rows); d != "" {
			t.Errorf("%s: %s: %s", what, tab.Name, d)
		}
	}
}

func bigQueryAccount(t testing.TB) config.Account {
	acct := testAccount(t)
	acct.ChargebackFees = config.ChargebackFees{Model: config.FeeModelThreshold, Tiers: []config.Tier{
		{Below: big.NewRat(13, 2000), BelowText: "0.65%", Fee: money.FromInt(30)},
		{Fee: money.FromInt(50)},
	}}
	return acct
}

// TestBigQueryRuns runs the nightly job on a small sandbox merchant into a
// local warehouse and, through the same RunAccount and OpenWarehouse, into
// BigQuery (the emulator, in-process), and shows:
//
//   - the rows read back from BigQuery equal the local warehouse's in every
//     table, NUMERIC exactly and timestamps in UTC, run ids aside (both
//     sides run at the same clock, so extracted_at and the etl_runs times
//     are compared as well);
//   - a rerun of the same date leaves the same rows, without duplicates,
//     and one more etl_runs row;
//   - a later run that finds new disputes leaves the earlier ones' opened_on
//     as it was and dates the new ones on its own date, observed;
//   - the month's accounting report built from BigQuery equals the one built
//     from the local Parquet: totals, the CSV byte for byte, and every cell
//     of every sheet (and every part of the workbook file) once the
//     warehouse run ids are mapped from one side to the other.
//
// The sandbox's amounts are far below the emulator's exact range for
// decimals (about 4.5 million, DESIGN.md section 5).
func TestBigQueryRuns(t *testing.T) {
	started := time.Now()
	endpoint := startBigQuery(t)
	acct := bigQueryAccount(t)
	job := testJob(10)
	job.Streams = []string{"orders", "subscriptions", "chargebacks"}
	tw := &twin{acct: acct, local: job, bq: job}
	tw.local.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: t.TempDir()}}
	tw.bq.Destination = config.Destination{Type: config.DestinationBigQuery, BigQuery: &config.BigQueryDestination{
		Project: bqProject, Dataset: "ledgerline", Location: "EU", Endpoint: endpoint, StagingDataset: "ledgerline_staging"}}
	localWH := warehouse(t, tw.local)
	w, ok := warehouse(t, tw.bq).(*bigquery.Warehouse)
	if !ok {
		t.Fatal("OpenWarehouse of a bigquery destination is not a *bigquery.Warehouse")
	}
	bqWH := bigQueryReader{w, t}
	tw.bqClient = w.Client()
	// Both windows start on 1 March (a window widens back to the first of
	// its month): d2 sees the March orders d1 loaded, with the disputes
	// opened on them since.
	d1, d2 := civil.Date{Year: 2025, Month: 3, Day: 31}, civil.Date{Year: 2025, Month: 4, Day: 7}
	clock := func(d civil.Date, minute int) time.Time {
		return d.AddDays(1).In(time.UTC).Add(2*time.Hour + time.Duration(minute)*time.Minute)
	}

	// 1. A nightly run.
	tw.run(t, d1, clock(d1, 0))
	first := snapshot(t, bqWH, "run_id")
	diffSnapshots(t, "after the first run", snapshot(t, localWH, "run_id"), first)
	orders := first["orders"].rows
	if len(orders) < 1000 || len(first["order_items"].rows) < len(orders) || len(first["subscription_history"].rows) == 0 ||
		len(first["chargebacks"].rows) == 0 || len(first["chargeback_rates"].rows) == 0 || len(first["etl_runs"].rows) != 1 {
		for name, tr := range first {
			t.Logf("%s: %d rows in %d partitions", name, len(tr.rows), len(tr.dates))
		}
		t.Fatal("the first run wrote too little to show anything")
	}
	// The amounts have fractions and the times seconds: the comparison
	// above is of exact values.
	var fractions, seconds int
	for _, row := range orders {
		o := row.(*schemas.Order)
		if o.GrossPrice.Units()%money.FromInt(1).Units() != 0 {
			fractions++
		}
		if o.OrderTS.Second() != 0 {
			seconds++
		}
	}
	if fractions == 0 || seconds == 0 {
		t.Errorf("of %d orders, %d have a fractional gross price and %d a time off the minute", len(orders), fractions, seconds)
	}

	// 2. The same date again.
	tw.run(t, d1, clock(d1, 30))
	again := snapshot(t, bqWH, "run_id")
	diffSnapshots(t, "after the rerun", snapshot(t, localWH, "run_id"), again)
	for _, name := range []string{"orders", "order_items", "subscription_history", "chargebacks", "chargeback_rates"} {
		if a, b := len(first[name].rows), len(again[name].rows); a != b {
			t.Errorf("%s: %d rows after the rerun, %d before", name, b, a)
		}
	}
	if n := len(again["etl_runs"].rows); n != 2 {
		t.Errorf("etl_runs has %d rows after two runs", n)
	}
	diffSnapshots(t, "the rerun against the first run", blankColumn(first, "extracted_at"), blankColumn(again, "extracted_at"), "etl_runs", "subscription_reads")

	// 3. A later night with new disputes.
	tw.run(t, d2, clock(d2, 0))
	later := snapshot(t, bqWH, "run_id")
	diffSnapshots(t, "after the later run", snapshot(t, localWH, "run_id"), later)
	before := chargebacksByRef(first)
	observed := 0
	for ref, c := range chargebacksByRef(later) {
		old, ok := before[ref]
		switch {
		case ok:
			if c.OpenedOn != old.OpenedOn || c.OpenedOnBasis != old.OpenedOnBasis {
				t.Errorf("%s moved from %s (%s) to %s (%s)", ref, old.OpenedOn, old.OpenedOnBasis, c.OpenedOn, c.OpenedOnBasis)
			}
		case !c.OrderDate.After(d1):
			observed++
			if c.OpenedOn != d2 || c.OpenedOnBasis != transform.BasisObserved {
				t.Errorf("%s (order %s) opened %s (%s), want %s observed", ref, c.OrderDate, c.OpenedOn, c.OpenedOnBasis, d2)
			}
		default:
			if c.OpenedOn != c.OrderDate || c.OpenedOnBasis != transform.BasisOrderDate {
				t.Errorf("%s: on an order first read by the later run: opened %s (%s)", ref, c.OpenedOn, c.OpenedOnBasis)
			}
		}
	}
	for ref := range before {
		if _, ok := chargebacksByRef(later)[ref]; !ok {
			t.Errorf("dispute %s vanished", ref)
		}
	}
	if observed == 0 {
		t.Fatal("no dispute appeared between the runs on an order the first run loaded: the test shows nothing")
	}
	t.Logf("%d disputes after the first run, %d after the later one, %d of them observed by it",
		len(before), len(later["chargebacks"].rows), observed)

	// 4. March's accounting report from each warehouse.
	month := civil.Date{Year: 2025, Month: 3, Day: 1}
	reportNow := func() time.Time { return clock(d2, 45) }
	localRep, err := reports.Build(t.Context(), reports.Request{Warehouse: localWH, Account: acct, Month: month,
		RunID: "report", Dir: t.TempDir(), Now: reportNow})
	if err != nil {
		t.Fatal(err)
	}
	bqRep, err := reports.Build(t.Context(), reports.Request{Warehouse: bqWH, Account: acct, Month: month,
		RunID: "report", Dir: t.TempDir(), Now: reportNow})
	if err != nil {
		t.Fatal(err)
	}
	compareReports(t, tw, localRep, bqRep)
	t.Logf("report: %d order rows, %d disputes, fees %s %s, complete %v; whole test %v",
		bqRep.Totals.OrderRows, bqRep.Totals.Disputes, bqRep.Totals.ChargebackFees, bqRep.Totals.FeeCurrency,
		bqRep.Totals.Complete, time.Since(started).Round(time.Second))
}

// blankColumn returns a copy of s with column name of every row set to its
// zero value.
func blankColumn(s map[string]tableRows, name string) map[string]tableRows {
	out := map[string]tableRows{}
	for _, tab := range schemas.All() {
		tr := s[tab.Name]
		c, ok := tab.Column(name)
		var rows []any
		for _, row := range tr.rows {
			p := reflect.New(tab.Row)
			p.Elem().Set(reflect.ValueOf(row).Elem())
			if ok {
				p.Elem().Field(c.Field).SetZero()
			}
			rows = append(rows, p.Interface())
		}
		out[tab.Name] = tableRows{dates: tr.dates, rows: rows}
	}
	return out
}

func chargebacksByRef(s map[string]tableRows) map[string]schemas.Chargeback {
	out := map[string]schemas.Chargeback{}
	for _, row := range s["chargebacks"].rows {
		c := row.(*schemas.Chargeback)
		out[c.RefNo] = *c
	}
	return out
}

// compareReports checks that the reports built from the local warehouse and
// from BigQuery say the same: the run ids of each side's warehouse are the
// only difference allowed, and they are mapped to each other in run order.
func compareReports(t *testing.T, tw *twin, localRep, bqRep *reports.Report) {
	t.Helper()
	ids := map[string]string{} // BigQuery run id -> local run id
	for i, id := range tw.bqRuns {
		ids[id] = tw.localRuns[i]
	}
	toLocal := func(id string) string {
		if l, ok := ids[id]; ok {
			return l
		}
		return id
	}
	var pairs []string
	for b, l := range ids {
		pairs = append(pairs, b, l)
	}
	mapIDs := strings.NewReplacer(pairs...)

	if len(bqRep.WarehouseRuns) == 0 {
		t.Error("the BigQuery report read no run's rows")
	}
	var mapped []string
	for _, id := range bqRep.WarehouseRuns {
		mapped = append(mapped, toLocal(id))
	}
	slices.Sort(mapped)
	if !slices.Equal(mapped, localRep.WarehouseRuns) {
		t.Errorf("report read runs %v from BigQuery (%v as local runs), %v from local", bqRep.WarehouseRuns, mapped, localRep.WarehouseRuns)
	}

	lt, bt := localRep.Totals, bqRep.Totals
	if lt.OrderRows == 0 || lt.Disputes == 0 || len(lt.Currencies) < 2 || !lt.Complete {
		t.Errorf("the local report shows too little: %+v", lt)
	}
	bt.CoveredBy = toLocal(bt.CoveredBy)
	bt.Previous.CoveredBy = toLocal(bt.Previous.CoveredBy)
	if l, b := fmt.Sprintf("%+v", lt), fmt.Sprintf("%+v", bt); l != b {
		t.Errorf("report totals:\nBigQuery %s\n   local %s", b, l)
	}

	lcsv, err := os.ReadFile(localRep.CSV)
	if err != nil {
		t.Fatal(err)
	}
	bcsv, err := os.ReadFile(bqRep.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lcsv, bcsv) || bytes.Count(lcsv, []byte("\n")) < 2 {
		t.Errorf("CSV from BigQuery:\n%s\nfrom local:\n%s", bcsv, lcsv)
	}

	// Every cell of every sheet, as excelize reads it back.
	lf, err := excelize.OpenFile(localRep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	bf, err := excelize.OpenFile(bqRep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	if l, b := lf.GetSheetList(), bf.GetSheetList(); !slices.Equal(l, b) {
		t.Fatalf("sheets %q from BigQuery, %q from local", b, l)
	}
	for _, sheet := range lf.GetSheetList() {
		lrows, err := lf.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		brows, err := bf.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(lrows) != len(brows) {
			t.Errorf("sheet %s: %d rows from BigQuery, %d from local", sheet, len(brows), len(lrows))
			continue
		}
		for i := range lrows {
			b := make([]string, len(brows[i]))
			for j, v := range brows[i] {
				b[j] = mapIDs.Replace(v)
			}
			if !slices.Equal(lrows[i], b) {
				t.Errorf("sheet %s row %d:\nBigQuery %q\n   local %q", sheet, i+1, b, lrows[i])
				break
			}
		}
		if sheet == reports.SheetOrders {
			// The header, the orders, then a blank row and the totals rows.
			n := slices.IndexFunc(lrows, func(r []string) bool { return len(r) == 0 })
			if n < 0 {
				n = len(lrows)
			}
			if int64(n) != lt.OrderRows+1 {
				t.Errorf("Orders sheet has %d order rows, totals say %d orders", n-1, lt.OrderRows)
			}
		}
	}

	// And the files themselves: every part of the workbook, formulas and
	// styles included, byte for byte once the run ids are mapped.
	lparts, bparts := zipParts(t, localRep.Workbook), zipParts(t, bqRep.Workbook)
	if l, b := slices.Sorted(maps.Keys(lparts)), slices.Sorted(maps.Keys(bparts)); !slices.Equal(l, b) {
		t.Fatalf("workbook parts %q from BigQuery, %q from local", b, l)
	}
	for name, l := range lparts {
		b := mapIDs.Replace(string(bparts[name]))
		if name == "[Content_Types].xml" {
			// excelize writes the content types of images in map order.
			b, l = sortedElements(b), []byte(sortedElements(string(l)))
		}
		if b != string(l) {
			t.Errorf("workbook part %s differs:\nBigQuery %.2000s\n   local %.2000s", name, b, l)
		}
	}
}

// sortedElements returns the elements of an XML text in sorted order.
func sortedElements(s string) string {
	el := strings.Split(s, "><")
	slices.Sort(el)
	return strings.Join(el, "><")
}

// zipParts returns the contents of the parts of a zip file by name.
func zipParts(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}
