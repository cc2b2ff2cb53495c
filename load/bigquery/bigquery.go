// Package bigquery is the BigQuery destination: the tables of the contract
// in package schemas as BigQuery tables, loaded one run at a time with a
// single atomic commit, and read back with exact types.
//
// A run (see [Warehouse.Begin]) writes each partition it touches as a
// Parquet file (decimals as INT64, timestamps adjusted to UTC) and loads it
// with a load job into a run-scoped staging table: one per target table,
// created with a short expiration in the staging dataset. The load jobs run
// in the background, a few at a time, while the run goes on. Commit then
// runs one multi-statement transaction that, for every table the run
// touched, deletes the run's partitions of the run's slice (its merchant
// code) and inserts the staged rows, and commits; the staging tables are
// dropped afterwards. A run that dies before the commit leaves the target
// tables as they were: its staging tables expire.
//
// Job ids are derived from the run id, the slice, the table and the
// partition, so a submit that is retried after a lost response attaches to
// the job the first attempt created instead of loading the rows twice.
//
// Target tables are created from the contract when missing, partitioned by
// day on the partition column and clustered as the contract says, with a
// description on every column. A nullable column added to the contract is
// added to an existing table in place; a change BigQuery cannot make in
// place fails with an [*IncompatibleError] that names the column and why.
//
// The slice of a partition is the merchant_code column: a run replaces only
// the rows of its own merchant code, and refuses to write rows of another.
// Readers read every merchant code.
package bigquery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	bq "cloud.google.com/go/bigquery"
	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/schemas"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// Defaults of [Config].
const (
	DefaultStagingExpiration = 12 * time.Hour
	DefaultParallelLoads     = 4
	// sliceColumn is the column whose value is a run's slice.
	sliceColumn = "merchant_code"
)

// Config addresses a BigQuery dataset and tunes the loads. Package
// destinations makes it from a job's configuration.
type Config struct {
	Project  string
	Dataset  string
	Location string
	// Endpoint is the base URL of an emulator; empty for BigQuery itself.
	// With an endpoint no credentials are used; without one the client
	// uses Application Default Credentials.
	Endpoint string
	// StagingDataset holds the runs' staging tables; Dataset when empty.
	StagingDataset string
	// StagingExpiration is how long a staging table lives if its run
	// never drops it; DefaultStagingExpiration when zero.
	StagingExpiration time.Duration
	// ParallelLoads bounds the load jobs a run has in flight;
	// DefaultParallelLoads when zero.
	ParallelLoads int
	// TempDir holds the Parquet files of the partitions until they are
	// loaded; the system's temporary directory when empty.
	TempDir string
	// ClientOptions are added to those derived from the fields above.
	ClientOptions []option.ClientOption
}

func (c Config) stagingDataset() string {
	if c.StagingDataset != "" {
		return c.StagingDataset
	}
	return c.Dataset
}

// Warehouse is a BigQuery dataset holding the contract's tables: a
// load.Warehouse, where runs begin and what they committed is read. It is
// safe for concurrent use.
type Warehouse struct {
	client *bq.Client
	cfg    Config
	now    func() time.Time

	mu       sync.Mutex
	datasets map[string]bool              // datasets known to exist
	tables   map[string]*bq.TableMetadata // target tables checked against the contract
	read     map[string]*bq.TableMetadata // target tables found by readers
}

var _ load.Warehouse = (*Warehouse)(nil)

// New connects to the dataset of cfg. It does not touch the dataset: tables
// are checked or created when a run or a read first needs them.
func New(ctx context.Context, cfg Config) (*Warehouse, error) {
	if cfg.Project == "" || cfg.Dataset == "" {
		return nil, errors.New("bigquery: project and dataset are required")
	}
	if cfg.StagingExpiration <= 0 {
		cfg.StagingExpiration = DefaultStagingExpiration
	}
	if cfg.ParallelLoads <= 0 {
		cfg.ParallelLoads = DefaultParallelLoads
	}
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint), option.WithoutAuthentication())
	}
	opts = append(opts, cfg.ClientOptions...)
	client, err := bq.NewClient(ctx, cfg.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery: %w", err)
	}
	client.Location = cfg.Location
	return &Warehouse{
		client:   client,
		cfg:      cfg,
		now:      time.Now,
		datasets: make(map[string]bool),
		tables:   make(map[string]*bq.TableMetadata),
		read:     make(map[string]*bq.TableMetadata),
	}, nil
}

// Close closes the connection.
func (w *Warehouse) Close() error { return w.client.Close() }

// Client returns the BigQuery client of the warehouse.
func (w *Warehouse) Client() *bq.Client { return w.client }

// table returns the target table called name.
func (w *Warehouse) table(name string) *bq.Table {
	return w.client.Dataset(w.cfg.Dataset).Table(name)
}

// qualified returns the quoted, fully qualified name of a table for SQL.
func qualified(t *bq.Table) string {
	return "`" + t.ProjectID + "." + t.DatasetID + "." + t.TableID + "`"
}

// quoteIdent quotes a column name for SQL.
func quoteIdent(name string) string { return "`" + name + "`" }

var (
	runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)
	slicePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	namePattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// checkNames reports an error unless the names of t are plain SQL names.
func checkNames(t schemas.Table) error {
	if !namePattern.MatchString(t.Name) {
		return fmt.Errorf("bigquery: table name %q is not a plain name", t.Name)
	}
	for _, c := range t.Columns {
		if !namePattern.MatchString(c.Name) {
			return fmt.Errorf("bigquery: table %s: column name %q is not a plain name", t.Name, c.Name)
		}
	}
	return nil
}

// runTag names the objects of a run (jobs, staging tables): readable, and
// unique to the dataset, slice and exact run id even where '.' or '-'
// becomes '_'.
func runTag(project, dataset, slice, runID string) string {
	sum := sha256.Sum256([]byte(project + "\x00" + dataset + "\x00" + slice + "\x00" + runID))
	return strings.ReplaceAll(runID, ".", "_") + "_" + slice + "_" + hex.EncodeToString(sum[:4])
}

// isStatus reports whether err is an HTTP error response with code.
func isStatus(err error, code int) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == code
}

// isNotFound reports whether err says the addressed resource does not exist.
func isNotFound(err error) bool { return isStatus(err, http.StatusNotFound) }
