package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/money"
	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Load reads and validates the configuration file at path; see Parse.
func Load(path string, getenv func(string) (string, bool)) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, getenv)
}

// Parse validates the configuration in data, read from the file called
// name (used in error messages and as File.Path). References to
// environment variables in scalars, ${VAR} and ${VAR:-default}, are looked
// up with getenv; nil means os.LookupEnv.
//
// Parse reports every problem it finds, not just the first: the error is
// an ErrorList of *Error, sorted by line, each naming the file, line and
// key path. Use errors.As to get at them.
//
// Relative paths (a local destination's path, a report's outbox) are kept
// as written and so are relative to the working directory of the process.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*File, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	p := &parser{file: name, getenv: getenv}
	var f *File
	if root := p.document(data); root != nil {
		f = p.parseFile(root)
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, p.errs
	}
	f.Path = name
	return f, nil
}

// parser collects the problems found while walking one file.
type parser struct {
	file   string
	getenv func(string) (string, bool)
	errs   ErrorList
}

// errorf records a problem at node n (nil: the whole file) and key path.
func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// document parses data and returns its root node, or nil after recording
// why there is none.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "", "empty file (want accounts and jobs)")
		} else {
			p.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		n := &extra
		if len(extra.Content) > 0 {
			n = extra.Content[0]
		}
		p.errorf(n, "", "more than one YAML document (want one)")
	case !errors.Is(err, io.EOF):
		p.yamlError(err)
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		p.errorf(nil, "", "empty file (want accounts and jobs)")
		return nil
	}
	return doc.Content[0]
}

// yamlError records a yaml.v3 syntax error, "yaml: line N: msg".
func (p *parser) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: p.file, Msg: "invalid YAML: " + msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, m, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				e.Line, e.Msg = line, "invalid YAML: "+m
			}
		}
	}
	p.errs = append(p.errs, e)
}

// object is a mapping whose keys have been checked against the known ones.
type object struct {
	path string
	node *yaml.Node
	keys map[string]*yaml.Node // key name to key node
	vals map[string]*yaml.Node // key name to value node
}

// at returns the key path of key in o.
func (o *object) at(key string) string { return join(o.path, key) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe names what n is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// object checks that n is a mapping with only known, distinct keys.
func (p *parser) object(n *yaml.Node, path string, known []string) (*object, bool) {
	m := resolve(n)
	if m.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping, got %s", describe(m))
		return nil, false
	}
	o := &object{path: path, node: m, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, path, "want a key name, got %s", describe(resolve(k)))
			continue
		}
		name := k.Value
		kp := join(path, name)
		switch first, dup := o.keys[name]; {
		case name == "<<":
			p.errorf(k, kp, "merge keys are not supported (an alias can stand for a whole value)")
		case !slices.Contains(known, name):
			if s := suggest(name, known); s != "" {
				p.errorf(k, kp, "unknown key (did you mean %s?)", s)
			} else {
				p.errorf(k, kp, "unknown key (want %s)", oneOf(known))
			}
		case dup:
			p.errorf(k, kp, "duplicate key (first at line %d)", first.Line)
		default:
			o.keys[name], o.vals[name] = k, v
		}
	}
	return o, true
}

// missing records that a required key is absent from o.
func (p *parser) missing(o *object, key string) {
	p.errorf(o.node, o.at(key), "required key is missing")
}

// scalar returns the expanded text of the scalar n.
func (p *parser) scalar(n *yaml.Node, path, want string) (string, bool) {
	s := resolve(n)
	if s.Kind != yaml.ScalarNode || s.ShortTag() == "!!null" {
		p.errorf(n, path, "want %s, got %s", want, describe(s))
		return "", false
	}
	v, err := expand(s.Value, p.getenv)
	if err != nil {
		p.errorf(n, path, "%v", err)
		return "", false
	}
	return v, true
}

