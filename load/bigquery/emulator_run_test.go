//go:build bqemulator

// The BigQuery emulator compiles GoogleSQL from Go source, which takes about
// 15 minutes the first time on two cores: its tests run with
// 'make test-bigquery' (go test -tags bqemulator), which CI runs after
// 'make test'.

package bigquery_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/load/loadtest"
	"github.com/ledgerline/ledgerline/schemas"
)

var (
	day1 = civil.Date{Year: 2024, Month: 2, Day: 28}
	day2 = civil.Date{Year: 2024, Month: 2, Day: 29}
)

// emulatorDigits caps the money and rates of the rows tests load into the
// emulator and read back: it passes Parquet decimals through float64 and
// keeps 9 decimals, so only values below about 4.5e6 come back exact.
// TestLoadRequests shows the full range in the Parquet the client sends.
const emulatorDigits = 12

// TestTablesFromContract shows the target tables as the emulator holds
// them after a run begins: the contract's columns, types, modes and
// descriptions.
func TestTablesFromContract(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	ctx := t.Context()
	if _, err := w.BeginRun(ctx, "M1", "run-1"); err != nil {
		t.Fatal(err)
	}
	for _, tab := range schemas.All() {
		md, err := w.Client().Dataset("dw").Table(tab.Name).Metadata(ctx)
		if err != nil {
			t.Fatalf("table %s: %v", tab.Name, err)
		}
		if md.Description != tab.Description {
			t.Errorf("table %s description = %q, want %q", tab.Name, md.Description, tab.Description)
		}
		if len(md.Schema) != len(tab.Columns) {
			t.Fatalf("table %s has %d columns, want %d", tab.Name, len(md.Schema), len(tab.Columns))
		}
		for i, c := range tab.Columns {
			f := md.Schema[i]
			type col struct {
				Name, Type, Description string
				Required                bool
				Precision, Scale        int64
			}
			got := col{f.Name, string(f.Type), f.Description, f.Required, f.Precision, f.Scale}
			want := col{Name: c.Name, Description: c.Description, Required: !c.Nullable}
			switch c.Type {
			case schemas.String:
				want.Type = "STRING"
			case schemas.Int64:
				want.Type = "INTEGER"
			case schemas.Bool:
				want.Type = "BOOLEAN"
			case schemas.Decimal:
				want.Type, want.Precision, want.Scale = "NUMERIC", 18, 6
			case schemas.Rate:
				want.Type, want.Precision, want.Scale = "NUMERIC", 18, 9
			case schemas.Timestamp:
				want.Type = "TIMESTAMP"
			case schemas.Date:
				want.Type = "DATE"
			}
			if got != want {
				t.Errorf("table %s column %d = %+v, want %+v", tab.Name, i, got, want)
			}
			if c.Description == "" {
				t.Errorf("table %s column %s has no description in the contract", tab.Name, c.Name)
			}
		}
	}

	// The emulator accepts partitioning and clustering without enforcing
	// them: the requests show what a real dataset gets.
	created := map[string]bool{}
	for _, r := range e.rec.requests(isPost("/datasets/dw/tables")) {
		var body struct {
			TableReference   struct{ TableID string } `json:"tableReference"`
			TimePartitioning struct {
				Type  string `json:"type"`
				Field string `json:"field"`
			} `json:"timePartitioning"`
			Clustering struct {
				Fields []string `json:"fields"`
			} `json:"clustering"`
			Schema struct {
				Fields []struct {
					Name, Mode, Description string
				} `json:"fields"`
			} `json:"schema"`
		}
		decode(t, r.Body, &body)
		tab, ok := schemas.Lookup(body.TableReference.TableID)
		if !ok {
			t.Errorf("created table %s, which is not in the contract", body.TableReference.TableID)
			continue
		}
		created[tab.Name] = true
		if tp := body.TimePartitioning; tp.Type != "DAY" || tp.Field != tab.Partition {
			t.Errorf("table %s created with time partitioning %+v, want DAY on %s", tab.Name, tp, tab.Partition)
		}
		if !slices.Equal(body.Clustering.Fields, tab.Clustering) {
			t.Errorf("table %s created clustered by %v, want %v", tab.Name, body.Clustering.Fields, tab.Clustering)
		}
		for i, f := range body.Schema.Fields {
			c := tab.Columns[i]
			wantMode := "REQUIRED"
			if c.Nullable {
				wantMode = "" // NULLABLE, BigQuery's default
			}
			if f.Name != c.Name || f.Mode != wantMode || f.Description != c.Description {
				t.Errorf("table %s created with field %+v, want %s %s %q", tab.Name, f, c.Name, wantMode, c.Description)
			}
		}
	}
	if len(created) != len(schemas.All()) {
		t.Errorf("created %d tables, want %d", len(created), len(schemas.All()))
	}

	// A second run finds the tables as the contract wants them: it
	// creates and changes nothing. It only reads, besides the tables, the
	// count of succeeded runs its commit checks.
	e.rec.reset()
	if _, err := e.warehouse(t, "dw").BeginRun(ctx, "M1", "run-2"); err != nil {
		t.Fatal(err)
	}
	readOnly := func(r request) bool {
		return r.Method == http.MethodGet ||
			r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/queries") && strings.Contains(string(r.Body), `"query":"SELECT COUNT(*) FROM`)
	}
	for _, r := range e.rec.requests(func(r request) bool { return !readOnly(r) }) {
		t.Errorf("second run sent %s %s", r.Method, r.Path)
	}
}

// TestSchemaChange shows a nullable column of the contract added to an
// existing table in place, and changes that cannot be made in place
// failing with the column and the reason.
func TestSchemaChange(t *testing.T) {
	t.Parallel()
	tab := schemas.Chargebacks()
	without := func(names ...string) func(md *bq.TableMetadata) {
		return func(md *bq.TableMetadata) {
			md.Schema = slices.DeleteFunc(md.Schema, func(f *bq.FieldSchema) bool { return slices.Contains(names, f.Name) })
		}
	}
	edit := func(name string, change func(f *bq.FieldSchema)) func(md *bq.TableMetadata) {
		return func(md *bq.TableMetadata) {
			for _, f := range md.Schema {
				if f.Name == name {
					change(f)
				}
			}
		}
	}
	tests := []struct {
		name   string
		change func(md *bq.TableMetadata) // turns the contract's table into the existing one
		column string                     // the column the error names; "" for success
		reason string                     // in the error
	}{
		{"nullable columns added", without("reason_code", "rate"), "", ""},
		{"type changed", edit("fee_amount", func(f *bq.FieldSchema) { f.Type, f.Precision, f.Scale = bq.StringFieldType, 0, 0 }),
			"fee_amount", "is REQUIRED STRING in the table, the contract has NUMERIC(18,6)"},
		{"scale changed", edit("rate", func(f *bq.FieldSchema) { f.Scale = 6 }), "rate", "is NUMERIC(18,6) in the table, the contract has NUMERIC(18,9)"},
		{"new required column", without("fee_rule"), "fee_rule", "is new and REQUIRED"},
		{"made required", edit("resolution", func(f *bq.FieldSchema) { f.Required = false }), "resolution", "is NULLABLE in the table, the contract makes it REQUIRED"},
		{"required column gone from the contract", func(md *bq.TableMetadata) {
			md.Schema = append(md.Schema, &bq.FieldSchema{Name: "legacy_fee", Type: bq.NumericFieldType, Required: true})
		}, "legacy_fee", "is REQUIRED in the table but not in the contract"},
		{"partitioned otherwise", func(md *bq.TableMetadata) { md.TimePartitioning.Field = "order_date" }, "", "partitioned by order_date (DAY), the contract partitions it by opened_on"},
	}
	e := startEmulator(t)
	ctx := t.Context()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataset := fmt.Sprintf("ds%d", i)
			w := e.warehouse(t, dataset)
			if err := w.Client().Dataset(dataset).Create(ctx, nil); err != nil {
				t.Fatal(err)
			}
			md := bigquery.TableMetadata(tab)
			md.Description = "an older description"
			tt.change(md)
			tbl := w.Client().Dataset(dataset).Table(tab.Name)
			if err := tbl.Create(ctx, md); err != nil {
				t.Fatal(err)
			}
			e.rec.reset()
			err := w.EnsureTables(ctx, tab)
			if tt.reason != "" {
				var ie *bigquery.IncompatibleError
				if !errors.As(err, &ie) {
					t.Fatalf("EnsureTables = %v, want an *IncompatibleError", err)
				}
				if ie.Column != tt.column || !strings.Contains(ie.Reason, tt.reason) {
					t.Errorf("EnsureTables: column %q, reason %q; want column %q, reason with %q", ie.Column, ie.Reason, tt.column, tt.reason)
				}
				if !strings.Contains(err.Error(), dataset+".chargebacks") {
					t.Errorf("error %q does not name the table", err)
				}
				for _, r := range e.rec.requests(func(r request) bool { return r.Method != http.MethodGet }) {
					t.Errorf("incompatible table: sent %s %s", r.Method, r.Path)
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureTables: %v", err)
			}
			got, err := tbl.Metadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range got.Schema {
				names = append(names, f.Name)
				if c, _ := tab.Column(f.Name); f.Description != c.Description || f.Required == c.Nullable {
					t.Errorf("column %s: description %q, required %v", f.Name, f.Description, f.Required)
				}
			}
			// The table's columns keep their places; the new ones come last.
			want := []string{"merchant_code", "ref_no", "order_ts", "order_date", "opened_on", "opened_on_basis", "resolution",
				"currency", "order_amount", "fee_amount", "fee_currency", "rate_month", "fee_rule", "run_id", "as_of", "reason_code", "rate"}
			if !slices.Equal(names, want) {
				t.Errorf("columns after the update:\n%v\nwant\n%v", names, want)
			}
			if got.Description != tab.Description {
				t.Errorf("description = %q, want the contract's", got.Description)
			}
			patches := e.rec.requests(func(r request) bool { return r.Method == http.MethodPatch })
			if len(patches) != 1 || !strings.HasSuffix(patches[0].Path, "/datasets/"+dataset+"/tables/chargebacks") {
				t.Errorf("sent %d PATCH requests, want 1 to the table: %v", len(patches), patches)
			}
		})
	}
}

// TestExactValues shows rows read back by query as they were written:
// NUMERIC exact to the last decimal, timestamps in UTC (written in another
// zone), dates as dates, NULLs as nil.
func TestExactValues(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	for _, tab := range []schemas.Table{schemas.Orders(), schemas.ChargebackRates(), schemas.SubscriptionHistory()} {
		rows := sliceRows(tab, day1, 12, 0, "M1", emulatorDigits)
		commitRun(t, w, "M1", "run-"+tab.Name, tab, map[civil.Date][]any{day1: rows})
		got := read(t, w, tab, day1)
		if d := loadtest.Diff(tab, rows, got); d != "" {
			t.Errorf("%s: %s", tab.Name, d)
		}
		for _, row := range got {
			v := reflect.ValueOf(row).Elem()
			for _, c := range tab.Columns {
				f := v.Field(c.Field)
				if c.Type != schemas.Timestamp || (c.Nullable && f.IsNil()) {
					continue
				}
				if c.Nullable {
					f = f.Elem()
				}
				if loc := f.Interface().(time.Time).Location(); loc != time.UTC {
					t.Errorf("%s.%s read in %v, want UTC", tab.Name, c.Name, loc)
				}
			}
		}
	}
	// Money with every decimal, and rates to the ninth.
	order := sliceRows(schemas.Orders(), day2, 1, 3, "M1", emulatorDigits)[0].(*schemas.Order)
	order.NetPrice, order.VAT, order.Discount = 1234567_891011, -1, 4_499_999_999_999
	commitRun(t, w, "M1", "run-money", schemas.Orders(), map[civil.Date][]any{day2: {order}})
	expect(t, w, schemas.Orders(), day2, []any{order})
}

// TestRerunAndSlices shows that a run replaces only its slice (its
// merchant code) of the partitions it names, and that the same run twice
// gives the same rows.
func TestRerunAndSlices(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.Orders()
	m1 := sliceRows(tab, day1, 10, 0, "M1", emulatorDigits)
	m2 := sliceRows(tab, day1, 5, 1, "M2", emulatorDigits)
	commitRun(t, w, "M1", "run-1", tab, map[civil.Date][]any{day1: m1})
	commitRun(t, w, "M2", "run-2", tab, map[civil.Date][]any{day1: m2})
	expect(t, w, tab, day1, append(slices.Clone(m1), m2...))

	// The same date again: the same rows, not twice the rows.
	st := commitRun(t, w, "M1", "run-3", tab, map[civil.Date][]any{day1: sliceRows(tab, day1, 10, 0, "M1", emulatorDigits)})
	if st.Rows != 10 || st.Partitions != 1 {
		t.Errorf("rerun stats = %+v", st)
	}
	expect(t, w, tab, day1, append(slices.Clone(m1), m2...))

	// Fewer rows of M1 replace M1's, and leave M2's.
	fewer := sliceRows(tab, day1, 3, 2, "M1", emulatorDigits)
	commitRun(t, w, "M1", "run-4", tab, map[civil.Date][]any{day1: fewer})
	expect(t, w, tab, day1, append(slices.Clone(fewer), m2...))
}

// TestUncommittedRun shows that a run that wrote its rows but did not
// commit leaves the target tables unchanged, and sends nothing: aborted,
// cancelled before its commit, or gone without a word.
func TestUncommittedRun(t *testing.T) {
	t.Parallel()
	tab := schemas.Orders()
	for _, end := range []string{"abort", "cancel", "vanish"} {
		t.Run(end, func(t *testing.T) {
			e := startEmulator(t)
			w := e.warehouse(t, "dw")
			before := sliceRows(tab, day1, 6, 0, "M1", emulatorDigits)
			commitRun(t, w, "M1", "run-1", tab, map[civil.Date][]any{day1: before})

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r, err := w.BeginRun(ctx, "M1", "run-2")
			if err != nil {
				t.Fatal(err)
			}
			for _, date := range []civil.Date{day1, day2} {
				pw, err := r.Partition(ctx, tab, date)
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range sliceRows(tab, date, 4, 1, "M1", emulatorDigits) {
					if err := pw.Write(row); err != nil {
						t.Fatal(err)
					}
				}
				if err := pw.Close(); err != nil {
					t.Fatal(err)
				}
			}
			// Nothing is sent before Commit: the rows wait in the run's
			// files, loaded with one job per table by Commit.
			staging := r.StagingTable(tab.Name)
			if slices.Contains(tableIDs(t, w, "dw"), staging) {
				t.Fatalf("staging table %s made before Commit", staging)
			}
			switch end {
			case "abort":
				if err := r.Abort(t.Context()); err != nil {
					t.Fatal(err)
				}
				if slices.Contains(tableIDs(t, w, "dw"), staging) {
					t.Errorf("staging table %s left after Abort", staging)
				}
			case "cancel":
				cancel()
				if _, err := r.Commit(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Commit after cancel = %v, want context.Canceled", err)
				}
				commitID := r.CommitJobID()
				if jobs := e.rec.requests(func(r request) bool { return strings.Contains(string(r.Body), commitID) }); len(jobs) > 0 {
					t.Errorf("a cancelled run sent its commit transaction")
				}
				if err := r.Abort(context.Background()); err != nil {
					t.Fatal(err)
				}
			case "vanish":
				// Gone without a word: nothing of it reached BigQuery.
				if n := len(e.rec.requests(func(q request) bool { return strings.Contains(string(q.Body), r.LoadJobID(tab.Name)) })); n != 0 {
					t.Errorf("%d requests of the load job of a run that never committed", n)
				}
			}
			expect(t, w, tab, day1, before)
			expect(t, w, tab, day2, nil)
		})
	}
}

// checkExpiration checks that the table called name was created to expire
// after about d.
func checkExpiration(t *testing.T, rec *recorder, name string, d time.Duration) {
	t.Helper()
	for _, r := range rec.requests(isPost("/tables")) {
		var body struct {
			TableReference struct{ TableID string } `json:"tableReference"`
			ExpirationTime int64                    `json:"expirationTime,string"`
		}
		decode(t, r.Body, &body)
		if body.TableReference.TableID != name {
			continue
		}
		exp := time.UnixMilli(body.ExpirationTime)
		if until := time.Until(exp); until < d-5*time.Minute || until > d {
			t.Errorf("staging table %s expires at %v, in %v; want in about %v", name, exp, until, d)
		}
		return
	}
	t.Errorf("no request created table %s", name)
}

// countRows returns the number of rows of a table, by query.
func countRows(t *testing.T, w *bigquery.Warehouse, dataset, table string) int64 {
	t.Helper()
	it, err := w.Client().Query(fmt.Sprintf("SELECT COUNT(*) FROM `%s.%s.%s`", project, dataset, table)).Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var row []bq.Value
	if err := it.Next(&row); err != nil {
		t.Fatal(err)
	}
	return row[0].(int64)
}

// TestInexactNumericRefused shows the reader refusing a NUMERIC that does
// not fit the contract's DECIMAL(18,s) exactly (the emulator does not
// enforce a column's precision, so DML can put one there).
func TestInexactNumericRefused(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	w := e.warehouse(t, "dw")
	tab := schemas.ChargebackRates()
	if err := w.EnsureTables(t.Context(), tab); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		month, rate, fee string
		want             string
	}{
		{"2024-02-01", "0.0065", "30.0000001", "column next_month_fee: 300000001/10000000 has more than 6 decimals"},
		{"2024-03-01", "1000000000", "30", "column rate: 1000000000.000000000 is out of range for DECIMAL(18,9)"},
	}
	for _, tt := range tests {
		sql := fmt.Sprintf("INSERT INTO `%s.dw.chargeback_rates` (merchant_code, month, transactions, chargebacks_opened, rate, complete, next_month_fee, fee_currency, run_id) "+
			"VALUES ('M1', DATE '%s', 10, 1, NUMERIC '%s', true, NUMERIC '%s', 'USD', 'dml')", project, tt.month, tt.rate, tt.fee)
		if _, err := w.Client().Query(sql).Read(t.Context()); err != nil {
			t.Fatal(err)
		}
		date, _ := civil.ParseDate(tt.month)
		err := w.ReadPartition(t.Context(), tab, date, func(any) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadPartition(%s) = %v, want an error with %q", tt.month, err, tt.want)
		}
	}
}

// TestReadMissingTable shows that reading a table that does not exist
// gives no rows and creates nothing.
func TestReadMissingTable(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, "dw")
	w := e.warehouse(t, "dw")
	dates, err := w.Partitions(t.Context(), schemas.Orders())
	if err != nil || dates != nil {
		t.Errorf("Partitions = %v, %v; want none", dates, err)
	}
	if rows := read(t, w, schemas.Orders(), day1); len(rows) != 0 {
		t.Errorf("ReadPartition gave %d rows, want none", len(rows))
	}
	for _, r := range e.rec.requests(func(r request) bool { return r.Method != http.MethodGet }) {
		t.Errorf("a read sent %s %s", r.Method, r.Path)
	}
}

// TestOpen shows a warehouse opened as a load.Warehouse, with an emulator
// endpoint and no credentials (package destinations makes its Config
// from a job's configuration), and a run that commits rows and its
// record.
func TestOpen(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	cfg := bigquery.Config{Project: project, Dataset: "warehouse", Location: "US", Endpoint: e.url, StagingDataset: "staging"}
	var wh load.Warehouse
	w, err := bigquery.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	wh = w
	defer wh.Close()
	dest, err := wh.Begin(t.Context(), "M1", "20240229T010203Z-0a1b2c3d")
	if err != nil {
		t.Fatal(err)
	}
	tab := schemas.Orders()
	rows := sliceRows(tab, day1, 3, 0, "M1", emulatorDigits)
	pw, err := dest.Partition(t.Context(), tab, day1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := pw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	rec := sliceRows(schemas.Runs(), day1, 2, 0, "M1", 0)[1].(*schemas.Run)
	if err := dest.AppendRun(t.Context(), *rec); err != nil {
		t.Fatal(err)
	}
	if _, err := dest.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	expect(t, wh, tab, day1, rows)
	runs, err := load.Runs(t.Context(), wh, load.RunQuery{Merchant: "M1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("etl_runs = %+v, want one record", runs)
	}
	if d := loadtest.Diff(schemas.Runs(), []any{rec}, []any{&runs[0]}); d != "" {
		t.Errorf("etl_runs: %s", d)
	}
	if ids := tableIDs(t, w, "staging"); len(ids) != 0 {
		t.Errorf("staging tables left after the commit: %v", ids)
	}
}
