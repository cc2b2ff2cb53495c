package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ledgerline/ledgerline/money"
)

// Figure is one figure a report states, by the name the message gives it.
type Figure struct {
	Name, Value string
}

// Figures returns the figures of t that a report states, in the order of
// its Summary: completeness, counts and the fee, then each currency, each
// fee basis and each product's subscriptions. Two reports with the same
// figures say the same thing to finance, so a delivery of equal figures is
// not sent again. CoveredBy and CoveredThrough are left out: a later run
// that read the month again changes them, not what the report says.
func Figures(t Totals) []Figure {
	var fs []Figure
	add := func(name, value string) { fs = append(fs, Figure{name, value}) }
	count := func(name string, n int64) { add(name, strconv.FormatInt(n, 10)) }
	complete := "NO, PROVISIONAL"
	if t.Complete {
		complete = "yes"
	}
	add("Data complete", complete)
	for _, f := range t.Fallbacks {
		add("Provisional because", f)
	}
	if n := t.Converted.Unconverted; n > 0 {
		add("Provisional because", unconvertedReason(n, t.Converted.Currency))
	}
	count("Orders", t.OrderRows)
	count("Test orders left out", t.TestOrders)
	count("Disputes opened", t.Disputes)
	add("Total chargeback fee", groupedAmount(t.ChargebackFees, t.FeeCurrency)+" "+t.FeeCurrency)
	count("Disputes with an estimated opening date", t.EstimatedDisputes)
	add("Their fees", groupedAmount(t.EstimatedFees, t.FeeCurrency)+" "+t.FeeCurrency)
	for _, c := range t.Currencies {
		am := func(name string, v money.Amount) {
			add(c.Currency+" "+name, groupedAmount(v, c.Currency)+" "+c.Currency)
		}
		count(c.Currency+" sales", c.Orders)
		am("gross", c.Gross)
		am("discounts", c.Discounts)
		count(c.Currency+" refunds", c.Refunds)
		for _, r := range []struct {
			name string
			v    Revenue
		}{{"gross sales", c.GrossSales}, {"refunds", c.Refunded}, {"after refunds", c.AfterRefunds()}} {
			am(r.name+" paid", r.v.Paid)
			am(r.name+" net", r.v.Net)
			am(r.name+" VAT", r.v.VAT)
			am(r.name+" 2Checkout commission", r.v.Commission)
			am(r.name+" affiliate commission", r.v.Affiliate)
		}
		count(c.Currency+" chargebacks", c.Disputes)
		am("disputed", c.Disputed)
		add(c.Currency+" chargeback fees", groupedAmount(c.Fees, t.FeeCurrency)+" "+t.FeeCurrency)
		count(c.Currency+" orders not converted", c.Unconverted)
		am("paid on orders not converted", c.UnconvertedPaid)
	}
	fs = append(fs, accountFigures(t)...)
	for _, b := range t.FeeBases {
		p := "Fee basis " + b.RateMonth + " "
		rate := "unknown"
		if b.Rate != nil {
			rate = percentText(*b.Rate)
		}
		add(p+"rate", rate)
		if b.HaveCounts {
			add(p+"disputes/transactions", fmt.Sprintf("%d/%d", b.Opened, b.Transactions))
		}
		add(p+"tier", b.Tier)
		add(p+"fee per dispute", groupedAmount(b.Fee, t.FeeCurrency)+" "+t.FeeCurrency)
		count(p+"disputes", b.Disputes)
		add(p+"rule", b.Rule)
	}
	snapshot := "none"
	if !t.Snapshot.IsZero() {
		snapshot = t.Snapshot.String()
	}
	add("Subscriptions as of", snapshot)
	for _, s := range t.Subscriptions {
		p := "Subscriptions " + s.ProductCode + " (" + s.ProductName + ") "
		count(p+"active", s.Active)
		count(p+"new", s.New)
		count(p+"expired", s.Expired)
		count(p+"auto-renewing", s.AutoRenewing)
		count(p+"units", s.Units)
	}
	return fs
}

// accountFigures are the figures of t in the account currency, this
// month's and the month before's.
func accountFigures(t Totals) []Figure {
	var fs []Figure
	month := func(p string, c AccountTotals) {
		am := func(name string, v money.Amount) {
			fs = append(fs, Figure{p + name, groupedAmount(v, c.Currency) + " " + c.Currency})
		}
		count := func(name string, n int64) { fs = append(fs, Figure{p + name, strconv.FormatInt(n, 10)}) }
		count("sales", c.Orders)
		am("gross", c.Gross)
		am("discounts", c.Discounts)
		count("refunds", c.Refunds)
		am("gross sales paid", c.GrossSales.Paid)
		am("refunds paid", c.Refunded.Paid)
		r := c.AfterRefunds()
		am("after refunds paid", r.Paid)
		am("after refunds net", r.Net)
		am("after refunds VAT", r.VAT)
		am("after refunds 2Checkout commission", r.Commission)
		am("after refunds affiliate commission", r.Affiliate)
		count("chargebacks", c.Disputes)
		am("chargeback fees", c.Fees)
		am("net payout", c.NetPayout())
		count("orders not converted", c.Unconverted)
	}
	c := t.Converted
	if c.Currency == "" {
		return nil
	}
	month("In "+c.Currency+" ", c)
	if pm := t.Previous; !pm.Month.IsZero() {
		fs = append(fs, Figure{"Previous month", pm.Month.String()})
		p := "In " + c.Currency + " " + MonthLabel(pm.Month) + " "
		if !pm.HasData {
			return append(fs, Figure{p + "figures", noPreviousData})
		}
		complete := "no"
		if pm.CoveredBy != "" {
			complete = "yes"
		}
		fs = append(fs, Figure{p + "data complete", complete})
		month(p, pm.Totals)
	}
	return fs
}

// EncodeFigures returns figures as JSON, [name, value] pairs in order, and
// its SHA-256 in hex: the digest a delivery is compared by.
func EncodeFigures(fs []Figure) (text, digest string) {
	pairs := make([][2]string, len(fs))
	for i, f := range fs {
		pairs[i] = [2]string{f.Name, f.Value}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		panic(err) // strings always marshal
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:])
}

// DecodeFigures parses the JSON of EncodeFigures.
func DecodeFigures(text string) ([]Figure, error) {
	var pairs [][2]string
	if err := json.Unmarshal([]byte(text), &pairs); err != nil {
		return nil, fmt.Errorf("reports: figures: %w", err)
	}
	fs := make([]Figure, len(pairs))
	for i, p := range pairs {
		fs[i] = Figure{p[0], p[1]}
	}
	return fs, nil
}

// Change is a figure that differs between two deliveries of a report;
// Old or New is empty for a figure only one of them states.
type Change struct {
	Name, Old, New string
}

// Changes returns the figures of cur that differ from prev, in cur's order,
// then those prev stated and cur does not.
func Changes(prev, cur []Figure) []Change {
	old := make(map[string]string, len(prev))
	for _, f := range prev {
		old[f.Name] = f.Value
	}
	var out []Change
	seen := make(map[string]bool, len(cur))
	for _, f := range cur {
		seen[f.Name] = true
		if v, ok := old[f.Name]; !ok || v != f.Value {
			out = append(out, Change{f.Name, v, f.Value})
		}
	}
	for _, f := range prev {
		if !seen[f.Name] {
			out = append(out, Change{f.Name, f.Value, ""})
		}
	}
	return out
}

// Revision says that a report revises one sent before: when, as which
// message, and which figures changed.
type Revision struct {
	SentAt    string // as the previous message's date, in the reporting zone
	MessageID string
	Changes   []Change
}