// str returns the string at key. An empty value (as from ${VAR:-}) counts
// as absent, so that optional keys take their defaults; for a required key
// it is an error. ok reports a usable value; n is the value node, nil when
// the key is absent.
func (p *parser) str(o *object, key string, required bool) (s string, n *yaml.Node, ok bool) {
	n = o.vals[key]
	if n == nil {
		if required {
			p.missing(o, key)
		}
		return "", nil, false
	}
	s, ok = p.scalar(n, o.at(key), "a string")
	if ok && s == "" {
		if required {
			p.errorf(n, o.at(key), "must not be empty")
		}
		return "", n, false
	}
	return s, n, ok
}

// enum returns the string at key, which must be one of options; noun names
// it in messages. An empty def makes the key required.
func (p *parser) enum(o *object, key, def, noun string, options []string) (string, bool) {
	s, n, ok := p.str(o, key, def == "")
	if !ok {
		return def, def != ""
	}
	if !slices.Contains(options, s) {
		p.errorf(n, o.at(key), "unknown %s %q (want %s)", noun, s, oneOf(options))
		return def, false
	}
	return s, true
}

// integer returns the integer at key, def when absent.
func (p *parser) integer(o *object, key string, def, lo, hi int64) int64 {
	n := o.vals[key]
	if n == nil {
		return def
	}
	path := o.at(key)
	s, ok := p.scalar(n, path, "an integer")
	if !ok || s == "" {
		return def
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.errorf(n, path, "want an integer, got %q", s)
		return def
	}
	if v < lo || v > hi {
		p.errorf(n, path, "%d is out of range (want %d to %d)", v, lo, hi)
		return def
	}
	return v
}

// duration returns the duration at key (Go syntax: 500ms, 30s, 2m), def
// when absent; it must lie within [lo, hi].
func (p *parser) duration(o *object, key string, def, lo, hi time.Duration) time.Duration {
	s, n, ok := p.str(o, key, false)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.errorf(n, o.at(key), "want a duration such as 500ms, 30s or 2m, got %q", s)
		return def
	}
	if d < lo || d > hi {
		p.errorf(n, o.at(key), "%s is out of range (want %s to %s)", d, lo, hi)
		return def
	}
	return d
}

// list returns the items of the list at key; ok is false when the key is
// absent or not a list.
func (p *parser) list(o *object, key string, required bool) (items []*yaml.Node, n *yaml.Node, ok bool) {
	n = o.vals[key]
	if n == nil {
		if required {
			p.missing(o, key)
		}
		return nil, nil, false
	}
	s := resolve(n)
	if s.Kind != yaml.SequenceNode {
		p.errorf(n, o.at(key), "want a list, got %s", describe(s))
		return nil, n, false
	}
	return s.Content, n, true
}

// strings returns the list of non-empty strings at key, which must not be
// empty; items holds the value node of each string.
func (p *parser) strings(o *object, key string, required bool) (ss []string, items []*yaml.Node, ok bool) {
	nodes, n, ok := p.list(o, key, required)
	if !ok {
		return nil, nil, false
	}
	if len(nodes) == 0 {
		p.errorf(n, o.at(key), "must not be empty")
		return nil, nil, false
	}
	for i, item := range nodes {
		path := index(o.at(key), i)
		s, ok := p.scalar(item, path, "a string")
		if !ok {
			continue
		}
		if s == "" {
			p.errorf(item, path, "must not be empty")
			continue
		}
		ss = append(ss, s)
		items = append(items, item)
	}
	return ss, items, true
}

// location returns the time zone named at key, or def.
func (p *parser) location(o *object, key, def string) *time.Location {
	name := def
	s, n, ok := p.str(o, key, false)
	if ok {
		name = s
	}
	if name == "Local" {
		p.errorf(n, o.at(key), `time zone "Local" depends on the machine (want an IANA name such as UTC or Europe/Bucharest)`)
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.errorf(n, o.at(key), "unknown time zone %q (want an IANA name such as UTC or Europe/Bucharest)", name)
		return time.UTC
	}
	return loc
}

