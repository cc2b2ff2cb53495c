package destinations_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/load/destinations"
	"github.com/ledgerline/ledgerline/load/local"
)

// TestEveryConfigTypeHasAKind: each destination type jobs.yaml accepts
// is in the table, once; an unknown type is an error.
func TestEveryConfigTypeHasAKind(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range destinations.Kinds() {
		if seen[k.Type] {
			t.Errorf("type %q twice in the table", k.Type)
		}
		seen[k.Type] = true
		if !slices.Contains(config.DestinationTypes(), k.Type) {
			t.Errorf("kind %q is no destination type of config", k.Type)
		}
		if k.Open == nil || k.OpenReader == nil || k.LockDir == nil {
			t.Errorf("kind %q lacks a function", k.Type)
		}
	}
	for _, typ := range config.DestinationTypes() {
		if _, err := destinations.Lookup(typ); err != nil || !seen[typ] {
			t.Errorf("Lookup(%q): %v", typ, err)
		}
	}
	if _, err := destinations.Open(t.Context(), config.Destination{Type: "s3"}); err == nil {
		t.Error("Open of an unknown type succeeded")
	}
	// A destination built by hand without its kind's settings.
	for _, typ := range config.DestinationTypes() {
		if _, err := destinations.Open(t.Context(), config.Destination{Type: typ}); err == nil {
			t.Errorf("Open of a %s destination without settings succeeded", typ)
		}
		if _, err := destinations.OpenReader(t.Context(), config.Destination{Type: typ}); err == nil {
			t.Errorf("OpenReader of a %s destination without settings succeeded", typ)
		}
	}
}

// TestLocal: runs open a local warehouse and create it when they begin;
// a reader creates nothing and refuses a missing warehouse.
func TestLocal(t *testing.T) {
	ctx := t.Context()
	root := filepath.Join(t.TempDir(), "wh")
	d := config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
	if _, err := destinations.OpenReader(ctx, d); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReader of a missing warehouse = %v, want fs.ErrNotExist", err)
	}
	w, err := destinations.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open created the warehouse before a run began: %v", err)
	}
	if _, ok := w.(*local.Warehouse); !ok {
		t.Errorf("Open = %T, want *local.Warehouse", w)
	}
	dest, err := w.Begin(ctx, "M1", "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dest.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := destinations.OpenReader(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := destinations.LockDir(d); err != nil || got != filepath.Join(root, ".locks") {
		t.Errorf("LockDir = %q, %v", got, err)
	}
}

func TestBigQuery(t *testing.T) {
	d := config.Destination{Type: config.DestinationBigQuery, BigQuery: &config.BigQueryDestination{Project: "p", Dataset: "ds", Location: "EU",
		Endpoint: "http://127.0.0.1:1", StagingDataset: "st"}}
	want := bigquery.Config{Project: "p", Dataset: "ds", Location: "EU", Endpoint: "http://127.0.0.1:1", StagingDataset: "st"}
	if got := destinations.BigQueryConfig(*d.BigQuery); got.Project != want.Project || got.Dataset != want.Dataset ||
		got.Location != want.Location || got.Endpoint != want.Endpoint || got.StagingDataset != want.StagingDataset {
		t.Errorf("BigQueryConfig = %+v, want %+v", got, want)
	}
	w, err := destinations.Open(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, ok := w.(*bigquery.Warehouse); !ok {
		t.Errorf("Open = %T, want *bigquery.Warehouse", w)
	}
	dir, err := destinations.LockDir(d)
	if err != nil || dir != filepath.Join(os.TempDir(), "ledgerline-locks", "p.ds") {
		t.Errorf("LockDir = %q, %v", dir, err)
	}
	if dir, _ := destinations.LockDir(config.Destination{Type: config.DestinationBigQuery}); dir != filepath.Join(os.TempDir(), "ledgerline-locks", "default") {
		t.Errorf("LockDir of no dataset = %q", dir)
	}
}
