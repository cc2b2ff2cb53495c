// Package destinations holds the table of destination kinds a job can load
// into (local, bigquery) and opens the one a job's configuration names. It
// is the only place that chooses an implementation by destination type:
// adding a kind is one package under load, its settings struct as a field
// of config.Destination (which decodes and validates it), and one entry
// here. A test checks that the table and config's types agree.
package destinations

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"github.com/ledgerline/ledgerline/load/local"
)

// Kind is one kind of destination.
type Kind struct {
	// Type is the destination's type in jobs.yaml.
	Type string
	// Open opens the warehouse d for runs, which create what they need.
	Open func(ctx context.Context, d config.Destination) (load.Warehouse, error)
	// OpenReader opens the warehouse d read-only: it creates nothing.
	OpenReader func(ctx context.Context, d config.Destination) (load.ReadCloser, error)
	// LockDir returns the default directory of the run locks of the jobs
	// loading d, shared by every job loading the same warehouse.
	LockDir func(d config.Destination) string
}

// Kinds returns the table of destination kinds. Each opens the settings
// of its type in config.Destination (Local, BigQuery).
func Kinds() []Kind {
	return []Kind{
		{
			Type:       config.DestinationLocal,
			Open:       openLocal,
			OpenReader: openLocalReader,
			// In the warehouse itself, so that runs loading it exclude
			// each other whatever their jobs.yaml.
			LockDir: func(d config.Destination) string {
				return filepath.Join(cmp.Or(d.Local, &config.LocalDestination{}).Path, ".locks")
			},
		},
		{
			Type:       config.DestinationBigQuery,
			Open:       openBigQuery,
			OpenReader: func(ctx context.Context, d config.Destination) (load.ReadCloser, error) { return openBigQuery(ctx, d) },
			LockDir:    bigQueryLockDir,
		},
	}
}

// settings returns the settings s of destination d's kind, or an error if
// d, built by hand, lacks them.
func settings[S any](d config.Destination, s *S) (*S, error) {
	if s == nil {
		return nil, fmt.Errorf("destination of type %s has no %s settings", d.Type, d.Type)
	}
	return s, nil
}

// Lookup returns the kind of destination type typ.
func Lookup(typ string) (Kind, error) {
	kinds := Kinds()
	i := slices.IndexFunc(kinds, func(k Kind) bool { return k.Type == typ })
	if i < 0 {
		return Kind{}, fmt.Errorf("unknown destination type %q", typ)
	}
	return kinds[i], nil
}

// Open opens the warehouse of d for runs.
func Open(ctx context.Context, d config.Destination) (load.Warehouse, error) {
	k, err := Lookup(d.Type)
	if err != nil {
		return nil, err
	}
	return k.Open(ctx, d)
}

// OpenReader opens the warehouse of d read-only; it creates nothing, and a
// local warehouse that does not exist is an error (fs.ErrNotExist).
func OpenReader(ctx context.Context, d config.Destination) (load.ReadCloser, error) {
	k, err := Lookup(d.Type)
	if err != nil {
		return nil, err
	}
	return k.OpenReader(ctx, d)
}

// LockDir returns the default directory of the run locks of jobs loading
// d.
func LockDir(d config.Destination) (string, error) {
	k, err := Lookup(d.Type)
	if err != nil {
		return "", err
	}
	return k.LockDir(d), nil
}

func openLocal(_ context.Context, d config.Destination) (load.Warehouse, error) {
	l, err := settings(d, d.Local)
	if err != nil {
		return nil, err
	}
	return local.New(l.Path), nil
}

func openLocalReader(_ context.Context, d config.Destination) (load.ReadCloser, error) {
	l, err := settings(d, d.Local)
	if err != nil {
		return nil, err
	}
	w, err := local.OpenReader(l.Path)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// BigQueryConfig returns the bigquery.Config of a job's bigquery
// destination.
func BigQueryConfig(b config.BigQueryDestination) bigquery.Config {
	return bigquery.Config{
		Project:        b.Project,
		Dataset:        b.Dataset,
		Location:       b.Location,
		Endpoint:       b.Endpoint,
		StagingDataset: b.StagingDataset,
	}
}

func openBigQuery(ctx context.Context, d config.Destination) (load.Warehouse, error) {
	b, err := settings(d, d.BigQuery)
	if err != nil {
		return nil, err
	}
	w, err := bigquery.New(ctx, BigQueryConfig(*b))
	if err != nil {
		return nil, err
	}
	return w, nil
}

// bigQueryLockDir is a directory under os.TempDir() named after the
// dataset: runs on one host loading one dataset exclude each other.
func bigQueryLockDir(d config.Destination) string {
	name := "default"
	if b := d.BigQuery; b != nil && (b.Project != "" || b.Dataset != "") {
		name = b.Project + "." + b.Dataset
	}
	return filepath.Join(os.TempDir(), "ledgerline-locks", name)
}
