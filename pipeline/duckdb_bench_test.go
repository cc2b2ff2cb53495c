package pipeline_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/pipeline"
)

// duckdbConvert is the issue's second baseline: what "fetch the pages, then
// let DuckDB convert them" adds to the fetch floor. It writes the orders of
// the run's window (the days it writes), as the sandbox serves them (the same seed, merchant and
// days as the sandbox process), to one NDJSON file, untimed, and returns
// how long DuckDB takes to read that file and write orders and order_items
// as Parquet partitioned by day, zstd, and the orders it read. DuckDB runs
// in this process on all cores, so its memory is not the etl run's.
func duckdbConvert(b *testing.B, c benchCase, date civil.Date, dir string) (time.Duration, int64) {
	b.Helper()
	since := date.AddDays(-c.days)
	m, err := sandbox.New(sandbox.Config{MerchantCode: "BENCH01", SecretKey: benchSecret, Seed: 1,
		OrdersPerDay: c.perDay, Since: since})
	if err != nil {
		b.Fatal(err)
	}
	from, to := pipeline.Window(date, 120)
	ndjson := filepath.Join(dir, "orders.ndjson")
	f, err := os.Create(ndjson)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for d := from; !d.After(to); d = d.AddDays(1) {
		for _, o := range m.OrdersOn(d) {
			line, err := apijson.Marshal(o)
			if err != nil {
				b.Fatal(err)
			}
			w.Write(line)
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}

	if err := os.MkdirAll(filepath.Join(dir, "duck"), 0o755); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	start := time.Now()
	src := fmt.Sprintf("read_ndjson_auto('%s')", ndjson)
	statements := []string{
		fmt.Sprintf(`CREATE TEMP TABLE raw AS SELECT *, CAST(OrderDate AS DATE) AS order_day FROM %s`, src),
		fmt.Sprintf(`COPY (SELECT * EXCLUDE (Items) FROM raw) TO '%s' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (order_day))`,
			filepath.Join(dir, "duck", "orders")),
		fmt.Sprintf(`COPY (SELECT RefNo, order_day, UNNEST(Items, max_depth := 2) FROM raw) TO '%s' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (order_day))`,
			filepath.Join(dir, "duck", "order_items")),
	}
	for _, q := range statements {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatalf("DuckDB: %v\n%s", err, q)
		}
	}
	elapsed := time.Since(start)
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM raw`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return elapsed, n
}
