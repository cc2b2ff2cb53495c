//go:build bqemulator

// The BigQuery emulator compiles GoogleSQL from Go source, which takes about
// 15 minutes the first time on two cores: its tests run with
// 'make test-bigquery' (go test -tags bqemulator), which CI runs after
// 'make test'.

package bigquery_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestLoadRequests shows, on the requests the client sends, what the
// emulator cannot: the load jobs' ids and options, the full range of the
// values in the Parquet they upload, the staging tables' expiration and
// dataset, and the SQL of the commit transaction.
func TestLoadRequests(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	cfg := e.config("dw")
	cfg.StagingDataset = "staging"
	w := newWarehouse(t, cfg)
	ctx := t.Context()
	orders, rates, items := schemas.Orders(), schemas.ChargebackRates(), schemas.OrderItems()
	// The full range: DECIMAL(18,6) and (18,9) extremes, which the
	// emulator cannot hold.
	written := map[string][]any{
		orders.Name: sliceRows(orders, day1, 20, 0, "M1", 0),
		rates.Name:  sliceRows(rates, day1, 7, 0, "M1", 0),
	}
	r, err := w.BeginRun(ctx, "M1", "run-1")
	if err != nil {
		t.Fatal(err)
	}
	e.rec.reset()
	for _, tab := range []schemas.Table{orders, rates} {
		pw, err := r.Partition(ctx, tab, day1)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range written[tab.Name] {
			if err := pw.Write(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Clear(ctx, items, day1); err != nil {
		t.Fatal(err)
	}
	if err := r.Clear(ctx, items, day2); err != nil {
		t.Fatal(err)
	}
	// The run's record, with what a literal must escape.
	msg := "page 1:\nit's \"bad\" \\ \t"
	rec := schemas.Run{RunID: "run-1", Job: "nightly", Account: "demo's", MerchantCode: "M1", BusinessDate: day1, WindowFrom: &day1,
		Status: load.StatusFailed, Error: &msg, StartedAt: time.Date(2024, 2, 29, 1, 2, 3, 456789000, time.UTC), StartedOn: day2,
		FinishedAt: time.Date(2024, 2, 29, 1, 2, 4, 0, time.UTC), DurationMS: 1234, Orders: 20, Rejected: -1, Version: "v1"}
	if err := r.AppendRun(ctx, rec); err != nil {
		t.Fatal(err)
	}
	st, err := r.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (load.CommitStats{Partitions: 2, Cleared: 2, Rows: 27}); st != want {
		t.Errorf("Commit stats = %+v, want %+v", st, want)
	}

	// Staging tables: in the staging dataset, with the contract's schema,
	// expiring by themselves.
	for _, tab := range []schemas.Table{orders, rates} {
		checkExpiration(t, e.rec, r.StagingTable(tab.Name), bigquery.DefaultStagingExpiration)
	}
	if n := len(e.rec.requests(isPost("/datasets/staging/tables"))); n != 2 {
		t.Errorf("%d staging tables created in dataset staging, want 2", n)
	}

	jobs := e.rec.jobInserts(t)
	if len(jobs) != 3 {
		t.Fatalf("%d jobs inserted, want 2 loads and a commit", len(jobs))
	}
	for _, j := range jobs[:2] {
		l := j.Configuration.Load
		if l == nil {
			t.Fatalf("job %s is not a load", j.JobReference.JobID)
		}
		tab, ok := schemas.Lookup(strings.TrimPrefix(l.DestinationTable.TableID, r.StagingTable("")))
		if !ok {
			t.Fatalf("load into %s, not a staging table of the run", l.DestinationTable.TableID)
		}
		if got, want := j.JobReference.JobID, r.LoadJobID(tab.Name); got != want {
			t.Errorf("load job id %q, want %q", got, want)
		}
		if j.JobReference.Location != "EU" {
			t.Errorf("load job location %q, want EU", j.JobReference.Location)
		}
		type options struct {
			Format, Create, Write, Dataset string
			Decimal                        []string
		}
		got := options{l.SourceFormat, l.CreateDisposition, l.WriteDisposition, l.DestinationTable.DatasetID, l.DecimalTargetTypes}
		want := options{"PARQUET", "CREATE_NEVER", "WRITE_APPEND", "staging", []string{"NUMERIC"}}
		if !reflectEqual(got, want) {
			t.Errorf("load of %s: %+v, want %+v", tab.Name, got, want)
		}
		schema := bigquery.Schema(tab)
		if len(l.Schema.Fields) != len(schema) {
			t.Fatalf("load of %s: %d fields in the schema, want %d", tab.Name, len(l.Schema.Fields), len(schema))
		}
		for i, f := range l.Schema.Fields {
			w := schema[i]
			mode, prec, scale := "", "", ""
			if w.Required {
				mode = "REQUIRED"
			}
			if w.Precision > 0 {
				prec, scale = fmt.Sprint(w.Precision), fmt.Sprint(w.Scale)
			}
			if f.Name != w.Name || f.Type != string(w.Type) || f.Mode != mode || f.Description != w.Description || f.Precision != prec || f.Scale != scale {
				t.Errorf("load of %s: field %+v, want %+v", tab.Name, f, *w)
			}
		}
		// The uploaded Parquet: decimals as INT64, and every value exact.
		checkDecimalsInt64(t, tab, j.Media)
		var got2 []any
		if err := load.ReadParquet(ctx, bytes.NewReader(j.Media), tab, func(row any) error {
			got2 = append(got2, row)
			return nil
		}); err != nil {
			t.Fatalf("uploaded Parquet of %s: %v", tab.Name, err)
		}
		if d := loadtest.Diff(tab, written[tab.Name], got2); d != "" {
			t.Errorf("uploaded Parquet of %s: %s", tab.Name, d)
		}
	}

	commit := jobs[2]
	if commit.Configuration.Query == nil {
		t.Fatal("last job is not the commit query")
	}
	if got, want := commit.JobReference.JobID, r.CommitJobID(); got != want {
		t.Errorf("commit job id %q, want %q", got, want)
	}
	if u := commit.Configuration.Query.UseLegacySQL; u == nil || *u {
		t.Errorf("commit useLegacySql = %v, want false", u)
	}
	cols := func(tab schemas.Table) string {
		var names []string
		for _, c := range tab.Columns {
			names = append(names, "`"+c.Name+"`")
		}
		return strings.Join(names, ", ")
	}
	target := func(name string) string { return "`" + project + ".dw." + name + "`" }
	staging := func(name string) string { return "`" + project + ".staging." + r.StagingTable(name) + "`" }
	nulls := "CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS DATE), " +
		"CAST(NULL AS DATE), CAST(NULL AS DATE), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS TIMESTAMP), " +
		"CAST(NULL AS DATE), CAST(NULL AS TIMESTAMP), CAST(NULL AS INT64), CAST(NULL AS INT64), CAST(NULL AS INT64), " +
		"CAST(NULL AS INT64), CAST(NULL AS INT64), CAST(NULL AS INT64), CAST(NULL AS INT64), CAST(NULL AS STRING), CAST(NULL AS STRING)"
	want := strings.Join([]string{
		"BEGIN TRANSACTION;",
		// The state guard: etl_runs still holds the 0 succeeded runs of M1
		// it held when the run began.
		"INSERT INTO " + target("etl_runs") + " (" + cols(schemas.Runs()) + ")",
		"SELECT " + nulls,
		"FROM (SELECT COUNT(*) AS n FROM " + target("etl_runs") + " WHERE `merchant_code` = 'M1' AND `status` = 'succeeded')",
		"WHERE IF(n = 0, FALSE, ERROR(CONCAT('ledgerline state conflict: 0 succeeded runs of merchant M1 when the run began, ', CAST(n AS STRING), ' now')));",
		"DELETE FROM " + target("chargeback_rates") + " WHERE `month` IN (DATE '2024-02-28') AND `merchant_code` = 'M1';",
		"INSERT INTO " + target("chargeback_rates") + " (" + cols(rates) + ")",
		"SELECT " + cols(rates) + " FROM " + staging("chargeback_rates") + ";",
		"DELETE FROM " + target("order_items") + " WHERE `order_date` IN (DATE '2024-02-28', DATE '2024-02-29') AND `merchant_code` = 'M1';",
		"DELETE FROM " + target("orders") + " WHERE `order_date` IN (DATE '2024-02-28') AND `merchant_code` = 'M1';",
		"INSERT INTO " + target("orders") + " (" + cols(orders) + ")",
		"SELECT " + cols(orders) + " FROM " + staging("orders") + ";",
		"INSERT INTO " + target("etl_runs") + " (" + cols(schemas.Runs()) + ") VALUES",
		`('run-1', 'nightly', 'demo\'s', 'M1', DATE '2024-02-28', DATE '2024-02-28', NULL, 'failed', 'page 1:\nit\'s \"bad\" \\ \u0009', ` +
			`TIMESTAMP '2024-02-29 01:02:03.456789+00', DATE '2024-02-29', TIMESTAMP '2024-02-29 01:02:04.000000+00', 1234, 20, 0, 0, 0, -1, 0, 'v1', NULL);`,
		"COMMIT TRANSACTION;",
		"",
	}, "\n")
	if got := commit.Configuration.Query.Query; got != want {
		t.Errorf("commit SQL:\n%s\nwant:\n%s", got, want)
	}
	// The record reads back as appended.
	runs, err := load.Runs(ctx, w, load.RunQuery{Merchant: "M1", Job: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("etl_runs = %+v, want one record", runs)
	}
	if d := loadtest.Diff(schemas.Runs(), []any{&rec}, []any{&runs[0]}); d != "" {
		t.Errorf("etl_runs: %s", d)
	}

	// The staging tables are dropped after the commit, not before.
	var order []string
	for _, q := range e.rec.requests(func(q request) bool { return q.Method != http.MethodGet }) {
		order = append(order, q.Method+" "+q.Path[strings.LastIndex(q.Path, "/")+1:])
	}
	commitAt := slices.Index(order, "POST jobs")
	for _, name := range []string{orders.Name, rates.Name} {
		if i := slices.Index(order, "DELETE "+r.StagingTable(name)); i < commitAt {
			t.Errorf("staging table of %s dropped at request %d, the commit is %d: %v", name, i, commitAt, order)
		}
	}
}

func reflectEqual(a, b any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

// checkDecimalsInt64 checks that the money and rate columns of a Parquet
// file are DECIMAL(18,s) stored as INT64.
func checkDecimalsInt64(t *testing.T, tab schemas.Table, data []byte) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	for _, c := range tab.Columns {
		if c.Type != schemas.Decimal && c.Type != schemas.Rate {
			continue
		}
		col := sc.Column(sc.ColumnIndexByName(c.Name))
		if col.PhysicalType() != parquet.Types.Int64 {
			t.Errorf("%s.%s stored as %v, want INT64", tab.Name, c.Name, col.PhysicalType())
		}
		if got, want := col.LogicalType().String(), fmt.Sprintf("Decimal(precision=18, scale=%d)", c.Type.Scale()); got != want {
			t.Errorf("%s.%s logical type %s, want %s", tab.Name, c.Name, got, want)
		}
	}
}

// TestRetriedSubmitAttaches shows a job submit whose response is lost
// retried with the same job id and, when BigQuery answers that the job
// exists, attached to that job: the load and the commit run once.
func TestRetriedSubmitAttaches(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.Orders()
	rows := sliceRows(tab, day1, 5, 0, "M1", emulatorDigits)
	r, err := w.BeginRun(t.Context(), "M1", "run-1")
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{r.LoadJobID(tab.Name), r.CommitJobID()}
	var mu sync.Mutex
	seen := map[string]int{}
	e.rec.setAround(func(q request, pass func() (*http.Response, error)) (*http.Response, error) {
		if q.Method != http.MethodPost || !strings.HasSuffix(q.Path, "/jobs") {
			return pass()
		}
		id := ""
		for _, x := range ids {
			if bytes.Contains(q.Body, []byte(`"jobId":"`+x+`"`)) {
				id = x
			}
		}
		if id == "" {
			return pass()
		}
		mu.Lock()
		seen[id]++
		n := seen[id]
		mu.Unlock()
		switch n {
		case 1: // BigQuery makes the job; its answer is lost.
			resp, err := pass()
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			return jsonResponse(http.StatusServiceUnavailable, `{"error":{"code":503,"message":"backend error","errors":[{"reason":"backendError","message":"backend error"}]}}`), nil
		default: // BigQuery refuses a second job of the same id.
			return jsonResponse(http.StatusConflict, fmt.Sprintf(`{"error":{"code":409,"message":"Already Exists: Job %s:EU.%s","errors":[{"reason":"duplicate","message":"Already Exists: Job %s:EU.%s"}],"status":"ALREADY_EXISTS"}}`, project, id, project, id)), nil
		}
	})
	pw, err := r.Partition(t.Context(), tab, day1)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if err := pw.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if seen[id] != 2 {
			t.Errorf("job %s submitted %d times, want 2", id, seen[id])
		}
	}
	expect(t, w, tab, day1, rows)
}

// TestJobErrors shows a failed job reported with BigQuery's reason and
// its first errors, and the targets left unchanged.
func TestJobErrors(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.Orders()
	r, err := w.BeginRun(t.Context(), "M1", "run-1")
	if err != nil {
		t.Fatal(err)
	}
	id := r.LoadJobID(tab.Name)
	var errs []string
	for i := range 8 {
		errs = append(errs, fmt.Sprintf(`{"reason":"invalid","location":"row %d","message":"Error while reading data: bad value in column net_price"}`, i+1))
	}
	failed := fmt.Sprintf(`{"kind":"bigquery#job","jobReference":{"projectId":%q,"jobId":%q,"location":"EU"},"configuration":{"load":{}},`+
		`"status":{"state":"DONE","errorResult":{"reason":"invalid","message":"Error while reading data, error message: Parquet data is invalid"},"errors":[%s]}}`,
		project, id, strings.Join(errs, ","))
	e.rec.setAround(func(q request, pass func() (*http.Response, error)) (*http.Response, error) {
		if q.Method == http.MethodGet && strings.HasSuffix(q.Path, "/jobs/"+id) {
			return jsonResponse(http.StatusOK, failed), nil
		}
		return pass()
	})
	pw, err := r.Partition(t.Context(), tab, day1)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(sliceRows(tab, day1, 1, 0, "M1", emulatorDigits)[0]); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Commit(t.Context())
	var je *bigquery.JobError
	if !errors.As(err, &je) {
		t.Fatalf("Commit = %v, want a *JobError", err)
	}
	var be *bq.Error
	if !errors.As(err, &be) || be.Reason != "invalid" {
		t.Errorf("Commit error's BigQuery error = %+v, want reason invalid", be)
	}
	msg := err.Error()
	for _, want := range []string{id, "invalid: Error while reading data, error message: Parquet data is invalid",
		"first errors: invalid: Error while reading data: bad value in column net_price (at row 1)", "(at row 5)", "and 3 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "row 6") {
		t.Errorf("error %q shows more than 5 errors", msg)
	}
	if err := r.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	if dates, err := w.Partitions(t.Context(), tab); err != nil || len(dates) != 0 {
		t.Errorf("after a failed commit, Partitions = %v, %v; want none", dates, err)
	}
}

// TestJobIDs shows that job ids and staging tables depend on the dataset,
// slice, run and table, and on nothing else.
func TestJobIDs(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	begin := func(dataset, slice, runID string) *bigquery.Run {
		r, err := e.warehouse(t, dataset).BeginRun(t.Context(), slice, runID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, again := begin("dw", "M1", "run-1"), begin("dw", "M1", "run-1")
	if a.LoadJobID("orders") != again.LoadJobID("orders") || a.CommitJobID() != again.CommitJobID() || a.StagingTable("orders") != again.StagingTable("orders") {
		t.Error("the same run has different job ids")
	}
	ids := map[string]bool{}
	for _, r := range []*bigquery.Run{a, begin("dw", "M2", "run-1"), begin("dw", "M1", "run-2"), begin("dw2", "M1", "run-1"), begin("dw", "M1", "run_1"), begin("dw", "M1", "run.1"), begin("dw", "M1", "run-1.failure")} {
		for _, id := range []string{r.LoadJobID("orders"), r.LoadJobID("order_items"), r.CommitJobID(), r.StagingTable("orders")} {
			if ids[id] {
				t.Errorf("id %s used twice", id)
			}
			ids[id] = true
		}
	}
	if id := a.LoadJobID("orders"); !strings.HasPrefix(id, "ledgerline_run-1_M1_") || !strings.HasSuffix(id, "_load_orders") {
		t.Errorf("load job id %q does not read as run, slice and table", id)
	}
}

// TestCommitAfterConcurrentUpdate shows a commit transaction that BigQuery
// aborted for a concurrent update of its table (by another slice's commit)
// run again as a new job.
func TestCommitAfterConcurrentUpdate(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.Orders()
	rows := sliceRows(tab, day1, 4, 0, "M1", emulatorDigits)
	r := writeRun(t, w, "M1", "run-1", tab, map[civil.Date][]any{day1: rows})
	first := r.CommitJobID()
	aborted := fmt.Sprintf(`{"error":{"code":400,"message":"Transaction is aborted due to concurrent update against table %s:dw.orders.","errors":[{"reason":"invalidQuery","message":"Transaction is aborted due to concurrent update against table %s:dw.orders."}]}}`, project, project)
	e.rec.setAround(func(q request, pass func() (*http.Response, error)) (*http.Response, error) {
		switch {
		case q.Method == http.MethodPost && bytes.Contains(q.Body, []byte(`"jobId":"`+first+`"`)):
			// BigQuery runs the job, and aborts it.
			return jsonResponse(http.StatusOK, fmt.Sprintf(`{"kind":"bigquery#job","jobReference":{"projectId":%q,"jobId":%q,"location":"EU"},"configuration":{"query":{"query":"..."}},"status":{"state":"RUNNING"}}`, project, first)), nil
		case q.Method == http.MethodGet && strings.HasSuffix(q.Path, "/"+first):
			return jsonResponse(http.StatusBadRequest, aborted), nil
		}
		return pass()
	})
	if _, err := r.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range e.rec.jobInserts(t) {
		if j.Configuration.Query != nil {
			ids = append(ids, j.JobReference.JobID)
		}
	}
	if want := []string{first, first + "_2"}; !slices.Equal(ids, want) {
		t.Errorf("commit jobs %v, want %v", ids, want)
	}
	expect(t, w, tab, day1, rows)
}
