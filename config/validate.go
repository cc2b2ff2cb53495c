package config

import (
	"math/big"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/bojanz/currency"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apis"
	"github.com/ledgerline/ledgerline/money"
)

// The validate methods run once a struct is decoded, after the structs it
// holds. Each checks its own fields, names them by pointer (the checker
// knows their keys and lines) and sets the defaults of the keys that are
// absent or empty.

// transactionStatuses returns the order statuses an account can count as
// transactions.
func transactionStatuses() []string {
	return []string{"AUTHRECEIVED", "PENDING", "COMPLETE", "CANCELED", "REVERSED", "REFUND"}
}

// DefaultTransactionStatuses returns the order statuses that count as
// transactions when an account lists none.
func DefaultTransactionStatuses() []string { return []string{"COMPLETE", "REFUND"} }

// apiNames returns the names an account's api key takes: the built-in
// sandbox, then the APIs of the registry (extract/apis), so that adding an
// API there is all it takes for config to accept it.
func apiNames() []string { return append([]string{APISandbox}, apis.Names()...) }

// sandboxProtocols returns the APIs the sandbox merchant serves, which
// pipeline.OpenSource reads it through: not every API of the registry
// needs a sandbox handler.
func sandboxProtocols() []string { return []string{APIJSONRPC, APIREST, APILegacy} }

// streams returns the streams of a job in their canonical order: orders
// before the chargebacks read from them.
func streams() []string {
	return []string{extract.StreamOrders, extract.StreamSubscriptions, StreamChargebacks}
}

func (f *File) validate(c *checker) {
	if !c.missing(&f.Accounts) && c.good(&f.Accounts) && len(f.Accounts) == 0 {
		c.errorf(&f.Accounts, "want at least one account")
	}
	if !c.missing(&f.Jobs) && c.good(&f.Jobs) && len(f.Jobs) == 0 {
		c.errorf(&f.Jobs, "want at least one job")
	}
	// Account names, to line of first definition; nil when the accounts
	// could not be read, so that jobs are not checked against them.
	var accounts map[string]int
	if c.has(&f.Accounts) && c.good(&f.Accounts) {
		accounts = map[string]int{}
		for i := range f.Accounts {
			uniqueName(c, accounts, &f.Accounts[i].Name, "account")
		}
	}
	jobs := map[string]int{}
	for i := range f.Jobs {
		j := &f.Jobs[i]
		uniqueName(c, jobs, &j.Name, "job")
		for k := range j.Accounts {
			name := j.Accounts[k]
			if accounts != nil && accounts[name] == 0 && !slices.Contains(j.Accounts[:k], name) {
				c.errorf(&j.Accounts[k], "unknown account %q", name)
			}
		}
	}
}

// uniqueName records *name in seen, or reports that it is taken.
func uniqueName(c *checker, seen map[string]int, name *string, noun string) {
	if !c.has(name) || !c.good(name) {
		return
	}
	if line, dup := seen[*name]; dup {
		c.errorf(name, "duplicate %s name %q (first at line %d)", noun, *name, line)
		return
	}
	seen[*name] = c.line(name)
}

func (m *Metrics) validate(c *checker) { checkURL(c, &m.Pushgateway) }

// checkName checks the name of an account or a job.
func checkName(c *checker, name *string) {
	c.required(name)
	if *name != "" && !validName(*name) {
		c.errorf(name, "invalid name %q (want lower-case letters, digits, _ and -)", *name)
	}
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return s != ""
}

// checkURL checks that *s, if set, is an absolute http(s) URL.
func checkURL(c *checker, s *string) {
	if *s == "" {
		return
	}
	u, err := url.Parse(*s)
	switch {
	case !strings.Contains(*s, "//") && strings.Contains(*s, "@"):
		// Without "//" there is no userinfo to redact, but what comes
		// before the "@" is likely a credential: it is not quoted.
		c.errorf(s, "want an absolute http or https URL starting http:// or https://")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.errorf(s, "want an absolute http or https URL, got %q", *s)
	}
}