// endpoint returns the absolute http(s) URL at key, or "".
func (p *parser) endpoint(o *object, key string) string {
	s, n, ok := p.str(o, key, false)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.errorf(n, o.at(key), "want an absolute http or https URL, got %q", s)
		return ""
	}
	return s
}

// parseFile walks the top level: accounts, then jobs.
func (p *parser) parseFile(root *yaml.Node) *File {
	f := &File{}
	o, ok := p.object(root, "", []string{"accounts", "jobs", "metrics", "lock_dir"})
	if !ok {
		return f
	}
	if n := o.vals["metrics"]; n != nil {
		if m, ok := p.object(n, "metrics", []string{"pushgateway", "listen"}); ok {
			f.Metrics.Pushgateway = p.endpoint(m, "pushgateway")
			f.Metrics.Listen, _, _ = p.str(m, "listen", false)
		}
	}
	f.LockDir, _, _ = p.str(o, "lock_dir", false)

	// Account names, to line of first definition; nil when the accounts
	// could not be read, so that jobs are not checked against them.
	var accounts map[string]int
	if items, n, ok := p.list(o, "accounts", true); ok {
		accounts = map[string]int{}
		if len(items) == 0 {
			p.errorf(n, "accounts", "want at least one account")
		}
		for i, item := range items {
			path := index("accounts", i)
			a, nameNode := p.account(item, path)
			if nameNode != nil {
				if line, dup := accounts[a.Name]; dup {
					p.errorf(nameNode, path+".name", "duplicate account name %q (first at line %d)", a.Name, line)
				} else {
					accounts[a.Name] = nameNode.Line
				}
			}
			f.Accounts = append(f.Accounts, a)
		}
	}

	if items, n, ok := p.list(o, "jobs", true); ok {
		if len(items) == 0 {
			p.errorf(n, "jobs", "want at least one job")
		}
		jobs := map[string]int{}
		for i, item := range items {
			path := index("jobs", i)
			j, nameNode := p.job(item, path, accounts)
			if nameNode != nil {
				if line, dup := jobs[j.Name]; dup {
					p.errorf(nameNode, path+".name", "duplicate job name %q (first at line %d)", j.Name, line)
				} else {
					jobs[j.Name] = nameNode.Line
				}
			}
			f.Jobs = append(f.Jobs, j)
		}
	}
	return f
}

