package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ledgerline/ledgerline/extract"
)

// Narrow returns j restricted to the named accounts and streams, for a run
// of part of a job (etl run --account, --stream). Empty lists keep all of
// the job's. Each name must be one of the job's; stream names may be
// comma lists. Chargebacks need orders: they are computed from the orders
// of the window, so asking for chargebacks without orders is refused rather
// than reading the orders silently. The result keeps the job's order of
// accounts and the canonical order of streams.
func (j Job) Narrow(accounts, streams []string) (Job, error) {
	if len(accounts) > 0 {
		var keep []string
		for _, name := range accounts {
			if !slices.Contains(j.Accounts, name) {
				return Job{}, fmt.Errorf("job %s has no account %q%s", j.Name, name, hint(name, j.Accounts))
			}
		}
		for _, name := range j.Accounts {
			if slices.Contains(accounts, name) {
				keep = append(keep, name)
			}
		}
		j.Accounts = keep
	}
	if len(streams) > 0 {
		var want []string
		for _, list := range streams {
			for s := range strings.SplitSeq(list, ",") {
				s = strings.TrimSpace(s)
				switch {
				case !slices.Contains(AllStreams(), s):
					return Job{}, fmt.Errorf("unknown stream %q%s", s, hint(s, AllStreams()))
				case !slices.Contains(j.Streams, s):
					return Job{}, fmt.Errorf("job %s does not extract stream %s (its streams: %s)", j.Name, s, strings.Join(j.Streams, ", "))
				}
				want = append(want, s)
			}
		}
		if slices.Contains(want, StreamChargebacks) && !slices.Contains(want, extract.StreamOrders) {
			return Job{}, fmt.Errorf("--stream chargebacks needs --stream orders: chargebacks are computed from the orders of the window")
		}
		j.Streams = slices.DeleteFunc(slices.Clone(j.Streams), func(s string) bool { return !slices.Contains(want, s) })
	}
	return j, nil
}

// AllStreams returns every stream a job can extract, in canonical order.
func AllStreams() []string { return streams() }

// hint returns " (did you mean X?)" when name looks like a misspelling of
// one of known, else " (want A, B or C)".
func hint(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return fmt.Sprintf(" (want %s)", oneOf(known))
}