// defaultLocation sets *loc, if nil, to the time zone called name.
func defaultLocation(loc **time.Location, name string) {
	if *loc == nil {
		// The names are constants of this package, in the embedded
		// database; a failure would be a typo caught by the tests.
		l, err := time.LoadLocation(name)
		if err != nil {
			panic(err)
		}
		*loc = l
	}
}

func (a *Account) validate(c *checker) {
	checkName(c, &a.Name)
	// The secret's value goes into no message: required reports only its
	// absence or emptiness, and the decoder an unset variable.
	c.required(&a.MerchantCode, &a.SecretKey, &a.API, &a.Currency, &a.ChargebackFees)
	if strings.ContainsFunc(a.MerchantCode, unicode.IsSpace) {
		c.errorf(&a.MerchantCode, "must not contain spaces")
	}
	if c.oneOf(&a.API, "api", apiNames()...) {
		if a.API == APILegacy {
			c.required(&a.LegacyUser)
		} else {
			c.only(&a.LegacyUser, "api "+APILegacy)
		}
		switch {
		case a.API != APISandbox:
			c.only(&a.Sandbox, "api "+APISandbox)
		case !c.has(&a.Sandbox):
			a.Sandbox = defaultSandbox()
		}
	}
	if !c.set(&a.Concurrency) {
		a.Concurrency = DefaultConcurrency
	}
	c.intRange(&a.Concurrency, 1, 32)
	c.intRange(&a.RequestsPerSecond, 1, 100_000)
	checkURL(c, &a.Endpoint)
	if a.HMAC == "" {
		a.HMAC = HMACSHA256
	}
	c.oneOf(&a.HMAC, "HMAC algorithm", HMACSHA256, HMACSHA3_256, HMACMD5)
	defaultLocation(&a.SourceTimezone, DefaultSourceTimezone)
	defaultLocation(&a.ReportingTimezone, DefaultReportingTimezone)
	if s := a.Currency; s != "" {
		// The currencies in use today (CLDR's list of ISO 4217): not the
		// withdrawn ones, nor funds, metals or the X codes for testing.
		a.Currency = strings.ToUpper(s)
		if !currency.IsValid(a.Currency) {
			c.errorf(&a.Currency, "invalid currency %q (want a current ISO 4217 code such as USD)", s)
		}
	}
	a.checkStatuses(c)
	if a.Chargebacks == "" {
		a.Chargebacks = ChargebacksAvailable
	}
	c.oneOf(&a.Chargebacks, "chargebacks setting", ChargebacksAvailable, ChargebacksUnavailable)
}

// The values of an account's chargebacks key.
const (
	ChargebacksAvailable   = "available"
	ChargebacksUnavailable = "unavailable"
)

// NoChargebackData reports whether the account is set to run
// without chargeback data.
func (a *Account) NoChargebackData() bool { return a.Chargebacks == ChargebacksUnavailable }

// checkStatuses upper-cases the transaction statuses, checks them and sets
// their default.
func (a *Account) checkStatuses(c *checker) {
	if !c.has(&a.TransactionStatuses) {
		a.TransactionStatuses = DefaultTransactionStatuses()
		return
	}
	c.nonEmpty(&a.TransactionStatuses)
	known := transactionStatuses()
	for i, s := range a.TransactionStatuses {
		up := strings.ToUpper(s)
		switch {
		case up == "":
		case !slices.Contains(known, up):
			c.errorf(&a.TransactionStatuses[i], "unknown order status %q (want %s)", s, oneOf(known))
		case slices.Contains(a.TransactionStatuses[:i], up):
			c.errorf(&a.TransactionStatuses[i], "duplicate status %s", up)
		}
		a.TransactionStatuses[i] = up
	}
}

