package bigquery

import (
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	bq "cloud.google.com/go/bigquery"
	"github.com/ledgerline/ledgerline/schemas"
)

func TestPlan(t *testing.T) {
	tab := schemas.ChargebackRates()
	field := func(md *bq.TableMetadata, name string) *bq.FieldSchema {
		for _, f := range md.Schema {
			if f.Name == name {
				return f
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	tests := []struct {
		name    string
		change  func(md *bq.TableMetadata)
		schema  []string // the update's columns; nil: no schema change
		cluster []string // the update's clustering; nil: none
		desc    bool     // the update sets the table description
		err     []string // "column: reason" of each IncompatibleError
	}{
		{name: "as the contract", change: func(*bq.TableMetadata) {}},
		{name: "legacy type names and unparameterized NUMERIC", change: func(md *bq.TableMetadata) {
			field(md, "transactions").Type = "INT64"
			field(md, "complete").Type = "BOOL"
			f := field(md, "rate")
			f.Precision, f.Scale = 0, 0
		}},
		{name: "extra nullable column kept", change: func(md *bq.TableMetadata) {
			md.Schema = append(md.Schema, &bq.FieldSchema{Name: "note", Type: bq.StringFieldType})
		}},
		{name: "description refreshed, extra column kept", change: func(md *bq.TableMetadata) {
			md.Schema = append(md.Schema, &bq.FieldSchema{Name: "note", Type: bq.StringFieldType})
			field(md, "fee_currency").Description = "old words"
		}, schema: []string{"merchant_code", "month", "transactions", "chargebacks_opened", "rate", "complete", "next_month_fee", "fee_currency", "run_id", "note"}},
		{name: "new required column", change: func(md *bq.TableMetadata) {
			md.Schema = slices.Delete(md.Schema, 5, 6) // complete
		}, err: []string{"complete: is new and REQUIRED; only NULLABLE columns can be added to an existing table"}},
		{name: "clustering and description", change: func(md *bq.TableMetadata) {
			md.Clustering = nil
			md.Description = ""
		}, cluster: []string{"merchant_code"}, desc: true},
		{name: "several problems", change: func(md *bq.TableMetadata) {
			field(md, "transactions").Type = bq.FloatFieldType
			field(md, "next_month_fee").Repeated = true
			md.TimePartitioning = nil
		}, err: []string{
			"transactions: is REQUIRED FLOAT in the table, the contract has INT64",
			"next_month_fee: is REPEATED ARRAY<NUMERIC(18,6)> in the table, the contract has NUMERIC(18,6)",
			": it is not partitioned by a column, the contract partitions it by month (DAY); partitioning cannot change in place",
		}},
		{name: "ingestion-time partitioning", change: func(md *bq.TableMetadata) {
			md.TimePartitioning.Field = ""
		}, err: []string{": it is partitioned by ingestion time (DAY), the contract partitions it by month (DAY); partitioning cannot change in place"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := TableMetadata(tab)
			tt.change(md)
			upd, err := Plan("dw.chargeback_rates", md, tab)
			var got []string
			for _, e := range unjoin(err) {
				var ie *IncompatibleError
				if !errors.As(e, &ie) {
					t.Fatalf("error %v is not an *IncompatibleError", e)
				}
				if ie.Table != "dw.chargeback_rates" {
					t.Errorf("error names table %q", ie.Table)
				}
				got = append(got, ie.Column+": "+ie.Reason)
			}
			if !slices.Equal(got, tt.err) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.err, "\n"))
			}
			if tt.err != nil {
				return
			}
			if tt.schema == nil && tt.cluster == nil && !tt.desc {
				if upd != nil {
					t.Errorf("update %+v, want none", upd)
				}
				return
			}
			if upd == nil {
				t.Fatal("no update, want one")
			}
			var names []string
			for _, f := range upd.Schema {
				names = append(names, f.Name)
				if c, ok := tab.Column(f.Name); ok && (f.Description != c.Description || f.Required == c.Nullable) {
					t.Errorf("update column %s: %+v", f.Name, f)
				}
			}
			if !slices.Equal(names, tt.schema) {
				t.Errorf("update columns %v, want %v", names, tt.schema)
			}
			var cl []string
			if upd.Clustering != nil {
				cl = upd.Clustering.Fields
			}
			if !slices.Equal(cl, tt.cluster) {
				t.Errorf("update clustering %v, want %v", cl, tt.cluster)
			}
			if got := upd.Description != nil; got != tt.desc {
				t.Errorf("update sets the description: %v, want %v", got, tt.desc)
			}
		})
	}
}

