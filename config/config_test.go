package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apis"
	"github.com/ledgerline/ledgerline/money"
)

// env returns a getenv that sees only vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestLoadShippedFile(t *testing.T) {
	f, err := Load("../jobs.yaml", env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(f.Accounts) != 1 {
		t.Fatalf("got %d accounts, want 1", len(f.Accounts))
	}
	a := f.Accounts[0]
	if got := a.SecretKey.Reveal(); got != "sandbox-demo-secret" {
		t.Errorf("secret_key = %q, want the default sandbox-demo-secret", got)
	}
	if got := a.SourceTimezone.String(); got != "Etc/GMT-2" {
		t.Errorf("source_timezone = %s, want Etc/GMT-2", got)
	}
	if _, off := time.Date(2025, 1, 1, 0, 0, 0, 0, a.SourceTimezone).Zone(); off != 2*60*60 {
		t.Errorf("source_timezone offset = %ds, want UTC+02:00", off)
	}
	if got := a.ReportingTimezone.String(); got != "UTC" {
		t.Errorf("reporting_timezone = %s, want UTC", got)
	}
	tiers := a.ChargebackFees.Tiers
	if len(tiers) != 2 || tiers[0].Below == nil || tiers[0].Below.Cmp(big.NewRat(13, 2000)) != 0 || tiers[1].Below != nil {
		t.Fatalf("tiers = %+v, want below 13/2000 then a catch-all", tiers)
	}
	for _, j := range f.Jobs {
		if got := j.Timezone.String(); got != "UTC" {
			t.Errorf("job %s timezone = %s, want UTC", j.Name, got)
		}
	}

	// Compare the rest exactly, with the pointers checked above cleared.
	a.SourceTimezone, a.ReportingTimezone = nil, nil
	a.ChargebackFees.Tiers = []Tier{{BelowText: tiers[0].BelowText, Fee: tiers[0].Fee}, {Fee: tiers[1].Fee}}
	wantAccount := Account{
		Name:         "demo",
		MerchantCode: "LLDEMO",
		SecretKey:    "sandbox-demo-secret",
		API:          APISandbox,
		HMAC:         HMACSHA256,
		Currency:     "USD",
		ChargebackFees: ChargebackFees{
			Model: FeeModelThreshold,
			Tiers: []Tier{
				{BelowText: "0.65%", Fee: money.FromInt(30)},
				{Fee: money.FromInt(50)},
			},
		},
		TransactionStatuses: []string{"COMPLETE", "REFUND"},
		Chargebacks:         ChargebacksAvailable,
		Sandbox:             Sandbox{Seed: 1, OrdersPerDay: 200, Since: civil.Date{Year: 2025, Month: time.January, Day: 1}, Protocol: APIJSONRPC},
		Concurrency:         DefaultConcurrency,
		// Zero: the request rate and retry policy take the defaults of
		// package extract/transport.
	}
	if !reflect.DeepEqual(a, wantAccount) {
		t.Errorf("account:\n got %#v\nwant %#v", a, wantAccount)
	}

	warehouse := Destination{Type: DestinationLocal, Local: &LocalDestination{Path: "./out/warehouse"}}
	all := []string{extract.StreamOrders, extract.StreamSubscriptions, StreamChargebacks}
	wantJobs := []Job{
		{
			Name: "nightly", Schedule: "0 2 * * *", Accounts: []string{"demo"}, Streams: all,
			LookbackDays: 120, FullRefreshEvery: 7, CatchUpDays: 3, Destination: warehouse,
		},
		{
			Name: "monthly-accounting", Schedule: "0 6 1 * *", Accounts: []string{"demo"}, Streams: all,
			LookbackDays: 120, FullRefreshEvery: 7, CatchUpDays: 3, Destination: warehouse,
			Reports: []Report{{Type: ReportAccounting, To: []string{"finance@example.com"}, Outbox: "./out/outbox"}},
		},
	}
	jobs := f.Jobs
	for i := range jobs {
		jobs[i].Timezone = nil
		if r := jobs[i].MaxRejected; r == nil || r.Cmp(big.NewRat(1, 100)) != 0 {
			t.Errorf("job %s max_rejected = %v, want 1/100 (the default)", jobs[i].Name, r)
		}
		jobs[i].MaxRejected = nil
	}
	if !reflect.DeepEqual(jobs, wantJobs) {
		t.Errorf("jobs:\n got %+v\nwant %+v", jobs, wantJobs)
	}
	if f.Path != "../jobs.yaml" {
		t.Errorf("Path = %q", f.Path)
	}
	if _, ok := f.Account("demo"); !ok {
		t.Error(`Account("demo") not found`)
	}
	if j, ok := f.Job("nightly"); !ok || !j.HasStream(StreamChargebacks) {
		t.Error(`Job("nightly") not found or without chargebacks`)
	}
}

