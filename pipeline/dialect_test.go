package pipeline_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestDialectsGiveTheDefaultWarehouse runs the nightly job, with orders,
// subscriptions and chargebacks, against a sandbox of each real-world
// dialect and against a default one, and shows with DuckDB that every
// table the dialect's run committed equals the default's row for row,
// the run's own columns (run_id, extracted_at) aside: nothing lost,
// duplicated or changed. The merchant has more orders a day than a page
// holds, so that paging dialects have pages to act on, and the window
// spans 30 March 2025, when Europe/Bucharest moves to summer time. Each
// API day is searched alone but under enddate-exclusive, where the
// searches overlap, so the overlapping and the one-day searches are shown
// to read the same orders.
// (no-chargeback-fields is TestFieldCoverage's: it must fail the run.)
func TestDialectsGiveTheDefaultWarehouse(t *testing.T) {
	parent := t
	bucharest, err := time.LoadLocation(dialect.DSTLocation)
	if err != nil {
		t.Fatal(err)
	}
	type side struct {
		protocol string
		zone     *time.Location // the account's source_timezone; nil: testAccount's
	}
	defaults := map[side]string{} // a default run's warehouse, by protocol and zone
	// warehouseOf runs the job into a new warehouse under dir.
	warehouseOf := func(t *testing.T, dir string, s side, d dialect.Set) string {
		t.Helper()
		root := filepath.Join(dir, "warehouse")
		acct, job := testAccount(t), testJob(3)
		job.Streams = []string{"orders", "subscriptions", "chargebacks"}
		acct.Sandbox.OrdersPerDay, acct.Sandbox.Protocol, acct.Sandbox.Dialect = 150, s.protocol, d
		if s.zone != nil {
			acct.SourceTimezone = s.zone
		}
		sum, err := runAccount(t, root, job, acct)
		if err != nil {
			t.Fatalf("dialect %q: %v", d, err)
		}
		// Only an exclusive EndDate needs the searches to overlap.
		if want := !d.Has(dialect.EndDateExclusive); sum.OneDaySearches != want {
			t.Errorf("dialect %q: one-day searches %v, want %v", d, sum.OneDaySearches, want)
		}
		if n := count(sum, "orders"); n < 4*150 {
			t.Fatalf("dialect %q: %d orders written: the case tests nothing", d, n)
		}
		return root
	}
	for _, tc := range []struct {
		dialect string
		side    side
	}{
		{dialect.EndDateExclusive, side{config.APIJSONRPC, nil}},
		{dialect.FinishDateFilter, side{config.APIJSONRPC, nil}},
		{dialect.CountIsPageSize, side{config.APIJSONRPC, nil}},
		{dialect.SubscriptionsBareArray, side{config.APIJSONRPC, nil}},
		{dialect.RefNoStatusChange, side{config.APIJSONRPC, nil}},
		{dialect.REST201, side{config.APIREST, nil}},
		{dialect.EndDateExclusive, side{config.APIREST, nil}},
		{dialect.RefNoStatusChange, side{config.APIREST, nil}},
		{dialect.DSTTimezone, side{config.APIJSONRPC, bucharest}},
	} {
		t.Run(tc.side.protocol+" "+tc.dialect, func(t *testing.T) {
			def, ok := defaults[tc.side]
			if !ok {
				def = warehouseOf(t, parent.TempDir(), tc.side, dialect.Set{}) // kept for the cases after
				defaults[tc.side] = def
			}
			got := warehouseOf(t, t.TempDir(), tc.side, dialect.Of(tc.dialect))
			for _, tab := range []schemas.Table{schemas.Orders(), schemas.OrderItems(), schemas.SubscriptionHistory(),
				schemas.Chargebacks(), schemas.ChargebackRates()} {
				sameTable(t, tab, def, got)
			}
		})
	}
}

// sameTable fails t unless table tab holds the same rows in the
// warehouses at want and got, counted with their repeats, every column
// compared but the run's own.
func sameTable(t *testing.T, tab schemas.Table, want, got string) {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var own []string
	for _, c := range []string{"run_id", "extracted_at"} {
		if _, ok := tab.Column(c); ok {
			own = append(own, c)
		}
	}
	from := func(root string) string {
		q := fmt.Sprintf("SELECT * FROM read_parquet('%s', hive_partitioning = false)", filepath.Join(root, tab.Name, "*", "*.parquet"))
		if len(own) > 0 {
			q = strings.Replace(q, "*", "* EXCLUDE ("+strings.Join(own, ", ")+")", 1)
		}
		return q
	}
	var rows int
	if err := db.QueryRow("SELECT count(*) FROM (" + from(want) + ")").Scan(&rows); err != nil {
		t.Fatalf("%s: %v", tab.Name, err)
	}
	if rows == 0 {
		t.Fatalf("%s: the default run wrote no rows: the case tests nothing", tab.Name)
	}
	for _, diff := range []struct{ what, a, b string }{{"only in the default's", want, got}, {"only in the dialect's", got, want}} {
		q := "SELECT CAST(to_json(d) AS VARCHAR) FROM (" + from(diff.a) + " EXCEPT ALL " + from(diff.b) + ") d ORDER BY 1"
		r, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", tab.Name, err)
		}
		var extra []string
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			extra = append(extra, s)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if len(extra) > 0 {
			t.Errorf("%s: %d of %d rows %s warehouse, first: %s", tab.Name, len(extra), rows, diff.what, strings.Join(extra[:min(3, len(extra))], "\n"))
		}
	}
}