// TestPlanRelaxes shows a REQUIRED column that the contract makes nullable
// relaxed in place.
func TestPlanRelaxes(t *testing.T) {
	tab := schemas.Chargebacks()
	md := TableMetadata(tab)
	for _, f := range md.Schema {
		if f.Name == "reason_code" {
			f.Required = true
		}
	}
	upd, err := Plan("dw.chargebacks", md, tab)
	if err != nil || upd == nil {
		t.Fatalf("Plan = %v, %v; want an update", upd, err)
	}
	for _, f := range upd.Schema {
		if f.Name == "reason_code" && f.Required {
			t.Error("reason_code still REQUIRED")
		}
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestUnits(t *testing.T) {
	tests := []struct {
		in    string
		scale int32
		want  int64
		err   string
	}{
		{"0", 6, 0, ""},
		{"49.99", 6, 49_990_000, ""},
		{"-0.000001", 6, -1, ""},
		{"999999999999.999999", 6, 999_999_999_999_999_999, ""},
		{"-999999999999.999999", 6, -999_999_999_999_999_999, ""},
		{"0.0065", 9, 6_500_000, ""},
		{"999999999.999999999", 9, 999_999_999_999_999_999, ""},
		{"0.0000001", 6, 0, "1/10000000 has more than 6 decimals"},
		{"1/3", 9, 0, "1/3 has more than 9 decimals"},
		{"1000000000000", 6, 0, "1000000000000.000000 is out of range for DECIMAL(18,6)"},
		{"-1000000000", 9, 0, "-1000000000.000000000 is out of range for DECIMAL(18,9)"},
		{"100000000000000000000000", 6, 0, "out of range"},
	}
	for _, tt := range tests {
		r, ok := new(big.Rat).SetString(tt.in)
		if !ok {
			t.Fatalf("bad rational %q", tt.in)
		}
		got, err := units(r, tt.scale)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("units(%s, %d) = %d, %v; want %d", tt.in, tt.scale, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("units(%s, %d) = %d, %v; want an error with %q", tt.in, tt.scale, got, err, tt.err)
		}
	}
}

func TestJobErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *JobError
		want string
	}{
		{"reason only", &JobError{What: "commit of run r (job j)", Err: &bq.Error{Reason: "invalidQuery", Message: "Transaction is aborted due to concurrent update"}},
			"bigquery: commit of run r (job j) failed: invalidQuery: Transaction is aborted due to concurrent update"},
		{"error result repeated in the errors", &JobError{What: "load", Err: &bq.Error{Reason: "invalid", Message: "bad"},
			Errors: []*bq.Error{{Reason: "invalid", Message: "bad"}, {Reason: "invalid", Location: "row 7", Message: "not a number"}}},
			"bigquery: load failed: invalid: bad; first errors: invalid: not a number (at row 7)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestBeginRefusesNames(t *testing.T) {
	w, err := New(t.Context(), Config{Project: "p", Dataset: "d", Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, ids := range [][2]string{{"M1", "run 1"}, {"M1", ".run"}, {"M1", ""}, {"M 1", "run"}, {"", "run"}, {"M1", "r/1"}, {"M.1", "run"}} {
		if _, err := w.BeginRun(t.Context(), ids[0], ids[1]); err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("Begin(%q, %q) = %v, want an invalid name error", ids[0], ids[1], err)
		}
	}
}
