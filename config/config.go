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
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/faults"
	"github.com/ledgerline/ledgerline/money"
)

// Names of the APIs that config and the pipeline treat apart: the built-in
// sandbox, legacy, which needs legacy_user, and the protocols the sandbox
// serves. The api key accepts sandbox and every API of the registry,
// extract/apis.
const (
	APISandbox = "sandbox"
	APIJSONRPC = "jsonrpc"
	APIREST    = "rest"
	APILegacy  = "legacy"
)

// Destination types: the kind tags of Destination's fields (a test checks
// they agree).
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

// StreamChargebacks is the stream of disputes, read from orders: a job with
// it also has extract.StreamOrders. The other streams are extract's.
const StreamChargebacks = "chargebacks"

// ReportAccounting is the accounting workbook report type.
const ReportAccounting = "accounting"

// Defaults Load applies to absent keys. Keys of settings another package
// defaults (the retry policy, the request rate, the sandbox's orders per
// day) are left zero, which that package reads as its own default.
const (
	// DefaultSourceTimezone is 2Checkout's documented default API time
	// zone, GMT+02:00 (the sign of Etc/ names is inverted).
	DefaultSourceTimezone    = "Etc/GMT-2"
	DefaultReportingTimezone = "UTC"
	DefaultJobTimezone       = "UTC"
	DefaultLookbackDays      = 120
	DefaultFullRefreshEvery  = 7
	DefaultBigQueryLocation  = "US"
	DefaultOutbox            = "./out/outbox"
	DefaultSandboxSeed       = 1
	DefaultConcurrency       = 4
	DefaultCatchUpDays       = 3
)

// File is a loaded, validated jobs.yaml. Each key of the file is the yaml
// tag of a field; Load decodes the file into these structs and each struct
// checks itself (see validate.go).
type File struct {
	Path     string    `yaml:"-"`
	Accounts []Account `yaml:"accounts"`
	Jobs     []Job     `yaml:"jobs"`
	Metrics  Metrics   `yaml:"metrics"`
	// LockDir is where run locks live; empty means .locks in a local
	// warehouse, or under the temporary directory.
	LockDir string `yaml:"lock_dir"`
	// ReportsDir is where report files are written, DIR/ACCOUNT/YYYY-MM/;
	// empty means the reports package's default, ./out/reports. The
	// --reports-dir flag wins over it.
	ReportsDir string `yaml:"reports_dir"`
}

// Metrics says where run metrics go.
type Metrics struct {
	// Pushgateway is the URL of a Prometheus Pushgateway that runs push
	// their metrics to when they end (the convention for batch jobs).
	Pushgateway string `yaml:"pushgateway"`
	// Listen is the address etl schedule serves /healthz and /metrics on.
	Listen string `yaml:"listen"`
}

// Account is one 2Checkout merchant account.
type Account struct {
	Name         string `yaml:"name"`
	MerchantCode string `yaml:"merchant_code"`
	// SecretKey signs API 6.0 requests (and is the password of the legacy
	// API user). It comes from the environment; String never prints it.
	SecretKey Secret `yaml:"secret_key"`
	// LegacyUser is the Back Office API user for api: legacy.
	LegacyUser string `yaml:"legacy_user"`
	API        string `yaml:"api"`
	// Endpoint overrides the API base URL; empty means the public one.
	Endpoint string `yaml:"endpoint"`
	// HMAC is the API 6.0 signature algorithm: sha256, sha3-256 or md5.
	HMAC string `yaml:"hmac"`
	// SourceTimezone is the time zone the API's zone-less dates are in.
	SourceTimezone *time.Location `yaml:"source_timezone"`
	// ReportingTimezone decides order dates and month boundaries.
	ReportingTimezone *time.Location `yaml:"reporting_timezone"`
	// Currency is the account's default currency (ISO 4217), that of
	// chargeback fees.
	Currency       string         `yaml:"currency"`
	ChargebackFees ChargebackFees `yaml:"chargeback_fees"`
	// TransactionStatuses are the order statuses that count as transactions
	// for the chargeback rate.
	TransactionStatuses []string `yaml:"transaction_statuses"`
	// Chargebacks says whether the account's API returns the orders'
	// dispute fields: ChargebacksAvailable (the default) or
	// ChargebacksUnavailable, with which runs skip the chargebacks stream
	// and reports say fees are not computed.
	Chargebacks string `yaml:"chargebacks"`
	// Sandbox configures the simulated merchant of api: sandbox.
	Sandbox Sandbox `yaml:"sandbox"`
	// Concurrency caps the API requests in flight for the account: the
	// pages of a search read ahead (up to Concurrency at once), over at
	// most two days of a window at once.
	Concurrency int `yaml:"concurrency"`
	// Retry is how the account's API requests are retried.
	Retry Retry `yaml:"retry"`
	// RequestsPerSecond caps the account's API request rate (the legacy
	// API makes one request per sale); zero means the transport's default.
	// The sandbox is not limited.
	RequestsPerSecond int `yaml:"requests_per_second"`
}