// name reads and checks the name key of an account or job.
func (p *parser) name(o *object) (string, *yaml.Node) {
	s, n, ok := p.str(o, "name", true)
	if !ok {
		return "", nil
	}
	if !validName(s) {
		p.errorf(n, o.at("name"), "invalid name %q (want lower-case letters, digits, _ and -)", s)
	}
	return s, n
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

func (p *parser) account(n *yaml.Node, path string) (a Account, nameNode *yaml.Node) {
	o, ok := p.object(n, path, []string{
		"name", "merchant_code", "secret_key", "legacy_user", "api", "endpoint", "hmac",
		"source_timezone", "reporting_timezone", "currency", "transaction_statuses",
		"chargeback_fees", "sandbox", "concurrency", "retry", "requests_per_second",
	})
	if !ok {
		return a, nil
	}
	a.Name, nameNode = p.name(o)

	if s, n, ok := p.str(o, "merchant_code", true); ok {
		if strings.ContainsFunc(s, unicode.IsSpace) {
			p.errorf(n, o.at("merchant_code"), "must not contain spaces")
		}
		a.MerchantCode = s
	}

	// The secret's value goes into no message: str reports only its
	// absence, emptiness or an unset variable.
	secret, _, _ := p.str(o, "secret_key", true)
	a.SecretKey = Secret(secret)

	api, apiOK := p.enum(o, "api", "", "api", []string{APISandbox, APIJSONRPC, APIREST, APILegacy})
	a.API = api
	only := func(key, api string) {
		if k := o.keys[key]; k != nil {
			p.errorf(k, o.at(key), "only allowed with api %s", api)
		}
	}
	if apiOK {
		if api == APILegacy {
			a.LegacyUser, _, _ = p.str(o, "legacy_user", true)
		} else {
			only("legacy_user", APILegacy)
		}
		if api == APISandbox {
			a.Sandbox = p.sandbox(o)
		} else {
			only("sandbox", APISandbox)
		}
	}

	a.Concurrency = int(p.integer(o, "concurrency", DefaultConcurrency, 1, 32))
	a.Retry = p.retry(o)
	a.RequestsPerSecond = int(p.integer(o, "requests_per_second", DefaultRequestsPerSecond, 1, 100_000))
	a.Endpoint = p.endpoint(o, "endpoint")
	a.HMAC, _ = p.enum(o, "hmac", HMACSHA256, "HMAC algorithm", []string{HMACSHA256, HMACSHA3_256, HMACMD5})
	a.SourceTimezone = p.location(o, "source_timezone", DefaultSourceTimezone)
	a.ReportingTimezone = p.location(o, "reporting_timezone", DefaultReportingTimezone)

	if s, n, ok := p.str(o, "currency", true); ok {
		c := strings.ToUpper(s)
		if len(c) != 3 || strings.ContainsFunc(c, func(r rune) bool { return r < 'A' || r > 'Z' }) {
			p.errorf(n, o.at("currency"), "invalid currency %q (want a 3-letter ISO 4217 code such as USD)", s)
		}
		a.Currency = c
	}

	a.TransactionStatuses = []string{"COMPLETE", "REFUND"}
	if ss, items, ok := p.strings(o, "transaction_statuses", false); ok {
		statuses := []string{"AUTHRECEIVED", "PENDING", "COMPLETE", "CANCELED", "REVERSED", "REFUND"}
		a.TransactionStatuses = nil
		for i, s := range ss {
			s = strings.ToUpper(s)
			switch {
			case !slices.Contains(statuses, s):
				p.errorf(items[i], index(o.at("transaction_statuses"), i), "unknown order status %q (want %s)", ss[i], oneOf(statuses))
			case slices.Contains(a.TransactionStatuses, s):
				p.errorf(items[i], index(o.at("transaction_statuses"), i), "duplicate status %s", s)
			default:
				a.TransactionStatuses = append(a.TransactionStatuses, s)
			}
		}
	}

	if n := o.vals["chargeback_fees"]; n != nil {
		a.ChargebackFees = p.chargebackFees(n, o.at("chargeback_fees"))
	} else {
		p.missing(o, "chargeback_fees")
	}
	return a, nameNode
}

func (p *parser) retry(parent *object) Retry {
	r := Retry{Attempts: DefaultRetryAttempts, BaseDelay: DefaultRetryBaseDelay, MaxDelay: DefaultRetryMaxDelay,
		MaxRetryAfter: DefaultMaxRetryAfter, Timeout: DefaultRequestTimeout}
	n := parent.vals["retry"]
	if n == nil {
		return r
	}
	o, ok := p.object(n, parent.at("retry"), []string{"attempts", "base_delay", "max_delay", "max_retry_after", "timeout"})
	if !ok {
		return r
	}
	r.Attempts = int(p.integer(o, "attempts", DefaultRetryAttempts, 1, 100))
	r.BaseDelay = p.duration(o, "base_delay", DefaultRetryBaseDelay, time.Millisecond, time.Hour)
	r.MaxDelay = p.duration(o, "max_delay", DefaultRetryMaxDelay, time.Millisecond, time.Hour)
	r.MaxRetryAfter = p.duration(o, "max_retry_after", DefaultMaxRetryAfter, 0, time.Hour)
	r.Timeout = p.duration(o, "timeout", DefaultRequestTimeout, time.Second, time.Hour)
	if r.MaxDelay < r.BaseDelay {
		p.errorf(o.vals["max_delay"], o.at("max_delay"), "%s is below base_delay %s", r.MaxDelay, r.BaseDelay)
	}
	return r
}

func (p *parser) sandbox(parent *object) Sandbox {
	sb := Sandbox{Seed: DefaultSandboxSeed, OrdersPerDay: DefaultOrdersPerDay, Since: defaultSandboxSince(), Protocol: APIJSONRPC}
	n := parent.vals["sandbox"]
	if n == nil {
		return sb
	}
	o, ok := p.object(n, parent.at("sandbox"), []string{"seed", "orders_per_day", "since", "faults", "protocol"})
	if !ok {
		return sb
	}
	sb.Seed = p.integer(o, "seed", DefaultSandboxSeed, -1<<63, 1<<63-1)
	sb.OrdersPerDay = int(p.integer(o, "orders_per_day", DefaultOrdersPerDay, 1, 100_000))
	sb.Protocol, _ = p.enum(o, "protocol", APIJSONRPC, "sandbox protocol", []string{APIJSONRPC, APIREST, APILegacy})
	if s, n, ok := p.str(o, "faults", false); ok {
		f, err := sandbox.ParseFaults(s)
		if err != nil {
			p.errorf(n, o.at("faults"), "%v", err)
		}
		sb.Faults = f
	}
	if s, n, ok := p.str(o, "since", false); ok {
		d, err := civil.ParseDate(s)
		if err != nil {
			p.errorf(n, o.at("since"), "want a date such as 2025-01-01, got %q", s)
		} else {
			sb.Since = d
		}
	}
	return sb
}

func (p *parser) chargebackFees(n *yaml.Node, path string) ChargebackFees {
	var fees ChargebackFees
	o, ok := p.object(n, path, []string{"model", "fee", "tiers"})
	if !ok {
		return fees
	}
	model, ok := p.enum(o, "model", "", "fee model", []string{FeeModelFixed, FeeModelThreshold})
	fees.Model = model
	if !ok {
		return fees
	}
	switch model {
	case FeeModelFixed:
		if k := o.keys["tiers"]; k != nil {
			p.errorf(k, o.at("tiers"), "only allowed with model %s", FeeModelThreshold)
		}
		fees.Fee, _ = p.fee(o)
	case FeeModelThreshold:
		if k := o.keys["fee"]; k != nil {
			p.errorf(k, o.at("fee"), "only allowed with model %s (threshold fees go in tiers)", FeeModelFixed)
		}
		fees.Tiers = p.tiers(o)
	}
	return fees
}

// fee reads the required, non-negative amount at key fee.
func (p *parser) fee(o *object) (money.Amount, bool) {
	s, n, ok := p.str(o, "fee", true)
	if !ok {
		return 0, false
	}
	var a money.Amount
	if err := a.UnmarshalText([]byte(s)); err != nil {
		p.errorf(n, o.at("fee"), "want an amount such as 25.00: %v", err)
		return 0, false
	}
	if a.Sign() < 0 {
		p.errorf(n, o.at("fee"), "must not be negative, got %s", s)
		return 0, false
	}
	return a, true
}

func (p *parser) tiers(parent *object) []Tier {
	items, n, ok := p.list(parent, "tiers", true)
	if !ok {
		return nil
	}
	path := parent.at("tiers")
	if len(items) == 0 {
		p.errorf(n, path, "want at least one tier")
		return nil
	}
	var (
		tiers []Tier
		prev  Tier // the last tier with a valid below
	)
	for i, item := range items {
		o, ok := p.object(item, index(path, i), []string{"below", "fee"})
		if !ok {
			continue
		}
		t := p.tier(o, i == len(items)-1)
		if t.Below != nil {
			if prev.Below != nil && t.Below.Cmp(prev.Below) <= 0 {
				p.errorf(o.vals["below"], o.at("below"), "tiers must be in increasing order of below: %s is not above %s", t.BelowText, prev.BelowText)
			}
			prev = t
		}
		tiers = append(tiers, t)
	}
	return tiers
}

// tier reads one tier; last says whether it is the last, the catch-all.
func (p *parser) tier(o *object, last bool) Tier {
	t := Tier{}
	t.Fee, _ = p.fee(o)
	switch {
	case last:
		if k := o.keys["below"]; k != nil {
			p.errorf(k, o.at("below"), "missing catch-all: the last tier must have no below (add a last tier with only a fee)")
		}
	case o.vals["below"] == nil:
		p.errorf(o.node, o.at("below"), "required key is missing (only the last tier, the catch-all, has no below)")
	default:
		s, n, ok := p.str(o, "below", true)
		if !ok {
			break
		}
		r, err := parseRate(s)
		if err != nil {
			p.errorf(n, o.at("below"), "%v", err)
			break
		}
		t.Below, t.BelowText = r, s
	}
	return t
}

// parseRate parses a rate written as a percentage ("0.65%") or a fraction
// ("0.0065") exactly, without passing through a binary float.
func parseRate(s string) (*big.Rat, error) {
	t, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	t = strings.TrimSpace(t)
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return nil, fmt.Errorf("want a rate such as 0.65%% or 0.0065, got %q", s)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return nil, fmt.Errorf("want a rate such as 0.65%% or 0.0065, got %q", s)
	}
	if pct {
		r.Quo(r, big.NewRat(100, 1))
	}
	if r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, fmt.Errorf("rate %s is out of range (want above 0 and at most 100%%)", s)
	}
	return r, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *parser) job(n *yaml.Node, path string, accounts map[string]int) (j Job, nameNode *yaml.Node) {
	o, ok := p.object(n, path, []string{
		"name", "schedule", "timezone", "accounts", "streams", "lookback_days", "destination", "reports", "max_rejected",
	})
	if !ok {
		return j, nil
	}
	j.Name, nameNode = p.name(o)

	if s, n, ok := p.str(o, "schedule", true); ok {
		if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
			p.errorf(n, o.at("schedule"), "set the time zone with the job's timezone key, not in the schedule")
		} else if _, err := cron.ParseStandard(s); err != nil {
			p.errorf(n, o.at("schedule"), "invalid cron spec %q: %v", s, err)
		}
		j.Schedule = s
	}
	j.Timezone = p.location(o, "timezone", DefaultJobTimezone)

	if names, items, ok := p.strings(o, "accounts", true); ok {
		for i, name := range names {
			ip := index(o.at("accounts"), i)
			switch {
			case slices.Contains(j.Accounts, name):
				p.errorf(items[i], ip, "account %q is listed twice", name)
			case accounts != nil && accounts[name] == 0:
				p.errorf(items[i], ip, "unknown account %q", name)
			default:
				j.Accounts = append(j.Accounts, name)
			}
		}
	}

	all := []string{StreamOrders, StreamSubscriptions, StreamChargebacks}
	j.Streams = all
	if names, items, ok := p.strings(o, "streams", false); ok {
		var seen []string
		for i, name := range names {
			ip := index(o.at("streams"), i)
			switch {
			case !slices.Contains(all, name):
				p.errorf(items[i], ip, "unknown stream %q (want %s)", name, oneOf(all))
			case slices.Contains(seen, name):
				p.errorf(items[i], ip, "stream %s is listed twice", name)
			default:
				seen = append(seen, name)
			}
		}
		if slices.Contains(seen, StreamChargebacks) && !slices.Contains(seen, StreamOrders) {
			p.errorf(o.vals["streams"], o.at("streams"), "chargebacks needs orders (chargebacks are read from orders)")
		}
		// Canonical order: orders before the chargebacks read from them.
		j.Streams = slices.DeleteFunc(slices.Clone(all), func(s string) bool { return !slices.Contains(seen, s) })
	}

	j.LookbackDays = int(p.integer(o, "lookback_days", DefaultLookbackDays, 1, 3650))
	j.MaxRejected = big.NewRat(1, 100)
	if s, n, ok := p.str(o, "max_rejected", false); ok {
		if t := strings.TrimSuffix(strings.TrimSpace(s), "%"); strings.Trim(t, "0.") == "" && t != "" {
			j.MaxRejected = new(big.Rat) // no rejects tolerated
		} else if r, err := parseRate(s); err != nil {
			p.errorf(n, o.at("max_rejected"), "%v", err)
		} else {
			j.MaxRejected = r
		}
	}

	if n := o.vals["destination"]; n != nil {
		j.Destination = p.destination(n, o.at("destination"))
	} else {
		p.missing(o, "destination")
	}

	if items, _, ok := p.list(o, "reports", false); ok {
		for i, item := range items {
			if r, ok := p.report(item, index(o.at("reports"), i)); ok {
				j.Reports = append(j.Reports, r)
			}
		}
	}
	return j, nameNode
}