func TestLoadShippedFileEnvOverride(t *testing.T) {
	f, err := Load("../jobs.yaml", env(map[string]string{"LEDGERLINE_DEMO_SECRET": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Accounts[0].SecretKey.Reveal(); got != "from-env" {
		t.Errorf("secret_key = %q, want from-env", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml", env(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}

// base is a valid file; error cases edit it, so its line numbers are fixed:
// the account starts on line 2, the job on line 9.
const base = `accounts:
  - name: a
    merchant_code: M1
    secret_key: s
    api: sandbox
    currency: USD
    chargeback_fees: {model: fixed, fee: "25"}
jobs:
  - name: j
    schedule: "@daily"
    accounts: [a]
    destination: {type: local, path: out}
`

// edit returns base with old replaced by new; it fails the test if old is
// not in base.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base does not contain %q", old)
	}
	return strings.Replace(base, old, new, 1)
}

func TestBaseIsValid(t *testing.T) {
	if _, err := Parse("jobs.yaml", []byte(base), env(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		env      map[string]string
		check    func(*File) string // returns what is wrong, or ""
	}{
		{
			name: "defaults",
			old:  "a", new: "a",
			check: func(f *File) string {
				a, j := f.Accounts[0], f.Jobs[0]
				switch {
				case a.HMAC != HMACSHA256:
					return "hmac " + a.HMAC
				case a.SourceTimezone.String() != "Etc/GMT-2", a.ReportingTimezone.String() != "UTC":
					return "time zones"
				case !reflect.DeepEqual(a.TransactionStatuses, []string{"COMPLETE", "REFUND"}):
					return fmt.Sprint("statuses ", a.TransactionStatuses)
				// OrdersPerDay zero: the sandbox's default.
				case a.Sandbox != Sandbox{Seed: 1, Since: civil.Date{Year: 2025, Month: 1, Day: 1}, Protocol: APIJSONRPC}:
					return fmt.Sprint("sandbox ", a.Sandbox)
				case j.Timezone.String() != "UTC", j.LookbackDays != 120, len(j.Reports) != 0:
					return fmt.Sprintf("job %+v", j)
				case !reflect.DeepEqual(j.Streams, []string{"orders", "subscriptions", "chargebacks"}):
					return fmt.Sprint("streams ", j.Streams)
				}
				return ""
			},
		},
		{
			name: "default from env syntax",
			old:  "merchant_code: M1", new: "merchant_code: ${LL_CODE:-DEF1}",
			check: func(f *File) string { return want(f.Accounts[0].MerchantCode, "DEF1") },
		},
		{
			name: "default when empty",
			old:  "merchant_code: M1", new: "merchant_code: ${LL_CODE:-DEF1}",
			env:   map[string]string{"LL_CODE": ""},
			check: func(f *File) string { return want(f.Accounts[0].MerchantCode, "DEF1") },
		},
		{
			name: "env overrides default",
			old:  "merchant_code: M1", new: "merchant_code: ${LL_CODE:-DEF1}",
			env:   map[string]string{"LL_CODE": "ENV1"},
			check: func(f *File) string { return want(f.Accounts[0].MerchantCode, "ENV1") },
		},
		{
			name: "dollar escape",
			old:  "merchant_code: M1", new: "merchant_code: A$$B$${X}",
			check: func(f *File) string { return want(f.Accounts[0].MerchantCode, "A$B${X}") },
		},
		{
			name: "env in an integer",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    lookback_days: ${LL_DAYS:-30}\n",
			check: func(f *File) string { return want(fmt.Sprint(f.Jobs[0].LookbackDays), "30") },
		},
		{
			name: "catch_up_days 0 turns catch-up off",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    catch_up_days: 0\n",
			check: func(f *File) string { return want(fmt.Sprint(f.Jobs[0].CatchUpDays), "0") },
		},
		{
			name: "catch_up_days defaults to 3",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n",
			check: func(f *File) string { return want(fmt.Sprint(f.Jobs[0].CatchUpDays), "3") },
		},
		{
			name: "empty optional takes default",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    hmac: ${LL_HMAC:-}\n",
			check: func(f *File) string { return want(f.Accounts[0].HMAC, HMACSHA256) },
		},
		{
			name: "lower-case currency",
			old:  "currency: USD", new: "currency: eur",
			check: func(f *File) string { return want(f.Accounts[0].Currency, "EUR") },
		},
		{
			name: "current ISO 4217 currency",
			old:  "currency: USD", new: "currency: ves",
			check: func(f *File) string { return want(f.Accounts[0].Currency, "VES") },
		},
		{
			name: "schedule every minute",
			old:  `schedule: "@daily"`, new: `schedule: "* * * * *"`,
			check: func(f *File) string { return want(f.Jobs[0].Schedule, "* * * * *") },
		},
		{
			name: "schedule @every 1m",
			old:  `schedule: "@daily"`, new: `schedule: "@every 1m"`,
			check: func(f *File) string { return want(f.Jobs[0].Schedule, "@every 1m") },
		},
		{
			name: "schedule once a year",
			old:  `schedule: "@daily"`, new: "schedule: \"0 0 1 1 *\"\n    timezone: Pacific/Kiritimati",
			check: func(f *File) string { return want(f.Jobs[0].Timezone.String(), "Pacific/Kiritimati") },
		},
		{
			name: "fixed fee",
			old:  `fee: "25"`, new: `fee: "25.50"`,
			check: func(f *File) string {
				return want(f.Accounts[0].ChargebackFees.Fee.String(), money.MustParse("25.5").String())
			},
		},
		{
			name: "streams in canonical order",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    streams: [chargebacks, orders]\n",
			check: func(f *File) string { return want(fmt.Sprint(f.Jobs[0].Streams), "[orders chargebacks]") },
		},
		{
			name: "concurrency and sandbox faults",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    concurrency: 2\n    sandbox: {faults: '429=0.1,500=5%,insert=3'}\n",
			check: func(f *File) string {
				a := f.Accounts[0]
				fs := a.Sandbox.Faults
				return want(fmt.Sprint(a.Concurrency, fs.TooManyRequests, fs.ServerError, fs.Insert), "2 0.1 0.05 3")
			},
		},
		{
			name: "max_rejected",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    max_rejected: 2.5%\n",
			check: func(f *File) string { return want(f.Jobs[0].MaxRejected.RatString(), "1/40") },
		},
		{
			name: "run_timeout",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    run_timeout: 90m\n",
			check: func(f *File) string { return want(f.Jobs[0].RunTimeout.String(), "1h30m0s") },
		},
		{
			name: "max_rejected zero",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    max_rejected: 0%\n",
			check: func(f *File) string { return want(f.Jobs[0].MaxRejected.RatString(), "0") },
		},
		{
			name: "sandbox protocol and rate",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    requests_per_second: 5\n    sandbox: {protocol: legacy}\n",
			check: func(f *File) string {
				a := f.Accounts[0]
				return want(fmt.Sprintln(a.Sandbox.Protocol, a.RequestsPerSecond), "legacy 5\n")
			},
		},
		{
			name: "metrics and lock_dir",
			old:  "jobs:\n", new: "metrics: {pushgateway: 'http://pushgateway:9091', listen: ':9090'}\nlock_dir: /var/lock/ll\njobs:\n",
			check: func(f *File) string {
				return want(fmt.Sprintf("%+v %s", f.Metrics, f.LockDir), "{Pushgateway:http://pushgateway:9091 Listen::9090} /var/lock/ll")
			},
		},
		{
			name: "retry",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    retry: {attempts: 3, base_delay: 10ms, max_delay: 1s, max_retry_after: 0s, timeout: 5s}\n",
			check: func(f *File) string {
				return want(fmt.Sprintf("%+v", f.Accounts[0].Retry), "{Attempts:3 BaseDelay:10ms MaxDelay:1s MaxRetryAfter:0s Timeout:5s}")
			},
		},
		{
			// The transport caps the delays; its default max_delay is no
			// bound on base_delay here.
			name: "retry base_delay alone",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    retry: {base_delay: 1m}\n",
			check: func(f *File) string {
				return want(fmt.Sprintf("%+v", f.Accounts[0].Retry), "{Attempts:0 BaseDelay:1m0s MaxDelay:0s MaxRetryAfter:0s Timeout:0s}")
			},
		},
		{
			name: "legacy account",
			old:  "api: sandbox", new: "api: legacy\n    legacy_user: apiuser\n    endpoint: https://example.test/api/",
			check: func(f *File) string {
				a := f.Accounts[0]
				return want(a.LegacyUser+" "+a.Endpoint, "apiuser https://example.test/api/")
			},
		},
		{
			name: "bigquery destination",
			old:  "destination: {type: local, path: out}",
			new:  "destination: {type: bigquery, project: my-proj, dataset: ll, endpoint: 'http://127.0.0.1:9050'}",
			check: func(f *File) string {
				d := f.Jobs[0].Destination
				if d.Type != DestinationBigQuery || d.Local != nil || d.BigQuery == nil {
					return fmt.Sprintf("destination %+v", d)
				}
				return want(fmt.Sprintf("%+v", *d.BigQuery), "{Project:my-proj Dataset:ll Location:US Endpoint:http://127.0.0.1:9050 StagingDataset:}")
			},
		},
		{
			name: "report with display name",
			old:  "destination: {type: local, path: out}",
			new:  "destination: {type: local, path: out}\n    reports: [{type: accounting, to: ['Finance <finance@example.com>'], outbox: /var/outbox}]",
			check: func(f *File) string {
				return want(fmt.Sprintf("%+v", f.Jobs[0].Reports), "[{Type:accounting To:[Finance <finance@example.com>] Outbox:/var/outbox}]")
			},
		},
		{
			name: "alias",
			old:  "chargeback_fees: {model: fixed, fee: \"25\"}",
			new:  "chargeback_fees: &fees {model: fixed, fee: \"25\"}\n  - {name: b, merchant_code: M2, secret_key: s, api: rest, currency: USD, chargeback_fees: *fees}",
			check: func(f *File) string {
				return want(f.Accounts[1].ChargebackFees.Fee.String(), money.FromInt(25).String())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("jobs.yaml", []byte(edit(t, tt.old, tt.new)), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(f); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func want(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

func TestParseErrors(t *testing.T) {
	type wantErr struct {
		line int
		path string
		msg  string // a substring of the message
	}
	tests := []struct {
		name     string
		old, new string
		env      map[string]string
		want     []wantErr // every error, in order
	}{
		{
			name: "unknown key",
			old:  "    secret_key: s\n", new: "    secret_key: s\n    secretkey: s\n",
			want: []wantErr{{5, "accounts[0].secretkey", "unknown key (did you mean secret_key?)"}},
		},
		{
			name: "unknown top-level key",
			old:  "jobs:\n", new: "defaults: {}\njobs:\n",
			want: []wantErr{{8, "defaults", "unknown key"}},
		},
		{
			name: "unknown key in destination",
			old:  "path: out}", new: "path: out, bucket: b}",
			want: []wantErr{{12, "jobs[0].destination.bucket", "unknown key"}},
		},
		{
			name: "unknown key in tier",
			old:  `{model: fixed, fee: "25"}`, new: `{model: threshold, tiers: [{below: "1%", fee: "1", rate: "1%"}, {fee: "2"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers[0].rate", "unknown key"}},
		},
		{
			name: "bad faults and concurrency",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    concurrency: 0\n    sandbox: {faults: '429=2'}\n",
			want: []wantErr{{6, "accounts[0].concurrency", "want 1 to 32"}, {7, "accounts[0].sandbox.faults", "429=2"}},
		},
		{
			name: "bad retry",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    retry: {attempts: 0, base_delay: 2s, max_delay: 1s, timeout: soon}\n",
			want: []wantErr{{6, "accounts[0].retry.attempts", "want 1 to 100"}, {6, "accounts[0].retry.max_delay", "below base_delay"},
				{6, "accounts[0].retry.timeout", `got "soon"`}},
		},
		{
			name: "bad sandbox protocol",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    sandbox: {protocol: soap}\n",
			want: []wantErr{{6, "accounts[0].sandbox.protocol", `unknown sandbox protocol "soap"`}},
		},
		{
			name: "bad pushgateway",
			old:  "jobs:\n", new: "metrics: {pushgateway: 'pushgateway:9091', port: 1}\njobs:\n",
			want: []wantErr{{8, "metrics.pushgateway", "absolute http"}, {8, "metrics.port", "unknown key"}},
		},
		{
			name: "unknown key in sandbox",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    sandbox: {seed: 2, orders: 5}\n",
			want: []wantErr{{6, "accounts[0].sandbox.orders", "unknown key"}},
		},
		{
			name: "duplicate key",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    api: rest\n",
			want: []wantErr{{6, "accounts[0].api", "duplicate key (first at line 5)"}},
		},
		{
			name: "not an integer",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    lookback_days: abc\n",
			want: []wantErr{{12, "jobs[0].lookback_days", `want an integer, got "abc"`}},
		},
		{
			name: "run_timeout out of range",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    run_timeout: 10s\n",
			want: []wantErr{{12, "jobs[0].run_timeout", "out of range (want 1m0s to 48h0m0s)"}},
		},
		{
			name: "integer out of range",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    lookback_days: 0\n",
			want: []wantErr{{12, "jobs[0].lookback_days", "out of range (want 1 to 3650)"}},
		},
		{
			name: "catch_up_days out of range",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    catch_up_days: 367\n",
			want: []wantErr{{12, "jobs[0].catch_up_days", "367 is out of range (want 0 to 366)"}},
		},
		{
			name: "catch_up_days negative",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    catch_up_days: -1\n",
			want: []wantErr{{12, "jobs[0].catch_up_days", "-1 is out of range (want 0 to 366)"}},
		},
		{
			name: "list where a string belongs",
			old:  "name: j", new: "name: [j]",
			want: []wantErr{{9, "jobs[0].name", "want a string, got a list"}},
		},
		{
			name: "string where a list belongs",
			old:  "accounts: [a]", new: "accounts: a",
			want: []wantErr{{11, "jobs[0].accounts", `want a list, got "a"`}},
		},
		{
			name: "null value",
			old:  "currency: USD", new: "currency:",
			want: []wantErr{{6, "accounts[0].currency", "want a string, got null"}},
		},
		{
			name: "missing env var",
			old:  "secret_key: s", new: "secret_key: ${LL_TEST_SECRET}",
			env:  map[string]string{"OTHER": "x"},
			want: []wantErr{{4, "accounts[0].secret_key", "environment variable LL_TEST_SECRET is not set"}},
		},
		{
			name: "bare dollar",
			old:  "merchant_code: M1", new: "merchant_code: $CODE",
			want: []wantErr{{3, "accounts[0].merchant_code", "write $$ for a literal $"}},
		},
		{
			name: "empty secret",
			old:  "secret_key: s", new: "secret_key: ${LL_EMPTY}",
			env:  map[string]string{"LL_EMPTY": ""},
			want: []wantErr{{4, "accounts[0].secret_key", "must not be empty"}},
		},
		{
			name: "missing required key",
			old:  "    currency: USD\n", new: "",
			want: []wantErr{{2, "accounts[0].currency", "required key is missing"}},
		},
		{
			name: "invalid name",
			old:  "name: a\n", new: "name: Acme Corp\n",
			want: []wantErr{
				{2, "accounts[0].name", `invalid name "Acme Corp"`},
				{11, "jobs[0].accounts[0]", `unknown account "a"`},
			},
		},
		{
			name: "unknown api",
			old:  "api: sandbox", new: "api: soap",
			want: []wantErr{{5, "accounts[0].api", `unknown api "soap" (want sandbox, jsonrpc, rest or legacy)`}},
		},
		{
			name: "misspelt api",
			old:  "api: sandbox", new: "api: json-rpc",
			want: []wantErr{{5, "accounts[0].api", `unknown api "json-rpc" (did you mean jsonrpc?)`}},
		},
		{
			name: "misspelt sandbox protocol",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    sandbox: {protocol: rset}\n",
			want: []wantErr{{6, "accounts[0].sandbox.protocol", `unknown sandbox protocol "rset" (did you mean rest?)`}},
		},
		{
			name: "legacy without user",
			old:  "api: sandbox", new: "api: legacy",
			want: []wantErr{{2, "accounts[0].legacy_user", "required key is missing"}},
		},
		{
			name: "sandbox settings on a real api",
			old:  "    api: sandbox\n", new: "    api: jsonrpc\n    sandbox: {seed: 2}\n",
			want: []wantErr{{6, "accounts[0].sandbox", "only allowed with api sandbox"}},
		},
		{
			name: "bad sandbox date",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    sandbox: {since: 2025-13-01}\n",
			want: []wantErr{{6, "accounts[0].sandbox.since", "want a date"}},
		},
		{
			name: "bad endpoint",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    endpoint: api.2checkout.com/rpc\n",
			want: []wantErr{{6, "accounts[0].endpoint", "want an absolute http or https URL"}},
		},
		{
			name: "endpoint with userinfo and a bad scheme",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    endpoint: ftp://user-token@host/rpc\n",
			want: []wantErr{{6, "accounts[0].endpoint", `want an absolute http or https URL, got "ftp://REDACTED@host/rpc"`}},
		},
		{
			name: "endpoint with a password and a bad port",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    endpoint: 'http://user:pass@host:port/rpc'\n",
			want: []wantErr{{6, "accounts[0].endpoint", `want an absolute http or https URL, got "http://REDACTED@host:port/rpc"`}},
		},
		{
			name: "endpoint with credentials and no scheme",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    endpoint: 'user:pass@host/rpc'\n",
			want: []wantErr{{6, "accounts[0].endpoint", "want an absolute http or https URL starting http:// or https://"}},
		},
		{
			name: "bad hmac",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    hmac: sha1\n",
			want: []wantErr{{6, "accounts[0].hmac", `unknown HMAC algorithm "sha1"`}},
		},
		{
			name: "bad chargebacks",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    chargebacks: maybe\n",
			want: []wantErr{{6, "accounts[0].chargebacks", `unknown chargebacks setting "maybe"`}},
		},
		{
			name: "invalid timezone",
			old:  "    api: sandbox\n", new: "    api: sandbox\n    source_timezone: Europe/Bucharestt\n",
			want: []wantErr{{6, "accounts[0].source_timezone", `unknown time zone "Europe/Bucharestt"`}},
		},
		{
			name: "local timezone",
			old:  `schedule: "@daily"`, new: "schedule: \"@daily\"\n    timezone: Local",
			want: []wantErr{{11, "jobs[0].timezone", `time zone "Local" depends on the machine`}},
		},
		{
			name: "bad currency",
			old:  "currency: USD", new: "currency: US",
			want: []wantErr{{6, "accounts[0].currency", `invalid currency "US"`}},
		},
		{
			name: "currency not in ISO 4217",
			old:  "currency: USD", new: "currency: XYZ",
			want: []wantErr{{6, "accounts[0].currency", `invalid currency "XYZ" (want a current ISO 4217 code such as USD)`}},
		},
		{
			name: "withdrawn currency",
			old:  "currency: USD", new: "currency: dem",
			want: []wantErr{{6, "accounts[0].currency", `invalid currency "dem"`}},
		},
		{
			name: "fee in exponent form",
			old:  `fee: "25"`, new: `fee: 1e2`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.fee", `amount "1e2" is in exponent form (write it in full, such as 100 or 0.001)`}},
		},
		{
			name: "quoted fee in exponent form",
			old:  `fee: "25"`, new: `fee: "1e2"`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.fee", `amount "1e2" is in exponent form`}},
		},
		{
			name: "fee in negative exponent form",
			old:  `fee: "25"`, new: `fee: "1E-3"`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.fee", `amount "1E-3" is in exponent form`}},
		},
		{
			name: "tier fee in exponent form",
			old:  `{model: fixed, fee: "25"}`, new: `{model: threshold, tiers: [{below: 1%, fee: 3.5e1}, {fee: "50"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers[0].fee", `amount "3.5e1" is in exponent form`}},
		},
		{
			name: "bad transaction status",
			old:  "currency: USD", new: "currency: USD\n    transaction_statuses: [COMPLETE, PAID]",
			want: []wantErr{{7, "accounts[0].transaction_statuses[1]", `unknown order status "PAID"`}},
		},
		{
			name: "missing chargeback fees",
			old:  "    chargeback_fees: {model: fixed, fee: \"25\"}\n", new: "",
			want: []wantErr{{2, "accounts[0].chargeback_fees", "required key is missing"}},
		},
		{
			name: "negative fee",
			old:  `fee: "25"`, new: `fee: "-25"`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.fee", "must not be negative"}},
		},
		{
			name: "inexact fee",
			old:  `fee: "25"`, new: `fee: "25.0000001"`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.fee", "more than 6 decimals"}},
		},
		{
			name: "tiers with a fixed fee",
			old:  `{model: fixed, fee: "25"}`, new: `{model: fixed, fee: "25", tiers: [{fee: "1"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers", "only allowed with model threshold"}},
		},
		{
			name: "first_month_tier with a fixed fee",
			old:  `{model: fixed, fee: "25"}`, new: `{model: fixed, fee: "25", first_month_tier: 1}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.first_month_tier", "only allowed with model threshold"}},
		},
		{
			name: "first_month_tier beyond the tiers",
			old:  `{model: fixed, fee: "25"}`, new: `{model: threshold, first_month_tier: 3, tiers: [{below: "1%", fee: "1"}, {fee: "2"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.first_month_tier", "3 is out of range (want 1 to 2)"}},
		},
		{
			name: "tiers out of order",
			old:  `{model: fixed, fee: "25"}`,
			new:  "\n      model: threshold\n      tiers:\n        - {below: \"1%\", fee: \"10\"}\n        - {below: \"0.0065\", fee: \"30\"}\n        - {fee: \"50\"}",
			want: []wantErr{{11, "accounts[0].chargeback_fees.tiers[1].below", "increasing order of below: 0.0065 is not above 1%"}},
		},
		{
			name: "equal tiers",
			old:  `{model: fixed, fee: "25"}`,
			new:  `{model: threshold, tiers: [{below: "0.65%", fee: "30"}, {below: "0.0065", fee: "40"}, {fee: "50"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers[1].below", "0.0065 is not above 0.65%"}},
		},
		{
			name: "missing catch-all",
			old:  `{model: fixed, fee: "25"}`,
			new:  "\n      model: threshold\n      tiers:\n        - {below: \"0.65%\", fee: \"30\"}\n        - {below: \"1%\", fee: \"50\"}",
			want: []wantErr{{11, "accounts[0].chargeback_fees.tiers[1].below", "missing catch-all"}},
		},
		{
			name: "catch-all not last",
			old:  `{model: fixed, fee: "25"}`,
			new:  "\n      model: threshold\n      tiers:\n        - {fee: \"30\"}\n        - {fee: \"50\"}",
			want: []wantErr{{10, "accounts[0].chargeback_fees.tiers[0].below", "only the last tier, the catch-all, has no below"}},
		},
		{
			name: "bad rate",
			old:  `{model: fixed, fee: "25"}`,
			new:  `{model: threshold, tiers: [{below: "1e-3", fee: "30"}, {fee: "50"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers[0].below", "want a rate such as 0.65%"}},
		},
		{
			name: "zero tier",
			old:  `{model: fixed, fee: "25"}`,
			new:  `{model: threshold, tiers: [{below: "0%", fee: "30"}, {fee: "50"}]}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers[0].below", "rate 0% is out of range (want above 0 and at most 100%)"}},
		},
		{
			name: "max_rejected above 100%",
			old:  "    accounts: [a]\n", new: "    accounts: [a]\n    max_rejected: 101%\n",
			want: []wantErr{{12, "jobs[0].max_rejected", "rate 101% is out of range"}},
		},
		{
			name: "threshold without tiers",
			old:  `{model: fixed, fee: "25"}`, new: `{model: threshold}`,
			want: []wantErr{{7, "accounts[0].chargeback_fees.tiers", "required key is missing"}},
		},
		{
			name: "invalid cron spec",
			old:  `schedule: "@daily"`, new: `schedule: "0 2 * *"`,
			want: []wantErr{{10, "jobs[0].schedule", `invalid cron spec "0 2 * *"`}},
		},
		{
			name: "schedule that never fires",
			old:  `schedule: "@daily"`, new: `schedule: "0 2 30 2 *"`,
			want: []wantErr{{10, "jobs[0].schedule", `schedule "0 2 30 2 *" never fires`}},
		},
		{
			name: "schedule that fires only on leap days",
			old:  `schedule: "@daily"`, new: `schedule: "0 0 29 2 *"`,
			want: []wantErr{{10, "jobs[0].schedule", `schedule "0 0 29 2 *" does not fire within a year (after 2025-01-01 00:00 UTC it next fires 2028-02-29 00:00 UTC)`}},
		},
		{
			name: "schedule every 0s",
			old:  `schedule: "@daily"`, new: `schedule: "@every 0s"`,
			want: []wantErr{{10, "jobs[0].schedule", `schedule "@every 0s" fires more often than once a minute (want @every 1m or longer)`}},
		},
		{
			name: "schedule every 1ms",
			old:  `schedule: "@daily"`, new: `schedule: "@every 1ms"`,
			want: []wantErr{{10, "jobs[0].schedule", "fires more often than once a minute"}},
		},
		{
			name: "schedule every 30s",
			old:  `schedule: "@daily"`, new: `schedule: "@every 30s"`,
			want: []wantErr{{10, "jobs[0].schedule", "fires more often than once a minute"}},
		},
		{
			name: "schedule every negative duration",
			old:  `schedule: "@daily"`, new: `schedule: "@every -5m"`,
			want: []wantErr{{10, "jobs[0].schedule", "fires more often than once a minute"}},
		},
		{
			name: "time zone in cron spec",
			old:  `schedule: "@daily"`, new: `schedule: "CRON_TZ=UTC 0 2 * * *"`,
			want: []wantErr{{10, "jobs[0].schedule", "set the time zone with the job's timezone key"}},
		},
		{
			name: "unknown account",
			old:  "accounts: [a]", new: "accounts: [a, b]",
			want: []wantErr{{11, "jobs[0].accounts[1]", `unknown account "b"`}},
		},
		{
			name: "no accounts in job",
			old:  "accounts: [a]", new: "accounts: []",
			want: []wantErr{{11, "jobs[0].accounts", "must not be empty"}},
		},
		{
			name: "duplicate account name",
			old:  "jobs:\n", new: "  - {name: a, merchant_code: M2, secret_key: s, api: rest, currency: USD, chargeback_fees: {model: fixed, fee: \"1\"}}\njobs:\n",
			want: []wantErr{{8, "accounts[1].name", `duplicate account name "a" (first at line 2)`}},
		},
		{
			name: "duplicate job name",
			old:  "destination: {type: local, path: out}\n", new: "destination: {type: local, path: out}\n  - {name: j, schedule: '@daily', accounts: [a], destination: {type: local, path: out}}\n",
			want: []wantErr{{13, "jobs[1].name", `duplicate job name "j" (first at line 9)`}},
		},
		{
			name: "unknown stream",
			old:  "accounts: [a]", new: "accounts: [a]\n    streams: [orders, refunds]",
			want: []wantErr{{12, "jobs[0].streams[1]", `unknown stream "refunds"`}},
		},
		{
			name: "chargebacks without orders",
			old:  "accounts: [a]", new: "accounts: [a]\n    streams: [chargebacks]",
			want: []wantErr{{12, "jobs[0].streams", "chargebacks needs orders"}},
		},
		{
			name: "unknown destination",
			old:  "type: local, path: out", new: "type: s3, path: out",
			want: []wantErr{{12, "jobs[0].destination.type", `unknown destination "s3" (want local or bigquery)`}},
		},
		{
			name: "local destination without path",
			old:  "{type: local, path: out}", new: "{type: local}",
			want: []wantErr{{12, "jobs[0].destination.path", "required key is missing"}},
		},
		{
			name: "bigquery destination missing project",
			old:  "{type: local, path: out}", new: "\n      type: bigquery\n      dataset: ledgerline",
			want: []wantErr{{13, "jobs[0].destination.project", "required key is missing"}},
		},
		{
			name: "bigquery key on local destination",
			old:  "{type: local, path: out}", new: "{type: local, path: out, dataset: x}",
			want: []wantErr{{12, "jobs[0].destination.dataset", "not allowed with destination type local"}},
		},
		{
			name: "local key on bigquery destination",
			old:  "{type: local, path: out}", new: "{type: bigquery, project: p, dataset: d, path: out}",
			want: []wantErr{{12, "jobs[0].destination.path", "not allowed with destination type bigquery (want type, project, dataset, location, endpoint or staging_dataset)"}},
		},
		{
			name: "destination without type",
			old:  "{type: local, path: out}", new: "{path: out, project: p}",
			want: []wantErr{{12, "jobs[0].destination.type", "required key is missing"}},
		},
		{
			name: "destination not a mapping",
			old:  "{type: local, path: out}", new: "local",
			want: []wantErr{{12, "jobs[0].destination", `want a mapping, got "local"`}},
		},
		{
			name: "duplicate key in destination",
			old:  "{type: local, path: out}", new: "{type: local, path: out, path: x}",
			want: []wantErr{{12, "jobs[0].destination.path", "duplicate key (first at line 12)"}},
		},
		{
			name: "wrong value in a destination kind",
			old:  "{type: local, path: out}", new: "{type: local, path: [out]}",
			want: []wantErr{{12, "jobs[0].destination.path", "want a string, got a list"}},
		},
		{
			name: "bad dataset",
			old:  "{type: local, path: out}", new: "{type: bigquery, project: p, dataset: my-data}",
			want: []wantErr{{12, "jobs[0].destination.dataset", `invalid dataset name "my-data"`}},
		},
		{
			name: "bad email",
			old:  "path: out}", new: "path: out}\n    reports: [{type: accounting, to: [finance@example.com, finance.example.com]}]",
			want: []wantErr{{13, "jobs[0].reports[0].to[1]", `invalid email address "finance.example.com"`}},
		},
		{
			name: "report without recipients",
			old:  "path: out}", new: "path: out}\n    reports:\n      - type: accounting",
			want: []wantErr{{14, "jobs[0].reports[0].to", "required key is missing"}},
		},
		{
			name: "unknown report type",
			old:  "path: out}", new: "path: out}\n    reports: [{type: sales, to: [a@example.com]}]",
			want: []wantErr{{13, "jobs[0].reports[0].type", `unknown report type "sales"`}},
		},
		{
			name: "no jobs",
			old:  base[strings.Index(base, "jobs:"):], new: "jobs: []\n",
			want: []wantErr{{8, "jobs", "want at least one job"}},
		},
		{
			name: "yaml syntax error",
			old:  "accounts: [a]", new: "accounts: [a",
			want: []wantErr{{10, "", "invalid YAML"}},
		},
		{
			name: "several errors",
			old:  base,
			new: `accounts:
  - name: a
    merchant_code: M1
    secret_key: ${LL_NOT_SET}
    api: sandbox
    currency: USD
    chargeback_fees: {model: percent}
    colour: red
jobs:
  - name: j
    schedule: "61 * * * *"
    timezone: Nowhere/City
    accounts: [a, z]
    lookback_days: many
    destination: {type: bigquery, dataset: d}
    reports: [{type: accounting, to: ["not an address"]}]
`,
			want: []wantErr{
				{4, "accounts[0].secret_key", "LL_NOT_SET"},
				{7, "accounts[0].chargeback_fees.model", `unknown fee model "percent"`},
				{8, "accounts[0].colour", "unknown key"},
				{11, "jobs[0].schedule", "invalid cron spec"},
				{12, "jobs[0].timezone", "unknown time zone"},
				{13, "jobs[0].accounts[1]", `unknown account "z"`},
				{14, "jobs[0].lookback_days", "want an integer"},
				{15, "jobs[0].destination.project", "required key is missing"},
				{16, "jobs[0].reports[0].to[0]", "invalid email address"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("jobs.yaml", []byte(edit(t, tt.old, tt.new)), env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			var first *Error
			if !errors.As(err, &first) || first != list[0] {
				t.Errorf("errors.As(*Error) did not find the first error")
			}
			if len(list) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tt.want), err)
			}
			for i, w := range tt.want {
				e := list[i]
				if e.File != "jobs.yaml" || e.Line != w.line || e.Path != w.path || !strings.Contains(e.Msg, w.msg) {
					t.Errorf("error %d = %#v, want line %d, path %q, message containing %q", i, e, w.line, w.path, w.msg)
				}
				prefix := fmt.Sprintf("jobs.yaml:%d: ", w.line)
				if w.path != "" {
					prefix += w.path + ": "
				}
				if !strings.HasPrefix(e.Error(), prefix) {
					t.Errorf("error %d = %q, want prefix %q", i, e.Error(), prefix)
				}
			}
			if !strings.Contains(err.Error(), list[len(list)-1].Error()) {
				t.Errorf("joined message %q lacks the last error", err.Error())
			}
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "jobs.yaml: empty file"},
		{"comments only", "# nothing\n", "jobs.yaml: empty file"},
		{"null document", "---\n", "jobs.yaml: empty file"},
		{"not a mapping", "- a\n- b\n", "jobs.yaml:1: want a mapping, got a list"},
		{"two documents", base + "---\nfoo: 1\n", "jobs.yaml:14: more than one YAML document"},
		{"merge key", edit(t, "    api: sandbox\n", "    api: sandbox\n    <<: {hmac: md5}\n"), "jobs.yaml:6: accounts[0].<<: merge keys are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("jobs.yaml", []byte(tt.data), env(nil))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "s3cr3t-VALUE-7f9a"
	data := edit(t, "secret_key: s", "secret_key: ${LL_SECRET}")
	f, err := Parse("jobs.yaml", []byte(data), env(map[string]string{"LL_SECRET": value}))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Accounts[0]
	if a.SecretKey.Reveal() != value {
		t.Fatalf("Reveal() = %q, want the value from the environment", a.SecretKey.Reveal())
	}

	var text, jsonOut bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&text, nil), slog.NewJSONHandler(&jsonOut, nil)} {
		l := slog.New(h)
		l.Info("account", "account", a, "secret", a.SecretKey, "file", f)
		l.Info("struct", slog.Any("fees", struct{ Account Account }{a}))
	}
	marshalled, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"fmt":        fmt.Sprintf("%v %+v %#v %v %+v %#v", f, f, f, a, a, a),
		"fmt verbs":  fmt.Sprintf("%s %q %x %X %d %10s %v", a.SecretKey, a.SecretKey, a.SecretKey, a.SecretKey, a.SecretKey, a.SecretKey, []Secret{a.SecretKey}),
		"slog text":  text.String(),
		"slog json":  jsonOut.String(),
		"json":       string(marshalled),
		"String":     a.SecretKey.String() + a.SecretKey.GoString(),
		"hex of fmt": fmt.Sprintf("%x", fmt.Sprint(a)),
	}
	for name, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("%s output contains the secret: %s", name, out)
		}
		if !strings.Contains(out, "redacted") && name != "hex of fmt" {
			t.Errorf("%s output does not show [redacted]: %s", name, out)
		}
	}

	// Nor does any error message, whatever else is wrong with the file.
	bad := edit(t, "secret_key: s", "secret_key: ${LL_SECRET}\n    secretkey: ${LL_SECRET}\n    hmac: [${LL_SECRET}]")
	_, err = Parse("jobs.yaml", []byte(bad), env(map[string]string{"LL_SECRET": value}))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), value) || strings.Contains(fmt.Sprintf("%#v", err), value) {
		t.Errorf("error contains the secret: %v", err)
	}
}

// TestUserinfoNeverPrinted puts a URL with userinfo, as an environment
// variable can give, in fields of every kind, each wrong in its own way:
// no message quotes the userinfo.
func TestUserinfoNeverPrinted(t *testing.T) {
	const user, pass = "user-tok3n", "pa55w0rd"
	tests := []struct {
		name, old, new string
	}{
		{"endpoint", "    api: sandbox\n", "    api: sandbox\n    endpoint: 'ftp://${LL_URL}'\n"},
		{"endpoint with a space", "    api: sandbox\n", "    api: sandbox\n    endpoint: 'http://user-tok3n pa55w0rd@host'\n"},
		{"endpoint with a slash in the password", "    api: sandbox\n", "    api: sandbox\n    endpoint: 'http://user-tok3n:pa55/w0rd@host'\n"},
		{"pushgateway", "jobs:\n", "metrics: {pushgateway: 'ws://${LL_URL}'}\njobs:\n"},
		{"bigquery endpoint", "destination: {type: local, path: out}", "destination: {type: bigquery, project: p, dataset: d, endpoint: 'gs://${LL_URL}'}"},
		{"api", "api: sandbox", "api: 'http://${LL_URL}'"},
		{"hmac", "    api: sandbox\n", "    api: sandbox\n    hmac: 'http://${LL_URL}'\n"},
		{"schedule", `schedule: "@daily"`, `schedule: "http://${LL_URL}"`},
		{"time zone", `schedule: "@daily"`, "schedule: '@daily'\n    timezone: 'http://${LL_URL}'"},
		{"sandbox date", "    api: sandbox\n", "    api: sandbox\n    sandbox: {since: 'http://${LL_URL}'}\n"},
		{"fee", `fee: "25"`, `fee: "http://${LL_URL}"`},
		{"integer", "    accounts: [a]\n", "    accounts: [a]\n    lookback_days: 'http://${LL_URL}'\n"},
		{"account name", "accounts: [a]", "accounts: [a, 'http://${LL_URL}']"},
		{"email", "destination: {type: local, path: out}", "destination: {type: local, path: out}\n    reports: [{type: accounting, to: ['http://${LL_URL}']}]"},
		{"mapping where a string belongs", "merchant_code: M1", "merchant_code: {x: 'http://${LL_URL}'}"},
		{"unknown key", "jobs:\n", "'http://user-tok3n:pa55w0rd@host': 1\njobs:\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := edit(t, tt.old, tt.new)
			_, err := Parse("jobs.yaml", []byte(data), env(map[string]string{"LL_URL": user + ":" + pass + "@host/rpc"}))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error() + fmt.Sprintf("%#v", err)
			if strings.Contains(msg, user) || strings.Contains(msg, pass) || strings.Contains(msg, "w0rd") {
				t.Errorf("error shows the userinfo: %v", err)
			}
			if n := strings.Count(err.Error(), "@host"); n != strings.Count(err.Error(), "REDACTED@host") {
				t.Errorf("error does not show REDACTED where the userinfo was: %v", err)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vars := env(map[string]string{"A": "alpha", "EMPTY": "", "D": "$x"})
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-y", want: "x-alpha-y"},
		{in: "${A:-def}", want: "alpha"},
		{in: "${UNSET:-def}", want: "def"},
		{in: "${EMPTY:-def}", want: "def"},
		{in: "${EMPTY}", want: ""},
		{in: "${UNSET:-}", want: ""},
		{in: "${UNSET:-a:b c}", want: "a:b c"},
		{in: "${D}", want: "$x"}, // values are not expanded again
		{in: "$$", want: "$"},
		{in: "a$$b", want: "a$b"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "${UNSET}", err: "environment variable UNSET is not set"},
		{in: "${A}${UNSET2}", err: "environment variable UNSET2 is not set"},
		{in: "$A", err: "write $$ for a literal $"},
		{in: "cost$", err: "write $$ for a literal $"},
		{in: "${A", err: "unterminated"},
		{in: "${}", err: "invalid variable reference"},
		{in: "${1A}", err: "invalid variable reference"},
		{in: "${A-b}", err: "invalid variable reference"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expand(tt.in, vars)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
				}
			case err != nil:
				t.Errorf("expand(%q): %v", tt.in, err)
			case got != tt.want:
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want *big.Rat // nil: an error
	}{
		{"0.65%", big.NewRat(13, 2000)},
		{"0.0065", big.NewRat(13, 2000)},
		{" 0.65 % ", big.NewRat(13, 2000)},
		{"1%", big.NewRat(1, 100)},
		{"100%", big.NewRat(1, 1)},
		{"1", big.NewRat(1, 1)},
		{"0.1", big.NewRat(1, 10)}, // exactly, unlike float64 0.1
		{"0.000000000001%", big.NewRat(1, 100_000_000_000_000)},
		{"", nil},
		{"%", nil},
		{"abc", nil},
		{"0", nil},
		{"0%", nil},
		{"-1%", nil},
		{"101%", nil},
		{"1.5", nil},
		{"1e-3", nil},
		{"1/3", nil},
		{".5", nil},
		{"5.", nil},
		{"0.65%%", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseRate(tt.in)
			switch {
			case tt.want == nil && err == nil:
				t.Errorf("parseRate(%q) = %v, want an error", tt.in, got)
			case tt.want != nil && err != nil:
				t.Errorf("parseRate(%q): %v", tt.in, err)
			case tt.want != nil && got.Cmp(tt.want) != 0:
				t.Errorf("parseRate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTiersExact(t *testing.T) {
	tests := []struct {
		below string
		want  *big.Rat
	}{
		{`"0.65%"`, big.NewRat(13, 2000)},
		{`"0.0065"`, big.NewRat(13, 2000)},
		{`0.0065`, big.NewRat(13, 2000)}, // an unquoted YAML float is read from its text
	}
	for _, tt := range tests {
		t.Run(tt.below, func(t *testing.T) {
			data := edit(t, `{model: fixed, fee: "25"}`, `{model: threshold, tiers: [{below: `+tt.below+`, fee: "30"}, {fee: "50"}]}`)
			f, err := Parse("jobs.yaml", []byte(data), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			tiers := f.Accounts[0].ChargebackFees.Tiers
			if got := tiers[0].Below; got.Cmp(tt.want) != 0 {
				t.Errorf("below = %v, want %v", got, tt.want)
			}
			// 13 chargebacks in 2,000 transactions is not below the tier.
			if rate := big.NewRat(13, 2000); rate.Cmp(tiers[0].Below) < 0 {
				t.Errorf("13/2000 compares below %v", tiers[0].Below)
			}
			if tiers[0].Fee != money.FromInt(30) || tiers[1].Fee != money.FromInt(50) || tiers[1].Below != nil {
				t.Errorf("tiers = %+v", tiers)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"name", "merchant_code", "secret_key", "staging_dataset", "to", "type"}
	tests := []struct{ in, want string }{
		{"secretkey", "secret_key"},
		{"SecretKey", "secret_key"},
		{"merchant-code", "merchant_code"},
		{"nmae", "name"},
		{"stagingdataset", "staging_dataset"},
		{"typ", "type"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEveryFieldDecodes checks every field of the file's structs, so that
// a new one is covered without editing the test: it has a yaml tag (its
// key, or "-"), and the decoder can read its type.
func TestEveryFieldDecodes(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var check func(typ reflect.Type, path string)
	check = func(typ reflect.Type, path string) {
		if leaf(reflect.New(typ).Elem()) != nil {
			return
		}
		switch typ.Kind() {
		case reflect.String, reflect.Int, reflect.Int64:
		case reflect.Slice:
			check(typ.Elem(), path+"[]")
		case reflect.Struct:
			if seen[typ] {
				return
			}
			seen[typ] = true
			keys := map[string]bool{}
			for i := range typ.NumField() {
				f := typ.Field(i)
				key, ok := f.Tag.Lookup("yaml")
				switch {
				case !ok || key == "":
					t.Errorf("%s.%s has no yaml tag", typ, f.Name)
				case key == "-":
					// A destination kind: its keys sit beside type.
					if f.Tag.Get("kind") != "" {
						check(f.Type.Elem(), path)
					}
				case keys[key]:
					t.Errorf("%s: key %s is spelled twice", typ, key)
				default:
					keys[key] = true
					check(f.Type, join(path, key))
				}
			}
		default:
			t.Errorf("%s: the decoder cannot read a %s", path, typ)
		}
	}
	check(reflect.TypeFor[File](), "")
	if !seen[reflect.TypeFor[Tier]()] || !seen[reflect.TypeFor[Retry]()] || !seen[reflect.TypeFor[BigQueryDestination]()] {
		t.Errorf("the walk missed structs: %v", seen)
	}
}

// TestEveryAPIAccepted checks that config takes its API names from the
// registry: every API of extract/apis is a valid api, and every sandbox
// protocol is an API of the registry.
func TestEveryAPIAccepted(t *testing.T) {
	for _, name := range apis.Names() {
		user := ""
		if name == APILegacy {
			user = "\n    legacy_user: apiuser"
		}
		f, err := Parse("jobs.yaml", []byte(strings.Replace(base, "api: sandbox", "api: "+name+user, 1)), env(nil))
		if err != nil {
			t.Errorf("api %s: %v", name, err)
		} else if got := f.Accounts[0].API; got != name {
			t.Errorf("api = %q, want %q", got, name)
		}
	}
	for _, name := range sandboxProtocols() {
		if !slices.Contains(apis.Names(), name) {
			t.Errorf("sandbox protocol %s is not an API of the registry", name)
		}
		f, err := Parse("jobs.yaml", []byte(strings.Replace(base, "api: sandbox", "api: sandbox\n    sandbox: {protocol: "+name+"}", 1)), env(nil))
		if err != nil {
			t.Errorf("sandbox protocol %s: %v", name, err)
		} else if got := f.Accounts[0].Sandbox.Protocol; got != name {
			t.Errorf("sandbox protocol = %q, want %q", got, name)
		}
	}
}

// TestDestinationTypes checks that the kind tags of Destination's fields
// are the destination type constants.
func TestDestinationTypes(t *testing.T) {
	if got, want := DestinationTypes(), []string{DestinationLocal, DestinationBigQuery}; !reflect.DeepEqual(got, want) {
		t.Errorf("DestinationTypes() = %q, want %q", got, want)
	}
}
