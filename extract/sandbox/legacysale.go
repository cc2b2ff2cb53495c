package sandbox

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"golang.org/x/text/language"
)

// Rendering a sale as the legacy API's detail_sale shows it at a time.

// legacyTotals are a sale's amounts in the order currency's minor units.
type legacyTotals struct {
	exp     int
	rate    int64
	gross   int64 // before discount, tax included
	charged int64 // after discount
	fees    int64 // 2Checkout's fees
}

func (m *Merchant) legacyTotals(s *sale) legacyTotals {
	cur := &currencies[s.cur]
	var total amounts
	for _, l := range s.lines {
		total = total.plus(l.unit.times(l.qty))
	}
	return legacyTotals{
		exp:     cur.exp,
		rate:    legacyUSDRates[s.cur],
		gross:   total.gross,
		charged: total.grossDisc,
		fees:    roundDiv(total.grossDisc*490, 10000) + cur.fixedFee,
	}
}

// local formats v minor units of the order currency.
func (t legacyTotals) local(v int64) string { return fixedDecimal(v, t.exp) }

// usd formats v minor units of the order currency converted to US dollars,
// rounded half up to cents.
func (t legacyTotals) usd(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	den := int64(1_000_000)
	for range t.exp {
		den *= 10
	}
	c := roundDiv(v*t.rate*100, den)
	if neg {
		c = -c
	}
	return fixedDecimal(c, 2)
}

// fixedDecimal formats v minor units with exp decimal places, keeping trailing
// zeros: 1990 with 2 places is "19.90".
func fixedDecimal(v int64, exp int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func legacyFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// legacyRecurring reports whether any line of s renews automatically.
func (s *sale) legacyRecurring() bool {
	return slices.ContainsFunc(s.lines, func(l line) bool { return l.sub.recurring })
}

// legacyCustomerName is the name of s's customer, as its subscriptions show it.
func (m *Merchant) legacyCustomerName(s *sale) (first, last string) {
	h := mix(m.seed ^ mix(kindCustomer<<56^uint64(s.customer)))
	return firstNames[h%uint64(len(firstNames))], lastNames[(h>>16)%uint64(len(lastNames))]
}

// legacySale renders s as detail_sale shows it at now.
func (m *Merchant) legacySale(s *sale, now time.Time) legacySale {
	first, last := m.legacyCustomerName(s)
	date := s.placed.In(m.loc).Format(extract.DateLayout)
	inv := m.legacyInvoice(s, date, now)
	country := language.MustParseRegion(s.country)
	return legacySale{
		SaleID:     s.refNo(),
		DatePlaced: date,
		Customer: legacyCustomer{
			CustomerID:   strconv.FormatInt(s.customer, 10),
			FirstName:    first,
			LastName:     last,
			EmailAddress: strings.ToLower(first+"."+last) + strconv.FormatInt(s.customer%1000, 10) + "@example.com",
			CountryCode:  country.ISO3(),
			CountryCode2: country.String(),
		},
		Invoices: []legacyInvoice{inv},
	}
}

// legacyInvoice renders the invoice of s, placed at date, as detail_sale
// shows it at now: its lines, and a coupon line for a discount.
func (m *Merchant) legacyInvoice(s *sale, date string, now time.Time) legacyInvoice {
	t := m.legacyTotals(s)
	invoiceNo := int64(s.ref)*10 + 1
	invoiceID := strconv.FormatInt(invoiceNo, 10)
	status, lineStatus := legacyStatuses(s, now)
	inv := legacyInvoice{
		InvoiceID:     invoiceID,
		SaleID:        s.refNo(),
		DatePlaced:    date,
		Status:        status,
		Recurring:     legacyFlag(s.legacyRecurring()),
		CustomerTotal: t.local(t.charged),
		VendorTotal:   t.usd(t.charged),
		USDTotal:      t.usd(t.charged),
		Fees2CO:       t.usd(t.fees),
		Lineitems:     make([]legacyLineitem, 0, len(s.lines)+1),
	}
	if c := currencies[s.cur].code; c != legacyVendorCurrency {
		inv.CustCurrency = c
	}
	if s.extRef != 0 {
		ref := s.externalRef()
		inv.VendorOrderID = &ref
	}
	lineID := func() string { return strconv.FormatInt(invoiceNo*10+int64(len(inv.Lineitems))+1, 10) }
	for _, l := range s.lines {
		pid := strconv.Itoa(9_000_001 + legacyProductIndex(l.product))
		for range l.qty {
			inv.Lineitems = append(inv.Lineitems, legacyLineitem{
				LineitemID:      lineID(),
				InvoiceID:       invoiceID,
				SaleID:          s.refNo(),
				Type:            "product",
				Status:          lineStatus,
				ProductID:       &pid,
				VendorProductID: l.product.code,
				ProductName:     l.product.name,
				CustomerAmount:  t.local(l.unit.gross),
				VendorAmount:    t.usd(l.unit.gross),
				USDAmount:       t.usd(l.unit.gross),
			})
		}
	}
	if d := t.gross - t.charged; d != 0 {
		inv.Lineitems = append(inv.Lineitems, legacyLineitem{
			LineitemID:      lineID(),
			InvoiceID:       invoiceID,
			SaleID:          s.refNo(),
			Type:            "coupon",
			Status:          lineStatus,
			VendorProductID: "SAVE" + strconv.FormatInt(s.discountPct, 10),
			ProductName:     "Coupon: " + strconv.FormatInt(s.discountPct, 10) + "% off",
			CustomerAmount:  t.local(-d),
			VendorAmount:    t.usd(-d),
			USDAmount:       t.usd(-d),
		})
	}
	return inv
}

// legacyStatuses returns the statuses of the invoice of s and of its lines
// at now.
func legacyStatuses(s *sale, now time.Time) (invoice, line string) {
	invoice, line = "pending", "bill"
	switch st := s.state(now); st.status {
	case statusCanceled:
		invoice = "declined"
	case statusComplete, statusRefund, statusReversed:
		invoice = "approved"
		if !now.Before(s.finish.Add(legacyDepositDelay)) {
			invoice = "deposited"
		}
		if st.status != statusComplete {
			line = "refund"
		}
	}
	return invoice, line
}

func legacyProductIndex(p *product) int {
	for i := range products {
		if &products[i] == p {
			return i
		}
	}
	return -1
}
