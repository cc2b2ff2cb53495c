// Package config holds jobs.yaml: the accounts, the jobs that run on them,
// where their data goes and which reports they send. Load parses and
// validates the whole file; a job never starts on a configuration that has
// any error, and every error names the file, line and key path.
package config

import (
	"fmt"
	"log/slog"
	"math/big"
	"time"
	// The IANA time zone database is embedded so that time zone names in
	// jobs.yaml resolve the same way in a minimal container image.
	_ "time/tzdata"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/money"
)

// API names accepted in an account's api key.
const (
	APISandbox = "sandbox"
	APIJSONRPC = "jsonrpc"
	APIREST    = "rest"
	APILegacy  = "legacy"
)

// Destination types.
const (
	DestinationLocal    = "local"
	DestinationBigQuery = "bigquery"
)

// Fee models.
const (
	FeeModelFixed     = "fixed"
	FeeModelThreshold = "threshold"
)

// HMAC algorithms of API 6.0 signatures.
const (
	HMACSHA256   = "sha256"
	HMACSHA3_256 = "sha3-256"
	HMACMD5      = "md5"
)

// Streams a job can extract. Chargebacks are read from orders, so a job
// with StreamChargebacks also has StreamOrders.
const (
	StreamOrders        = "orders"
	StreamSubscriptions = "subscriptions"
	StreamChargebacks   = "chargebacks"
)

// ReportAccounting is the accounting workbook report type.
const ReportAccounting = "accounting"

// Defaults applied by Load to keys that are absent.
const (
	// DefaultSourceTimezone is 2Checkout's documented default API time
	// zone, GMT+02:00 (the sign of Etc/ names is inverted).
	DefaultSourceTimezone    = "Etc/GMT-2"
	DefaultReportingTimezone = "UTC"
	DefaultJobTimezone       = "UTC"
	DefaultLookbackDays      = 120
	DefaultBigQueryLocation  = "US"
	DefaultOutbox            = "./out/outbox"
	DefaultSandboxSeed       = 1
	DefaultOrdersPerDay      = 200
	DefaultConcurrency       = 4
	DefaultRequestsPerSecond = 50
	DefaultRetryAttempts     = 5
	DefaultRetryBaseDelay    = 500 * time.Millisecond
	DefaultRetryMaxDelay     = 30 * time.Second
	DefaultMaxRetryAfter     = 2 * time.Minute
	DefaultRequestTimeout    = 2 * time.Minute
)

// File is a loaded, validated jobs.yaml.
type File struct {
	Path     string
	Accounts []Account
	Jobs     []Job
	Metrics  Metrics
	// LockDir is where run locks live; empty means .locks in a local
	// warehouse, or under the temporary directory.
	LockDir string
}

// Metrics says where run metrics go.
type Metrics struct {
	// Pushgateway is the URL of a Prometheus Pushgateway that runs push
	// their metrics to when they end (the convention for batch jobs).
	Pushgateway string
	// Listen is the address etl schedule serves /healthz and /metrics on.
	Listen string
}

// Account is one 2Checkout merchant account.
type Account struct {
	Name         string
	MerchantCode string
	// SecretKey signs API 6.0 requests (and is the password of the legacy
	// API user). It comes from the environment; String never prints it.
	SecretKey Secret
	// LegacyUser is the Back Office API user for api: legacy.
	LegacyUser string
	API        string
	// Endpoint overrides the API base URL; empty means the public one.
	Endpoint string
	// HMAC is the API 6.0 signature algorithm: sha256, sha3-256 or md5.
	HMAC string
	// SourceTimezone is the time zone the API's zone-less dates are in.
	SourceTimezone *time.Location
	// ReportingTimezone decides order dates and month boundaries.
	ReportingTimezone *time.Location
	// Currency is the account's default currency (ISO 4217), that of
	// chargeback fees.
	Currency       string
	ChargebackFees ChargebackFees
	// TransactionStatuses are the order statuses that count as transactions
	// for the chargeback rate.
	TransactionStatuses []string
	// Sandbox configures the simulated merchant of api: sandbox.
	Sandbox Sandbox
	// Concurrency caps the API requests in flight for the account, and the
	// days of a window read at once.
	Concurrency int
	// Retry is how the account's API requests are retried.
	Retry Retry
	// RequestsPerSecond caps the account's API request rate (the legacy
	// API makes one request per sale). The sandbox is not limited.
	RequestsPerSecond int
}

