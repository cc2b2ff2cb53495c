package pipeline_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/schemas"
)

type coverageRow struct {
	status, errText string
	coverage        map[string]struct {
		Records int64            `json:"records"`
		Present map[string]int64 `json:"present"`
	}
}

// etlRuns reads the etl_runs rows of the warehouse at root with DuckDB.
func etlRuns(t *testing.T, root string) []coverageRow {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(fmt.Sprintf(`SELECT status, coalesce(error, ''), field_coverage FROM read_parquet('%s')`,
		filepath.Join(root, "etl_runs", "*", "*.parquet")))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []coverageRow
	for rows.Next() {
		var r coverageRow
		var cov sql.NullString
		if err := rows.Scan(&r.status, &r.errText, &cov); err != nil {
			t.Fatal(err)
		}
		if !cov.Valid {
			t.Fatalf("etl_runs row %s has no field_coverage", r.status)
		}
		if err := json.Unmarshal([]byte(cov.String), &r.coverage); err != nil {
			t.Fatalf("field_coverage %q: %v", cov.String, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// runAccount runs job for acct into a local warehouse at root.
func runAccount(t *testing.T, root string, job config.Job, acct config.Account) (pipeline.Summary, error) {
	t.Helper()
	job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
	return pipeline.RunAccount(t.Context(), job, acct, businessDate, pipeline.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestFieldCoverage: every run records, per stream, how many records
// carried each field; the default sandbox carries them all, the dialect
// no-chargeback-fields none of the two dispute fields. A job with
// chargebacks fails on the latter with the fix in its message, and
// commits nothing but its failed etl_runs record; with chargebacks:
// unavailable it succeeds without the chargebacks stream.
func TestFieldCoverage(t *testing.T) {
	for _, tt := range []struct {
		name        string
		dialect     string
		unavailable bool
		wantErr     bool
		missing     []string // fields no order carries; the others every one
	}{
		{name: "default", dialect: ""},
		{name: "no chargeback fields", dialect: dialect.NoChargebackFields, wantErr: true,
			missing: []string{"ChargebackResolution", "ChargebackReasonCode"}},
		{name: "no chargeback fields, chargebacks unavailable", dialect: dialect.NoChargebackFields, unavailable: true,
			missing: []string{"ChargebackResolution", "ChargebackReasonCode"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "warehouse")
			acct, job := testAccount(t), testJob(3)
			job.Streams = []string{"orders", "subscriptions", "chargebacks"}
			var err error
			if acct.Sandbox.Dialect, err = dialect.Parse(tt.dialect); err != nil {
				t.Fatal(err)
			}
			if tt.unavailable {
				acct.Chargebacks = config.ChargebacksUnavailable
			}
			s, err := runAccount(t, root, job, acct)
			if tt.wantErr {
				const fix = "grant the API user permission to read chargeback data, or set `chargebacks: unavailable` on the account"
				if !errors.Is(err, pipeline.ErrNoChargebackData) || !strings.Contains(err.Error(), "orders carry no ChargebackResolution") ||
					!strings.Contains(err.Error(), fix) {
					t.Fatalf("err = %v, want it to name ChargebackResolution and the fix", err)
				}
				r, err := local.OpenReader(root)
				if err != nil {
					t.Fatal(err)
				}
				for _, tab := range []schemas.Table{schemas.Orders(), schemas.OrderItems(), schemas.Chargebacks(), schemas.ChargebackRates(), schemas.SubscriptionHistory()} {
					if parts, err := r.Partitions(t.Context(), tab); err != nil || len(parts) != 0 {
						t.Errorf("%s partitions %v (%v) committed by a failed run", tab.Name, parts, err)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}

			runs := etlRuns(t, root)
			if len(runs) != 1 {
				t.Fatalf("%d etl_runs rows, want 1", len(runs))
			}
			wantStatus := pipeline.StatusSucceeded
			if tt.wantErr {
				wantStatus = pipeline.StatusFailed
			}
			if runs[0].status != wantStatus || (tt.wantErr && !strings.Contains(runs[0].errText, "orders carry no ChargebackResolution")) {
				t.Errorf("etl_runs status %s error %q", runs[0].status, runs[0].errText)
			}
			orders := runs[0].coverage["orders"]
			if orders.Records == 0 || orders.Records != s.Coverage["orders"].Records {
				t.Fatalf("orders coverage %+v, summary %+v", orders, s.Coverage["orders"])
			}
			if !tt.wantErr {
				// Every record read is written, rejected, or outside the window.
				if written := coveredRows(s, "orders") + s.Skipped + s.Rejected["orders"]; orders.Records != written {
					t.Errorf("orders coverage counts %d records, the run wrote or skipped %d", orders.Records, written)
				}
				if subs := runs[0].coverage["subscriptions"]; subs.Records != coveredRows(s, "subscription_history") || subs.Records == 0 {
					t.Errorf("subscriptions coverage %+v, %d rows written", subs, coveredRows(s, "subscription_history"))
				} else {
					for f, n := range subs.Present {
						if n != subs.Records {
							t.Errorf("subscriptions field %s: %d of %d", f, n, subs.Records)
						}
					}
				}
			}
			if len(orders.Present) != 8 {
				t.Errorf("orders coverage lists %d fields, want 8: %v", len(orders.Present), orders.Present)
			}
			for f, n := range orders.Present {
				want := orders.Records
				for _, m := range tt.missing {
					if f == m {
						want = 0
					}
				}
				if n != want {
					t.Errorf("orders field %s: %d of %d, want %d", f, n, orders.Records, want)
				}
			}
			incomplete := strings.Join(s.Coverage.Incomplete(), "\n")
			if len(tt.missing) == 0 && incomplete != "" {
				t.Errorf("Incomplete() = %q, want none", incomplete)
			}
			if len(tt.missing) > 0 {
				want := fmt.Sprintf("orders: ChargebackResolution 0.0%% (0 of %d), ChargebackReasonCode 0.0%% (0 of %d)", orders.Records, orders.Records)
				if incomplete != want {
					t.Errorf("Incomplete() = %q, want %q", incomplete, want)
				}
			}
			if tt.unavailable {
				if len(s.Unavailable) != 1 || s.Unavailable[0] != "chargebacks" || coveredRows(s, "chargebacks") != 0 || coveredRows(s, "chargeback_rates") != 0 {
					t.Errorf("summary: unavailable %v, chargebacks %d, rates %d", s.Unavailable, coveredRows(s, "chargebacks"), coveredRows(s, "chargeback_rates"))
				}
			}
		})
	}
}

func coveredRows(s pipeline.Summary, table string) int64 {
	for _, t := range s.Tables {
		if t.Table == table {
			return t.Rows
		}
	}
	return 0
}