// Retry configures retries of failed API requests (429, 5xx, timeouts,
// broken connections, unreadable pages) with jittered exponential back-off.
// A zero field means the default of package extract/transport.
type Retry struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int `yaml:"attempts"`
	// BaseDelay is the first back-off; each later one doubles, up to
	// MaxDelay.
	BaseDelay time.Duration `yaml:"base_delay"`
	MaxDelay  time.Duration `yaml:"max_delay"`
	// MaxRetryAfter caps how long a Retry-After header can make the job
	// wait.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
	// Timeout bounds one attempt, until its body is read.
	Timeout time.Duration `yaml:"timeout"`
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
	Seed int64 `yaml:"seed"`
	// OrdersPerDay is the simulated order volume; zero means the
	// sandbox's default.
	OrdersPerDay int `yaml:"orders_per_day"`
	// Since is the merchant's first day of trading.
	Since civil.Date `yaml:"since"`
	// Faults are the failures the sandbox injects, for testing resilience.
	Faults faults.Spec `yaml:"faults"`
	// Protocol is the API the job reads the sandbox through: jsonrpc,
	// rest or legacy.
	Protocol string `yaml:"protocol"`
	// Dialect switches on real-world variations of the API's responses
	// (see package extract/dialect); empty serves the documented shape.
	Dialect dialect.Set `yaml:"dialect"`
}

// defaultSandbox is the sandbox of an account with api sandbox and no
// sandbox key.
func defaultSandbox() Sandbox {
	return Sandbox{Seed: DefaultSandboxSeed, Since: civil.Date{Year: 2025, Month: time.January, Day: 1}, Protocol: APIJSONRPC}
}

// ChargebackFees is an account's chargeback fee model.
type ChargebackFees struct {
	// Model is FeeModelFixed or FeeModelThreshold.
	Model string `yaml:"model"`
	// Fee is the fee per dispute of the fixed model.
	Fee money.Amount `yaml:"fee"`
	// Tiers are the threshold model's tiers, in order; the last has no
	// Below and catches every rate.
	Tiers []Tier `yaml:"tiers"`
	// FirstMonthTier is the tier (from 1, the lowest) of disputes opened
	// in a month whose previous month had no transactions, so no rate:
	// the merchant's first month. Zero means 1.
	FirstMonthTier int `yaml:"first_month_tier"`
}

// FirstTier returns the tier, from 1, of a month after one without
// transactions (see FirstMonthTier).
func (f ChargebackFees) FirstTier() int {
	return min(max(f.FirstMonthTier, 1), max(len(f.Tiers), 1))
}

// Tier is one threshold tier: rates strictly below Below pay Fee.
type Tier struct {
	// Below is the exclusive upper bound as an exact fraction (0.65% is
	// 13/2000); nil for the catch-all tier.
	Below *big.Rat `yaml:"below"`
	// BelowText is Below as written in the file, e.g. "0.65%".
	BelowText string       `yaml:"-"`
	Fee       money.Amount `yaml:"fee"`
}

// Job is one scheduled job.
type Job struct {
	Name     string         `yaml:"name"`
	Schedule string         `yaml:"schedule"`
	Timezone *time.Location `yaml:"timezone"`
	// Accounts names the accounts the job runs on.
	Accounts []string `yaml:"accounts"`
	// Streams are extract.StreamOrders, extract.StreamSubscriptions and
	// StreamChargebacks, in that order.
	Streams      []string `yaml:"streams"`
	LookbackDays int      `yaml:"lookback_days"`
	// FullRefreshEvery is the number of days between two runs that read
	// every subscription; the runs in between read only those modified
	// since the last read.
	FullRefreshEvery int `yaml:"full_refresh_every"`
	// MaxRejected is the share of a stream's records that may fail
	// validation (and go to rejected_rows) before the run fails.
	MaxRejected *big.Rat `yaml:"max_rejected"`
	// RunTimeout bounds one run of the job on one account, from its start
	// to its commit; zero means the pipeline's default.
	RunTimeout time.Duration `yaml:"run_timeout"`
	// CatchUpDays is how far back etl schedule, when it starts, runs the
	// business dates the job missed since its last success: the dates of
	// the last CatchUpDays days up to yesterday; 0 turns catch-up off.
	CatchUpDays int         `yaml:"catch_up_days"`
	Destination Destination `yaml:"destination"`
	Reports     []Report    `yaml:"reports"`
}

// Report is a report a job builds and sends.
type Report struct {
	// Type is the report type; "accounting" is the only one.
	Type string `yaml:"type"`
	// To lists the recipients.
	To []string `yaml:"to"`
	// Outbox is where messages go without SMTP settings.
	Outbox string `yaml:"outbox"`
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
