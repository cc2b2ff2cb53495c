package config

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/dialect"
	"github.com/ledgerline/ledgerline/extract/faults"
	"github.com/ledgerline/ledgerline/money"
	"gopkg.in/yaml.v3"
)

// Leaf values: each kind of scalar that is more than a string or an integer
// is read by a type implementing yaml.Unmarshaler. Secret is a field type
// of its own; the others are read into fields of the types consumers use
// (time.Duration, *time.Location, *big.Rat, money.Amount, civil.Date,
// faults.Spec) through the unexported types below, which leaf picks by
// the field's type. The decoder hands them only non-empty scalars, after
// environment variables are expanded; their errors never quote a secret.

// leaf returns the yaml.Unmarshaler that reads the addressable value v,
// or nil when v is not a leaf.
func leaf(v reflect.Value) yaml.Unmarshaler {
	switch p := v.Addr().Interface().(type) {
	case yaml.Unmarshaler:
		return p
	case *time.Duration:
		return (*duration)(p)
	case **time.Location:
		return timezone{p}
	case **big.Rat:
		return rate{p}
	case *money.Amount:
		return (*amount)(p)
	case *civil.Date:
		return (*date)(p)
	case *faults.Spec:
		return (*faultSpec)(p)
	case *dialect.Set:
		return (*dialectSet)(p)
	}
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	*s = Secret(n.Value)
	return nil
}

// duration is a Go duration: 500ms, 30s, 2m.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("want a duration such as 500ms, 30s or 2m, got %q", n.Value)
	}
	*d = duration(v)
	return nil
}

// timezone is an IANA time zone name. "Local" is refused: it would depend
// on the machine.
type timezone struct{ loc **time.Location }

func (z timezone) UnmarshalYAML(n *yaml.Node) error {
	const want = "want an IANA name such as UTC or Europe/Bucharest"
	if n.Value == "Local" {
		return errors.New(`time zone "Local" depends on the machine (` + want + ")")
	}
	loc, err := time.LoadLocation(n.Value)
	if err != nil {
		return fmt.Errorf("unknown time zone %q (%s)", n.Value, want)
	}
	*z.loc = loc
	return nil
}

// rate is an exact fraction from 0 to 1, written as a percentage ("0.65%")
// or a decimal fraction ("0.0065"); the fields that need it above 0 check
// that themselves.
type rate struct{ r **big.Rat }

func (r rate) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseFraction(n.Value)
	if err != nil {
		return err
	}
	*r.r = v
	return nil
}

// amount is an exact decimal amount of money, quoted or not.
type amount money.Amount

// An amount in exponent form, which package money reads, is refused: it
// is how a float is written, and money in a file is written in full.
func (a *amount) UnmarshalYAML(n *yaml.Node) error {
	var v money.Amount
	if err := v.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("want an amount such as 25.00: %w", err)
	}
	if strings.ContainsAny(n.Value, "eE") {
		return fmt.Errorf("amount %q is in exponent form (write it in full, such as 100 or 0.001)", n.Value)
	}
	*a = amount(v)
	return nil
}

// date is a civil date, 2025-01-01.
type date civil.Date

func (d *date) UnmarshalYAML(n *yaml.Node) error {
	v, err := civil.ParseDate(n.Value)
	if err != nil {
		return fmt.Errorf("want a date such as 2025-01-01, got %q", n.Value)
	}
	*d = date(v)
	return nil
}

// faultSpec is a sandbox fault specification.
type faultSpec faults.Spec

func (f *faultSpec) UnmarshalYAML(n *yaml.Node) error {
	v, err := faults.Parse(n.Value)
	if err != nil {
		return err
	}
	*f = faultSpec(v)
	return nil
}

// dialectSet is a comma-separated list of sandbox dialects.
type dialectSet dialect.Set

func (d *dialectSet) UnmarshalYAML(n *yaml.Node) error {
	v, err := dialect.Parse(n.Value)
	if err != nil {
		return err
	}
	*d = dialectSet(v)
	return nil
}

// parseRate parses a rate above 0 and at most 1 (see parseFraction).
func parseRate(s string) (*big.Rat, error) {
	r, err := parseFraction(s)
	if err != nil {
		return nil, err
	}
	if r.Sign() == 0 {
		return nil, fmt.Errorf("rate %s is out of range (want above 0 and at most 100%%)", s)
	}
	return r, nil
}

// parseFraction parses a fraction from 0 to 1 written as a percentage
// ("0.65%") or a decimal ("0.0065") exactly, without passing through a
// binary float.
func parseFraction(s string) (*big.Rat, error) {
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
	if r.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, fmt.Errorf("rate %s is out of range (want at most 100%%)", s)
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