func (r *Retry) validate(c *checker) {
	c.intRange(&r.Attempts, 1, 100)
	durationRange(c, &r.BaseDelay, time.Millisecond, time.Hour)
	durationRange(c, &r.MaxDelay, time.Millisecond, time.Hour)
	durationRange(c, &r.MaxRetryAfter, 0, time.Hour)
	durationRange(c, &r.Timeout, time.Second, time.Hour)
	if c.set(&r.BaseDelay) && c.set(&r.MaxDelay) && r.MaxDelay < r.BaseDelay {
		c.errorf(&r.MaxDelay, "%s is below %s %s", r.MaxDelay, c.key(&r.BaseDelay), r.BaseDelay)
	}
}

// durationRange checks that *d, if set, lies within [lo, hi].
func durationRange(c *checker, d *time.Duration, lo, hi time.Duration) {
	if c.set(d) && (*d < lo || *d > hi) {
		c.errorf(d, "%s is out of range (want %s to %s)", *d, lo, hi)
		c.at(d).bad = true
	}
}

func (s *Sandbox) validate(c *checker) {
	def := defaultSandbox()
	if !c.set(&s.Seed) {
		s.Seed = def.Seed
	}
	if s.Since.IsZero() {
		s.Since = def.Since
	}
	if s.Protocol == "" {
		s.Protocol = def.Protocol
	}
	c.intRange(&s.OrdersPerDay, 1, 100_000)
	c.oneOf(&s.Protocol, "sandbox protocol", sandboxProtocols()...)
}

func (f *ChargebackFees) validate(c *checker) {
	c.required(&f.Model)
	if !c.oneOf(&f.Model, "fee model", FeeModelFixed, FeeModelThreshold) {
		return
	}
	switch f.Model {
	case FeeModelFixed:
		c.only(&f.Tiers, "model "+FeeModelThreshold)
		c.only(&f.FirstMonthTier, "model "+FeeModelThreshold)
		c.required(&f.Fee)
		nonNegative(c, &f.Fee)
	case FeeModelThreshold:
		c.only(&f.Fee, "model "+FeeModelFixed+" (threshold fees go in tiers)")
		f.checkTiers(c)
		if c.has(&f.FirstMonthTier) && len(f.Tiers) > 0 {
			c.intRange(&f.FirstMonthTier, 1, len(f.Tiers))
		}
	}
}

// checkTiers checks the tiers' bounds: increasing, and present on every
// tier but the last, the catch-all.
func (f *ChargebackFees) checkTiers(c *checker) {
	if !c.missing(&f.Tiers) && c.good(&f.Tiers) && len(f.Tiers) == 0 {
		c.errorf(&f.Tiers, "want at least one tier")
	}
	var prev *Tier // the last tier with a valid below
	for i := range f.Tiers {
		t := &f.Tiers[i]
		switch {
		case i == len(f.Tiers)-1:
			if c.has(&t.Below) {
				c.keyErrorf(&t.Below, "missing catch-all: the last tier must have no below (add a last tier with only a fee)")
			}
		case !c.has(&t.Below):
			c.errorf(&t.Below, "required key is missing (only the last tier, the catch-all, has no below)")
		case t.Below != nil:
			if prev != nil && t.Below.Cmp(prev.Below) <= 0 {
				c.errorf(&t.Below, "tiers must be in increasing order of below: %s is not above %s", t.BelowText, prev.BelowText)
			}
			prev = t
		}
	}
}

func (t *Tier) validate(c *checker) {
	c.required(&t.Fee)
	nonNegative(c, &t.Fee)
	if t.Below != nil {
		t.BelowText = c.text(&t.Below)
		if t.Below.Sign() == 0 {
			c.errorf(&t.Below, "rate %s is out of range (want above 0 and at most 100%%)", t.BelowText)
			t.Below = nil
		}
	}
}

