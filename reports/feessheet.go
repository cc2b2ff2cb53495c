package reports

import (
	"fmt"
	"strings"

	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
	"github.com/ledgerline/ledgerline/transform"
	"github.com/xuri/excelize/v2"
)

// Columns of the Chargeback fees sheet.
const (
	cbRef = iota
	cbOrderDate
	cbOpenedOn
	cbBasis
	cbReason
	cbResolution
	cbAmount
	cbCurrency
	cbFee
	cbFeeCurrency
	cbRateMonth
	cbRate
	cbTier
	cbColumns
)

// A disputeColumn is a column of the Chargeback fees sheet: its header and
// width, and a dispute's value with its number format ("": unstyled). The
// values of a column whose header is hText are indented text (kindText).
type disputeColumn struct {
	header header
	width  float64
	value  func(c *schemas.Chargeback) (v any, format string, err error)
}

// plain is a value without a number format.
func plain(v any) (any, string, error) { return v, "", nil }

// basisLabel is the human name of an opened_on basis.
func basisLabel(basis string) string {
	switch basis {
	case transform.BasisOrderDate:
		return "estimated (order date)"
	case transform.BasisObserved:
		return "observed (run date)"
	}
	return basis
}

// numberFormat is moneyFormat without the currency's code, for an amount
// that a Currency column to its right names: 1,234.50 | USD, never
// 1,234.50 USDUSD.
func numberFormat(currency string) string {
	return strings.TrimSuffix(moneyFormat(currency), ` "`+currency+`"`)
}

// A tierKey is what sets a dispute's fee, as feeBases groups them.
type tierKey struct {
	rateMonth, rule string
	fee             money.Amount
}

// disputeColumns are the Chargeback fees sheet's columns, in the order of
// the cb constants that the formulas refer to. Each dispute's tier is the
// one its fee basis on the Summary states; the fee rule the warehouse
// records, the same long sentence for every dispute of a month, is said
// once, on the Summary.
func (b *book) disputeColumns() [cbColumns]disputeColumn {
	type ch = *schemas.Chargeback
	tiers := map[tierKey]string{}
	for _, fb := range b.rep.Totals.FeeBases {
		tiers[tierKey{fb.RateMonth, fb.Rule, fb.Fee}] = fb.Tier
	}
	return [cbColumns]disputeColumn{
		cbRef:       {header{name: "Order reference"}, 12, func(c ch) (any, string, error) { return plain(c.RefNo) }},
		cbOrderDate: {hNum("Order date"), 11, func(c ch) (any, string, error) { return dateSerial(c.OrderDate), fmtDate, nil }},
		cbOpenedOn:  {hNum("Opened on"), 11, func(c ch) (any, string, error) { return dateSerial(c.OpenedOn), fmtDate, nil }},
		cbBasis:     {hText("Opened on basis"), 22, func(c ch) (any, string, error) { return plain(basisLabel(c.OpenedOnBasis)) }},
		cbReason: {hText("Reason code"), 25, func(c ch) (any, string, error) {
			if c.ReasonCode == nil {
				return plain(nil)
			}
			return plain(*c.ReasonCode)
		}},
		cbResolution: {hText("Resolution"), 13, func(c ch) (any, string, error) { return plain(c.Resolution) }},
		cbAmount: {hNum("Order amount"), 13, func(c ch) (any, string, error) {
			v, err := cellAmount(c.OrderAmount)
			return v, numberFormat(c.Currency), err
		}},
		cbCurrency: {hText("Currency"), 11, func(c ch) (any, string, error) { return plain(c.Currency) }},
		cbFee: {hNum("Chargeback fee"), 12, func(c ch) (any, string, error) {
			v, err := cellAmount(c.FeeAmount)
			return v, numberFormat(c.FeeCurrency), err
		}},
		cbFeeCurrency: {hText("Fee currency"), 11, func(c ch) (any, string, error) { return plain(c.FeeCurrency) }},
		cbRateMonth:   {hText("Rate month"), 10, func(c ch) (any, string, error) { return plain(c.RateMonth) }},
		cbRate: {hNum("Chargeback rate"), 12, func(c ch) (any, string, error) {
			if c.Rate == nil {
				return plain(nil)
			}
			v, err := cellRate(*c.Rate)
			return v, fmtRate, err
		}},
		cbTier: {hText("Tier"), 16, func(c ch) (any, string, error) {
			return plain(tiers[tierKey{c.RateMonth, c.FeeRule, c.FeeAmount}])
		}},
	}
}

// chargebackFees writes one row per dispute opened in the month and a total.
func (b *book) chargebackFees() error {
	cols := b.disputeColumns()
	heads, widths := make([]header, cbColumns), make([]float64, cbColumns)
	for i, c := range cols {
		heads[i], widths[i] = c.header, c.width
	}
	s, err := b.stream(SheetChargebackFees, widths, 1, 1, 1)
	if err != nil {
		return err
	}
	hdr, err := b.headerCells(heads...)
	if err != nil {
		return err
	}
	if err := s.nextOpts(0, excelize.RowOpts{Height: 30}, hdr...); err != nil {
		return err
	}
	for i := range b.data.chargebacks {
		c := &b.data.chargebacks[i]
		cells := make([]any, cbColumns)
		for j, dc := range cols {
			v, format, err := dc.value(c)
			switch {
			case err != nil:
			case dc.header.kind == kindHeaderText && v != nil:
				v, err = b.styled(kindText, "", v)
			case format != "":
				v, err = b.styled(kindPlain, format, v)
			}
			if err != nil {
				return fmt.Errorf("dispute %s %s: %w", c.RefNo, dc.header.name, err)
			}
			cells[j] = v
		}
		if err := s.next(0, cells...); err != nil {
			return err
		}
	}
	return b.feesTotalRow(s)
}

// feesTotalRow writes the Chargeback fees sheet's total row, the filter,
// and flushes the sheet.
func (b *book) feesTotalRow(s *stream) error {
	fc := b.rep.Account.Currency
	if len(b.data.chargebacks) == 0 {
		if err := s.next(0, "No disputes opened in "+monthName(b.rep.Month)); err != nil {
			return err
		}
	}
	b.feesLast = s.row
	total, err := b.formula(kindTotal, numberFormat(fc), fmt.Sprintf("SUM(%s)", colRange(SheetChargebackFees, cbFee, 2, b.feesLast)), b.rep.Totals.ChargebackFees)
	if err != nil {
		return err
	}
	label, err := b.styled(kindTotal, "", labelTotalFee)
	if err != nil {
		return err
	}
	cur, err := b.styled(kindTotalText, "", fc)
	if err != nil {
		return err
	}
	blank, err := b.styled(kindTotal, "", nil)
	if err != nil {
		return err
	}
	row := make([]any, cbColumns)
	for i := range row {
		row[i] = blank
	}
	row[cbRef], row[cbFee], row[cbFeeCurrency] = label, total, cur
	if err := s.next(0, row...); err != nil {
		return err
	}
	b.feesTotal = s.row
	if err := b.f.AutoFilter(SheetChargebackFees, "A1:"+cellRef(cbColumns-1, b.feesLast), nil); err != nil {
		return err
	}
	return s.sw.Flush()
}