func (p *parser) destination(n *yaml.Node, path string) Destination {
	var d Destination
	o, ok := p.object(n, path, []string{"type", "path", "project", "dataset", "location", "endpoint", "staging_dataset"})
	if !ok {
		return d
	}
	typ, ok := p.enum(o, "type", "", "destination", []string{DestinationLocal, DestinationBigQuery})
	d.Type = typ
	if !ok {
		return d
	}
	allowed := map[string][]string{
		DestinationLocal:    {"type", "path"},
		DestinationBigQuery: {"type", "project", "dataset", "location", "endpoint", "staging_dataset"},
	}[typ]
	for key, k := range o.keys {
		if !slices.Contains(allowed, key) {
			p.errorf(k, o.at(key), "not allowed with destination type %s (want %s)", typ, oneOf(allowed))
		}
	}
	switch typ {
	case DestinationLocal:
		d.Path, _, _ = p.str(o, "path", true)
	case DestinationBigQuery:
		if s, n, ok := p.str(o, "project", true); ok {
			if !validProject(s) {
				p.errorf(n, o.at("project"), "invalid project ID %q", s)
			}
			d.Project = s
		}
		d.Dataset = p.dataset(o, "dataset", true)
		d.StagingDataset = p.dataset(o, "staging_dataset", false)
		d.Location = DefaultBigQueryLocation
		if s, _, ok := p.str(o, "location", false); ok {
			d.Location = s
		}
		d.Endpoint = p.endpoint(o, "endpoint")
	}
	return d
}