// nonNegative checks a fee.
func nonNegative(c *checker, fee *money.Amount) {
	if fee.Sign() < 0 {
		c.errorf(fee, "must not be negative, got %s", c.text(fee))
	}
}

func (j *Job) validate(c *checker) {
	checkName(c, &j.Name)
	c.required(&j.Schedule, &j.Accounts, &j.Destination)
	defaultLocation(&j.Timezone, DefaultJobTimezone)
	j.checkSchedule(c)
	for i, name := range j.Accounts {
		if name != "" && slices.Contains(j.Accounts[:i], name) {
			c.errorf(&j.Accounts[i], "account %q is listed twice", name)
		}
	}
	j.checkStreams(c)
	if !c.set(&j.LookbackDays) {
		j.LookbackDays = DefaultLookbackDays
	}
	c.intRange(&j.LookbackDays, 1, 3650)
	if !c.set(&j.FullRefreshEvery) {
		j.FullRefreshEvery = DefaultFullRefreshEvery
	}
	c.intRange(&j.FullRefreshEvery, 1, 365)
	if j.MaxRejected == nil {
		j.MaxRejected = big.NewRat(1, 100)
	}
	durationRange(c, &j.RunTimeout, time.Minute, 48*time.Hour)
	if !c.set(&j.CatchUpDays) {
		j.CatchUpDays = DefaultCatchUpDays
	}
	c.intRange(&j.CatchUpDays, 0, 366)
}

// checkStreams checks the streams and puts them in canonical order.
func (j *Job) checkStreams(c *checker) {
	all := streams()
	if !c.has(&j.Streams) {
		j.Streams = all
		return
	}
	c.nonEmpty(&j.Streams)
	for i, s := range j.Streams {
		switch {
		case s == "":
		case !slices.Contains(all, s):
			c.errorf(&j.Streams[i], "unknown stream %q (want %s)", s, oneOf(all))
		case slices.Contains(j.Streams[:i], s):
			c.errorf(&j.Streams[i], "stream %s is listed twice", s)
		}
	}
	if slices.Contains(j.Streams, StreamChargebacks) && !slices.Contains(j.Streams, extract.StreamOrders) {
		c.errorf(&j.Streams, "chargebacks needs orders (chargebacks are read from orders)")
	}
	j.Streams = slices.DeleteFunc(all, func(s string) bool { return !slices.Contains(j.Streams, s) })
}

func (d *LocalDestination) validate(c *checker) { c.required(&d.Path) }

func (d *BigQueryDestination) validate(c *checker) {
	c.required(&d.Project, &d.Dataset)
	if d.Project != "" && !validProject(d.Project) {
		c.errorf(&d.Project, "invalid project ID %q", d.Project)
	}
	checkDataset(c, &d.Dataset)
	checkDataset(c, &d.StagingDataset)
	if d.Location == "" {
		d.Location = DefaultBigQueryLocation
	}
	checkURL(c, &d.Endpoint)
}

// checkDataset checks a BigQuery dataset name, if set.
func checkDataset(c *checker, s *string) {
	valid := len(*s) <= 1024 && !strings.ContainsFunc(*s, func(r rune) bool {
		return r != '_' && (r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r))
	})
	if !valid {
		c.errorf(s, "invalid dataset name %q (want letters, digits and _)", *s)
	}
}

// validProject accepts project IDs (lower-case letters, digits, -) and
// domain-scoped ones (example.com:project).
func validProject(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '.' || r == ':')
	})
}

func (r *Report) validate(c *checker) {
	c.required(&r.Type, &r.To)
	c.oneOf(&r.Type, "report type", ReportAccounting)
	for i, s := range r.To {
		if s == "" {
			continue
		}
		if _, err := mail.ParseAddress(s); err != nil {
			c.errorf(&r.To[i], "invalid email address %q (%s)", s, strings.TrimPrefix(err.Error(), "mail: "))
		}
	}
	if r.Outbox == "" {
		r.Outbox = DefaultOutbox
	}
}
