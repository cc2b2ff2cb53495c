package preflight

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/progress"
)

// record is a raw API record: its keys, each value undecoded, so that a
// key present with null is told from a key missing and no number is read
// as a float.
type record = map[string]json.RawMessage

// page is one decoded search page.
type page struct {
	items []record
	count int
	bare  bool // the body was a bare array, not {Items, Pagination}
}

func decodePage(body []byte) (page, error) {
	var p page
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '[' {
		p.bare = true
		err := json.Unmarshal(b, &p.items)
		p.count = len(p.items)
		return p, err
	}
	var res struct {
		Items      []record `json:"Items"`
		Pagination struct {
			Count int `json:"Count"`
		} `json:"Pagination"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return p, fmt.Errorf("decoding response: %w", err)
	}
	p.items, p.count = res.Items, res.Pagination.Count
	return p, nil
}

// orders reads page n of the order search from..to with limit.
func (k *checker) orders(ctx context.Context, from, to civil.Date, limit, n int) (page, error) {
	q := url.Values{"StartDate": {from.String()}, "EndDate": {to.String()}, "IncludeTestOrders": {"YES"},
		"Limit": {strconv.Itoa(limit)}, "Page": {strconv.Itoa(n)}}
	body, err := k.get(ctx, "orders/", q)
	if err != nil {
		return page{}, err
	}
	p, err := decodePage(body)
	if err != nil {
		return p, fmt.Errorf("GET /orders/ %s..%s page %d: %w", from, to, n, err)
	}
	return p, nil
}

// probeLimit is the small page size the Count check asks for.
const probeLimit = 10

// sampleLimit and samplePages bound the read of the checked day.
const (
	sampleLimit = 200
	samplePages = 5
)

// day is the recent day the date checks use: the counts with EndDate the
// day (same) and the day after (next), and the first small page of the
// search that found its orders.
type day struct {
	d          civil.Date
	found      bool
	same, next int
	to         civil.Date // the EndDate of the search that found the orders
	probe      page
}

// findDay searches back from yesterday for a day with orders, asking for
// each EndDate = D and EndDate = D+1, and then reads that day's orders.
func (k *checker) findDay(ctx context.Context) (day, []record, error) {
	y := k.yesterday()
	for i := range k.daysBack() {
		dd := day{d: y.AddDays(-i)}
		same, err := k.orders(ctx, dd.d, dd.d, probeLimit, 1)
		if err != nil {
			return dd, nil, err
		}
		next, err := k.orders(ctx, dd.d, dd.d.AddDays(1), probeLimit, 1)
		if err != nil {
			return dd, nil, err
		}
		dd.same, dd.next = len(same.items), len(next.items)
		if dd.same == 0 && dd.next == 0 {
			continue
		}
		dd.found, dd.to, dd.probe = true, dd.d, same
		if dd.same == 0 {
			dd.to, dd.probe = dd.d.AddDays(1), next
		}
		// The counts are totals only if Count is; they are compared as
		// found or not.
		dd.same, dd.next = max(dd.same, same.count), max(dd.next, next.count)
		var sample []record
		for n := 1; n <= samplePages; n++ {
			p, err := k.orders(ctx, dd.d, dd.to, sampleLimit, n)
			if err != nil {
				return dd, sample, err
			}
			sample = append(sample, p.items...)
			if len(p.items) < sampleLimit {
				break
			}
		}
		k.paging(dd, sample)
		return dd, sample, nil
	}
	return day{d: y.AddDays(-k.daysBack() + 1)}, nil, nil
}

// dates reports EndDate's inclusiveness, the date the filter compares and
// the zone its days are in.
func (k *checker) dates(dd day, sample []record) {
	if dd.same > 0 {
		k.add(CheckEndDate, OK, fmt.Sprintf("inclusive: StartDate=EndDate=%s found orders (%d), EndDate=%s %d", dd.d, dd.same, dd.d.AddDays(1), dd.next), "")
	} else {
		k.add(CheckEndDate, Warn, fmt.Sprintf("exclusive: StartDate=EndDate=%s found nothing, EndDate=%s found %d", dd.d, dd.d.AddDays(1), dd.next),
			"a request with StartDate=EndDate reads nothing: the job's day requests must reach into the next day (this version finds that out at each run and then does); report it if a run reads no orders")
	}
	zone := k.cfg.Zone
	var placed []time.Time
	var before, finishedOn int
	for _, o := range sample {
		t, err := time.ParseInLocation(extract.DateLayout, str(o["OrderDate"]), zone)
		if err != nil {
			continue
		}
		placed = append(placed, t)
		if civil.DateOf(t).Before(dd.d) {
			before++
			if f, err := time.ParseInLocation(extract.DateLayout, str(o["FinishDate"]), zone); err == nil && civil.DateOf(f) == dd.d {
				finishedOn++
			}
		}
	}
	if before > 0 && finishedOn == before {
		k.add(CheckDateFilter, Warn, fmt.Sprintf("FinishDate: %d of %d orders of %s were placed before it and finished on it", before, len(placed), dd.d),
			"the search filters FinishDate, not OrderDate: orders placed late on a day arrive with a later day's search; the job assigns them by OrderDate, so keep lookback_days at 2 or more")
	} else {
		k.add(CheckDateFilter, OK, fmt.Sprintf("OrderDate (%s of %s read)", progress.Plural(int64(len(placed)), "order"), dd.d), "")
		k.zone(dd.d, placed)
	}
}

// zoneOK records the zone as fitting, unless a check found otherwise.
func (k *checker) zoneOK(d civil.Date, n int) {
	if _, ok := k.rep.Finding(CheckTimezone); !ok && n > 0 {
		k.add(CheckTimezone, OK, fmt.Sprintf("every OrderDate of %s falls on it in %s (%d of %d), none after the server's clock", d, k.cfg.Zone, n, n), "")
	}
}

// newest reports the zone the API writes dates in, from today's newest
// OrderDate: read in the right zone it is a little before the server's
// clock, never after it. In a zone with daylight saving the configured
// fixed zone is an hour off in summer, and this tells them apart when the
// days cannot (the filter and the dates share the API's zone).
func (k *checker) newest(ctx context.Context) {
	last, server, ok := k.newestOrderDate(ctx)
	if !ok {
		return
	}
	ahead := func(loc *time.Location) time.Duration { return last.In(loc).Sub(server) }
	if ahead(k.cfg.Zone) <= WarnSkew {
		return
	}
	best := ""
	for _, name := range k.zones() {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		if a := ahead(loc); a <= WarnSkew && (best == "" || a > ahead(mustZone(best))) {
			best = name
		}
	}
	k.add(CheckTimezone, Warn, fmt.Sprintf("the newest OrderDate %s is %s ahead of the server's clock read in %s; best fit %s",
		last, ahead(k.cfg.Zone).Round(time.Minute), k.cfg.Zone, cmp.Or(best, "none of "+strings.Join(k.zones(), ", "))),
		fmt.Sprintf("the API writes dates in another zone than %s: set source_timezone to the zone of the account's API settings (best fit here: %s); with daylight saving, orders near midnight move by an hour in summer", k.cfg.Zone, cmp.Or(best, "unknown")))
}

// newestOrderDate returns the newest OrderDate of today's orders, today in
// the configured zone, and the server's clock at the last page read. The
// search lists orders oldest first, so it reads today's pages (EndDate
// tomorrow: an exclusive EndDate still reads today) up to samplePages.
func (k *checker) newestOrderDate(ctx context.Context) (last civil.DateTime, server time.Time, ok bool) {
	today := civil.DateOf(k.cfg.Now().In(k.cfg.Zone))
	for n := 1; n <= samplePages; n++ {
		p, err := k.orders(ctx, today, today.AddDays(1), sampleLimit, n)
		if err != nil {
			return civil.DateTime{}, time.Time{}, false
		}
		for _, o := range p.items {
			if t, err := time.Parse(extract.DateLayout, str(o["OrderDate"])); err == nil && last.Before(civil.DateTimeOf(t)) {
				last = civil.DateTimeOf(t)
			}
		}
		if len(p.items) < sampleLimit {
			break
		}
	}
	xs := k.rec.exchanges()
	if last.IsZero() || len(xs) == 0 {
		return civil.DateTime{}, time.Time{}, false
	}
	server, ok = serverTime(xs[len(xs)-1])
	return last, server, ok
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// zone reports which zone's day the filter's day is, from the share of
// the day's OrderDates, read in the configured zone, that fall on it in
// each candidate zone.
func (k *checker) zone(d civil.Date, placed []time.Time) {
	if len(placed) == 0 {
		return
	}
	inDay := func(loc *time.Location) int {
		n := 0
		for _, t := range placed {
			if civil.DateOf(t.In(loc)) == d {
				n++
			}
		}
		return n
	}
	configured := k.cfg.Zone.String()
	have := inDay(k.cfg.Zone)
	if have == len(placed) {
		return
	}
	best, bestN := configured, have
	for _, name := range k.zones() {
		loc, err := time.LoadLocation(name)
		if err != nil || name == configured {
			continue
		}
		if n := inDay(loc); n > bestN {
			best, bestN = name, n
		}
	}
	k.add(CheckTimezone, Warn, fmt.Sprintf("%d of %d OrderDates of %s fall outside it in %s; best fit %s (%d of %d)", len(placed)-have, len(placed), d, configured, best, bestN, len(placed)),
		fmt.Sprintf("the API's days are not %s's: set source_timezone to the zone of the account's API settings (best fit here: %s); with daylight saving, orders near midnight move by an hour in summer", configured, best))
}

func (k *checker) zones() []string {
	if k.cfg.Zones != nil {
		return k.cfg.Zones
	}
	return CandidateZones
}

// count reports whether Pagination.Count is the search's total: it reads
// two small pages of the day's search and compares.
func (k *checker) count(ctx context.Context, dd day) {
	p1 := dd.probe
	p2, err := k.orders(ctx, dd.d, dd.to, probeLimit, 2)
	if err != nil {
		k.add(CheckCount, Warn, "reading page 2: "+err.Error(), "")
		return
	}
	read := len(p1.items) + len(p2.items)
	switch {
	case p1.count > len(p1.items) || (p1.count == read && len(p2.items) == 0):
		k.add(CheckCount, OK, fmt.Sprintf("a total: Count %d with Limit %d (%d read over 2 pages)", p1.count, probeLimit, read), "")
	case p1.count < read:
		k.add(CheckCount, Warn, fmt.Sprintf("the page size: Count %d with Limit %d, but %d read over 2 pages", p1.count, probeLimit, read),
			"Count is not the total: the job pages until a short page, so nothing is lost; do not read Count as the number of orders")
	default:
		k.add(CheckCount, OK, fmt.Sprintf("Count %d with Limit %d (%d read over 2 pages)", p1.count, probeLimit, read), "")
	}
}

// str is a JSON string value, or "" for anything else.
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// OrderFields and SubscriptionFields are the fields the tables depend on,
// by path; "Items[]." looks inside every line of an order.
var (
	OrderFields = []string{"RefNo", "OrderNo", "Status", "OrderDate", "FinishDate", "Currency",
		"BillingDetails.CountryCode", "DeliveryDetails.CountryCode", "PaymentDetails.Type", "FxRate", "PayoutCurrency",
		"NetPrice", "GrossPrice", "VAT", "AvangateCommission", "ChargebackResolution", "ChargebackReasonCode",
		"Items", "Items[].Price.NetPrice", "Items[].LineItemReference"}
	SubscriptionFields = []string{"SubscriptionReference", "StartDate", "ExpirationDate", "NextBillingDate",
		"RecurringEnabled", "SubscriptionEnabled", "Product.ProductCode", "EndUser"}
)

// has reports whether r carries path; for "Items[]." every line must.
func has(r record, path string) bool {
	head, rest, nested := strings.Cut(path, ".")
	if list, ok := strings.CutSuffix(head, "[]"); ok {
		var items []record
		if json.Unmarshal(r[list], &items) != nil || len(items) == 0 {
			return false
		}
		for _, it := range items {
			if !has(it, rest) {
				return false
			}
		}
		return true
	}
	raw, ok := r[head]
	if !ok || !nested {
		return ok
	}
	var sub record
	if json.Unmarshal(raw, &sub) != nil || sub == nil {
		return false
	}
	return has(sub, rest)
}

func (k *checker) cover(stream string, fields []string, sample []record) {
	for _, f := range fields {
		c := Coverage{Stream: stream, Field: f, Of: len(sample)}
		for _, r := range sample {
			if has(r, f) {
				c.Have++
			}
		}
		k.rep.Coverage = append(k.rep.Coverage, c)
	}
}

// ChargebackAdvice is the fix for orders without ChargebackResolution.
const ChargebackAdvice = "give the API user the permission to read chargeback data, or set chargebacks: unavailable on the account to run without disputes (reports then say that fees are not computed)"

func (k *checker) coverOrders(sample []record) {
	k.cover(extract.StreamOrders, OrderFields, sample)
	if len(sample) == 0 {
		return
	}
	n := 0
	for _, o := range sample {
		if has(o, "ChargebackResolution") {
			n++
		}
	}
	if n == 0 {
		k.add(CheckChargebacks, Fail, fmt.Sprintf("none of %d orders carries ChargebackResolution", len(sample)), ChargebackAdvice)
		return
	}
	k.add(CheckChargebacks, OK, fmt.Sprintf("ChargebackResolution on %d of %d orders", n, len(sample)), "")
}

// subscriptions reads one small page of the subscription search.
func (k *checker) subscriptions(ctx context.Context) {
	body, err := k.get(ctx, "subscriptions/", url.Values{"Limit": {strconv.Itoa(probeLimit)}, "Page": {"1"}})
	var p page
	if err == nil {
		p, err = decodePage(body)
	}
	if err != nil {
		var apiErr *extract.APIError
		if errors.As(err, &apiErr) {
			err = apiErr
		}
		k.add(CheckSubscriptions, Fail, "GET /subscriptions/: "+err.Error(), "the API user needs the permission to read subscriptions")
		return
	}
	k.cover(extract.StreamSubscriptions, SubscriptionFields, p.items)
	if p.bare {
		k.add(CheckSubscriptions, Warn, fmt.Sprintf("a bare array of %s, without Items and Pagination", progress.Plural(int64(len(p.items)), "subscription")),
			"this version reads a bare array and pages it until a short page (there is no Count to check it against); an older one that expected {Items, Pagination} fails here")
		return
	}
	k.add(CheckSubscriptions, OK, fmt.Sprintf("{Items, Pagination} (%d on the first page)", len(p.items)), "")
}

// paging reports a RefNo read twice while the day was paged, with another
// Status the second time: orders move in the search while it is paged.
func (k *checker) paging(dd day, sample []record) {
	status := make(map[string]string, len(sample))
	twice, changed := 0, 0
	for _, o := range sample {
		ref, st := str(o["RefNo"]), str(o["Status"])
		if old, ok := status[ref]; ok {
			twice++
			if old != st {
				changed++
			}
		}
		status[ref] = st
	}
	if twice == 0 {
		return
	}
	k.add(CheckPaging, Warn, fmt.Sprintf("%d RefNos of %s..%s came back on two pages, %d with another Status", twice, dd.d, dd.to, changed),
		"orders move in the search while it is paged: the job de-duplicates by RefNo and reads a search again until it settles; keep max_passes at its default")
}
