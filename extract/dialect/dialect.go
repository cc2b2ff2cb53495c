// Package dialect names the real-world variations of the 2Checkout API that
// the sandbox merchant can switch on, one at a time or together: the ways a
// real account was seen, or may be expected, to differ from the documented
// default. It is a leaf package, free of the sandbox and of HTTP, so that
// configuration and the CLI can parse dialect names without importing the
// sandbox.
package dialect

import (
	"fmt"
	"slices"
	"strings"
)

// Names of the dialects.
const (
	// NoChargebackFields: orders carry no ChargebackResolution and no
	// ChargebackReasonCode, as in every recorded REST order response.
	NoChargebackFields = "no-chargeback-fields"
	// EndDateExclusive: the order search's EndDate is exclusive, the days
	// [StartDate, EndDate), so StartDate = EndDate finds nothing; without
	// EndDate the search runs through today, inclusive.
	EndDateExclusive = "enddate-exclusive"
	// FinishDateFilter: StartDate/EndDate compare the date of FinishDate
	// in the API zone (OrderDate for an order not yet finished), not
	// OrderDate; results are ordered by that date, then as by default. An
	// order placed late on a day is found by the next day's search.
	FinishDateFilter = "finishdate-filter"
	// CountIsPageSize: Pagination.Count is the number of items on the page,
	// not the total, for orders and subscriptions.
	CountIsPageSize = "count-is-page-size"
	// SubscriptionsBareArray: the subscription search returns a bare JSON
	// array of the page's subscriptions, with no Items and no Pagination
	// (still paged by Page and Limit).
	SubscriptionsBareArray = "subscriptions-bare-array"
	// REST201: REST reads (GET orders/, GET subscriptions/) answer 201
	// Created instead of 200 OK, with the same body.
	REST201 = "rest-201"
	// DSTTimezone: the account's API time zone is Europe/Bucharest, with
	// daylight saving time, instead of the fixed GMT+02:00.
	DSTTimezone = "dst-timezone"
	// RefNoStatusChange: an order changes status while a search is paged,
	// and moves, so that the same RefNo comes back on a later page with
	// another Status (and an order the move shifts is missed on that pass).
	// In the sandbox, for a search of two pages or more: the result at
	// index 1 is on page 1 as by default; pages from 2 on list the results
	// without it, and it last, with another Status (REFUND if COMPLETE,
	// else COMPLETE). So the default's first result of page 2 is missed by
	// that pass; Count is the default's. The change then has happened:
	// later passes of the same search list the default's results, that one
	// in its place with its new Status.
	RefNoStatusChange = "refno-status-change"
	// ModifiedAfterMiss: the subscription search's ModifiedAfter filter
	// misses some changed subscriptions.
	ModifiedAfterMiss = "modifiedafter-miss"
)

// DSTLocation is the API time zone of the DSTTimezone dialect.
const DSTLocation = "Europe/Bucharest"

// Names lists every dialect, in the order the documentation gives them.
func Names() []string {
	return []string{NoChargebackFields, EndDateExclusive, FinishDateFilter, CountIsPageSize,
		SubscriptionsBareArray, REST201, DSTTimezone, RefNoStatusChange, ModifiedAfterMiss}
}

// Set is a set of dialects; the zero value is the default shape, with no
// variation switched on. Sets are comparable with ==.
type Set struct {
	list string // the names, sorted, distinct, comma-separated
}

// Parse reads a comma-separated list of dialect names; an empty string is
// the default (no dialect). Unknown names are an error that lists the
// known ones.
func Parse(s string) (Set, error) {
	var names []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "default" {
			continue
		}
		if !slices.Contains(Names(), f) {
			return Set{}, fmt.Errorf("unknown dialect %q; known: %s", f, strings.Join(Names(), ", "))
		}
		if !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	slices.Sort(names)
	return Set{list: strings.Join(names, ",")}, nil
}

// Of returns the set of the given names, which must be known.
func Of(names ...string) Set {
	s, err := Parse(strings.Join(names, ","))
	if err != nil {
		panic(err)
	}
	return s
}

// Has reports whether the dialect name is in s.
func (s Set) Has(name string) bool { return slices.Contains(s.Names(), name) }

// Zero reports whether s is the default shape.
func (s Set) Zero() bool { return s.list == "" }

// Names returns the dialects of s, sorted.
func (s Set) Names() []string {
	if s.list == "" {
		return nil
	}
	return strings.Split(s.list, ",")
}

// String returns s as Parse reads it; "default" for the zero Set.
func (s Set) String() string {
	if s.Zero() {
		return "default"
	}
	return s.list
}
