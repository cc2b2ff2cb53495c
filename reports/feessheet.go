package reports

import (
	"fmt"

	"github.com/ledgerline/ledgerline/schemas"
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
	cbRule
	cbColumns
)

// A disputeColumn is a column of the Chargeback fees sheet: its header and
// width, and a dispute's value with its number format ("": unstyled).
type disputeColumn struct {
	header string
	width  float64
	value  func(c *schemas.Chargeback) (v any, format string, err error)
}

// plain is a value without a number format.
func plain(v any) (any, string, error) { return v, "", nil }

// disputeColumns are the Chargeback fees sheet's columns, in the order of
// the cb constants that the formulas refer to.
func disputeColumns() [cbColumns]disputeColumn {
	type ch = *schemas.Chargeback
	return [cbColumns]disputeColumn{
		cbRef:       {"Order reference", 14, func(c ch) (any, string, error) { return plain(c.RefNo) }},
		cbOrderDate: {"Order date", 12, func(c ch) (any, string, error) { return dateSerial(c.OrderDate), fmtDate, nil }},
		cbOpenedOn:  {"Opened on", 12, func(c ch) (any, string, error) { return dateSerial(c.OpenedOn), fmtDate, nil }},
		cbBasis:     {"Opened on basis", 14, func(c ch) (any, string, error) { return plain(c.OpenedOnBasis) }},
		cbReason: {"Reason code", 24, func(c ch) (any, string, error) {
			if c.ReasonCode == nil {
				return plain(nil)
			}
			return plain(*c.ReasonCode)
		}},
		cbResolution: {"Resolution", 12, func(c ch) (any, string, error) { return plain(c.Resolution) }},
		cbAmount: {"Order amount", 16, func(c ch) (any, string, error) {
			v, err := cellAmount(c.OrderAmount)
			return v, moneyFormat(c.Currency), err
		}},
		cbCurrency: {"Currency", 10, func(c ch) (any, string, error) { return plain(c.Currency) }},
		cbFee: {"Chargeback fee", 16, func(c ch) (any, string, error) {
			v, err := cellAmount(c.FeeAmount)
			return v, moneyFormat(c.FeeCurrency), err
		}},
		cbFeeCurrency: {"Fee currency", 10, func(c ch) (any, string, error) { return plain(c.FeeCurrency) }},
		cbRateMonth:   {"Rate month", 11, func(c ch) (any, string, error) { return plain(c.RateMonth) }},
		cbRate: {"Chargeback rate", 10, func(c ch) (any, string, error) {
			if c.Rate == nil {
				return plain(nil)
			}
			v, err := cellRate(*c.Rate)
			return v, fmtPercent, err
		}},
		cbRule: {"Fee rule", 70, func(c ch) (any, string, error) { return plain(c.FeeRule) }},
	}
}

// chargebackFees writes one row per dispute opened in the month and a total.
func (b *book) chargebackFees() error {
	cols := disputeColumns()
	names, widths := make([]string, cbColumns), make([]float64, cbColumns)
	for i, c := range cols {
		names[i], widths[i] = c.header, c.width
	}
	s, err := b.stream(SheetChargebackFees, widths, 1, 1)
	if err != nil {
		return err
	}
	hdr, err := b.headerRow(names...)
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
			if err == nil && format != "" {
				v, err = b.styled(kindPlain, format, v)
			}
			if err != nil {
				return fmt.Errorf("dispute %s %s: %w", c.RefNo, dc.header, err)
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
	total, err := b.formula(kindTotal, moneyFormat(fc), fmt.Sprintf("SUM(%s)", colRange(SheetChargebackFees, cbFee, 2, b.feesLast)), b.rep.Totals.ChargebackFees)
	if err != nil {
		return err
	}
	label, err := b.styled(kindTotal, "", labelTotalFee)
	if err != nil {
		return err
	}
	cur, err := b.styled(kindTotal, "", fc)
	if err != nil {
		return err
	}
	row := make([]any, cbColumns)
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