// Retry configures retries of failed API requests (429, 5xx, timeouts,
// broken connections, unreadable pages) with jittered exponential back-off.
type Retry struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// BaseDelay is the first back-off; each later one doubles, up to
	// MaxDelay.
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter caps how long a Retry-After header can make the job
	// wait.
	MaxRetryAfter time.Duration
	// Timeout bounds one attempt, until its body is read.
	Timeout time.Duration
}

// LogValue implements slog.LogValuer: the account's identity, never its
// secret.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", a.Name),
		slog.String("merchant_code", a.MerchantCode),
		slog.String("api", a.API),
	)
}

// Secret is a credential. It formats as "[redacted]" with every fmt verb,
// in slog output and when marshalled as text or JSON, so that it cannot
// leak through logs or error messages; Reveal returns the value.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value, for signing.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return `"` + redacted + `"` }

// Format implements fmt.Formatter, so that no verb (%x, %q, ...) prints the
// value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler (and so JSON and YAML
// encoding) with the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Sandbox configures the built-in simulated merchant.
type Sandbox struct {
	Seed         int64
	OrdersPerDay int
	// Since is the merchant's first day of trading.
	Since civil.Date
	// Faults are the failures the sandbox injects, for testing resilience.
	Faults sandbox.Faults
	// Protocol is the API the job reads the sandbox through: jsonrpc,
	// rest or legacy.
	Protocol string
}

// defaultSandboxSince returns the sandbox merchant's default first day.
func defaultSandboxSince() civil.Date { return civil.Date{Year: 2025, Month: time.January, Day: 1} }

// ChargebackFees is an account's chargeback fee model.
type ChargebackFees struct {
	// Model is FeeModelFixed or FeeModelThreshold.
	Model string
	// Fee is the fee per dispute of the fixed model.
	Fee money.Amount
	// Tiers are the threshold model's tiers, in order; the last has no
	// Below and catches every rate.
	Tiers []Tier
}

// Tier is one threshold tier: rates strictly below Below pay Fee.
type Tier struct {
	// Below is the exclusive upper bound as an exact fraction (0.65% is
	// 13/2000); nil for the catch-all tier.
	Below *big.Rat
	// BelowText is Below as written in the file, e.g. "0.65%".
	BelowText string
	Fee       money.Amount
}

// Job is one scheduled job.
type Job struct {
	Name     string
	Schedule string
	Timezone *time.Location
	// Accounts names the accounts the job runs on.
	Accounts     []string
	Streams      []string
	LookbackDays int
	// MaxRejected is the share of a stream's records that may fail
	// validation (and go to rejected_rows) before the run fails.
	MaxRejected *big.Rat
	Destination Destination
	Reports     []Report
}

// Destination is where a job writes its tables.
type Destination struct {
	Type string
	// Path is the local warehouse directory (local).
	Path string
	// Project, Dataset, Location and Endpoint address BigQuery; Endpoint is
	// for an emulator.
	Project        string
	Dataset        string
	Location       string
	Endpoint       string
	StagingDataset string
}

// Report is a report a job builds and sends.
type Report struct {
	// Type is the report type; "accounting" is the only one.
	Type string
	// To lists the recipients.
	To []string
	// Outbox is where messages go without SMTP settings.
	Outbox string
}

// Account returns the account called name.
func (f *File) Account(name string) (Account, bool) {
	for _, a := range f.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// Job returns the job called name.
func (f *File) Job(name string) (Job, bool) {
	for _, j := range f.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return Job{}, false
}

// HasStream reports whether the job extracts stream.
func (j Job) HasStream(stream string) bool {
	for _, s := range j.Streams {
		if s == stream {
			return true
		}
	}
	return false
}
