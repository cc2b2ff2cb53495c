package sandbox

import (
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract/dialect"
)

// subscriptionModified is when line k of s last changed as a search at now
// sees it: when it became searchable, its last renewal, its expiry once
// passed, its cancellation by a refund or reversal. Under
// ModifiedAfterMiss an expiry is not a modification, as when an account's
// API dates only the changes someone makes.
func (m *Merchant) subscriptionModified(s *sale, k int, now time.Time) time.Time {
	at := s.subscriptionVisibleAt()
	later := func(t time.Time) {
		if !t.IsZero() && !t.After(now) && t.After(at) {
			at = t
		}
	}
	if t, ok := m.subscriptionTerm(s, k, now); ok {
		later(t.last)
		if t.expired && !m.dialect.Has(dialect.ModifiedAfterMiss) {
			later(t.expires)
		}
	}
	later(s.ended)
	return at
}

// modifiedKey names a ModifiedAfter search: its purchase days, its
// ModifiedAfter day, and the minute of the clock it ran at.
type modifiedKey struct {
	from, to, after civil.Date
	minute          int64
}

// modifiedRef is one subscription a ModifiedAfter search found: line of
// the sale at index of its day's plan.
type modifiedRef struct {
	day   civil.Date
	index int
	line  int
}

// modifiedSubscriptions returns the subscriptions bought within [from, to]
// and searchable at now that were modified on or after the start of day
// after in the API zone. The list of the last search is kept, so that its
// pages do not each generate every subscription.
func (m *Merchant) modifiedSubscriptions(from, to, after civil.Date, now time.Time) []modifiedRef {
	key := modifiedKey{from, to, after, now.Unix() / 60}
	m.mu.Lock()
	if m.modified.key == key && m.modified.refs != nil {
		refs := m.modified.refs
		m.mu.Unlock()
		return refs
	}
	m.mu.Unlock()
	since := after.In(m.loc)
	refs := []modifiedRef{}
	for d := from; !d.After(to); d = d.AddDays(1) {
		for _, ref := range m.daySubscriptions(d, now) {
			if !m.subscriptionModified(ref.sale, ref.line, now).Before(since) {
				refs = append(refs, modifiedRef{d, ref.sale.index, ref.line})
			}
		}
	}
	m.mu.Lock()
	m.modified.key, m.modified.refs = key, refs
	m.mu.Unlock()
	return refs
}

// searchModifiedSubscriptions is searchSubscriptions with a ModifiedAfter
// filter.
func (m *Merchant) searchModifiedSubscriptions(from, to, after civil.Date, offset, limit int, now time.Time) (count int, items []wireSubscription) {
	from, to = m.clamp(from, to, now)
	refs := m.modifiedSubscriptions(from, to, after, now)
	for _, r := range refs[min(offset, len(refs)):min(offset+limit, len(refs))] {
		items = append(items, m.subscription(m.sale(m.plan(r.day), r.index), r.line, now))
	}
	return len(refs), items
}