func (p *parser) dataset(o *object, key string, required bool) string {
	s, n, ok := p.str(o, key, required)
	if !ok {
		return ""
	}
	valid := len(s) <= 1024 && !strings.ContainsFunc(s, func(r rune) bool {
		return r != '_' && (r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r))
	})
	if !valid {
		p.errorf(n, o.at(key), "invalid dataset name %q (want letters, digits and _)", s)
	}
	return s
}

// validProject accepts project IDs (lower-case letters, digits, -) and
// domain-scoped ones (example.com:project).
func validProject(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '.' || r == ':')
	})
}

func (p *parser) report(n *yaml.Node, path string) (Report, bool) {
	var r Report
	o, ok := p.object(n, path, []string{"type", "to", "outbox"})
	if !ok {
		return r, false
	}
	r.Type, _ = p.enum(o, "type", "", "report type", []string{ReportAccounting})
	if addrs, items, ok := p.strings(o, "to", true); ok {
		for i, s := range addrs {
			if _, err := mail.ParseAddress(s); err != nil {
				p.errorf(items[i], index(o.at("to"), i), "invalid email address %q (%s)", s, strings.TrimPrefix(err.Error(), "mail: "))
				continue
			}
			r.To = append(r.To, s)
		}
	}
	r.Outbox = DefaultOutbox
	if s, _, ok := p.str(o, "outbox", false); ok {
		r.Outbox = s
	}
	return r, true
}

// oneOf formats options as "a, b or c".
func oneOf(options []string) string {
	switch len(options) {
	case 0:
		return "nothing"
	case 1:
		return options[0]
	}
	return strings.Join(options[:len(options)-1], ", ") + " or " + options[len(options)-1]
}

// suggest returns the known key that key is most likely a misspelling of,
// or "".
func suggest(key string, known []string) string {
	squash := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	best, bestDist := "", 3
	for _, k := range known {
		if squash(k) == squash(key) {
			return k
		}
		if d := distance(key, k); d < bestDist && d < len(key) {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
