package reports

import (
	"fmt"

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

// chargebackFees writes one row per dispute opened in the month and a total.
func (b *book) chargebackFees() error {
	fc := b.rep.Account.Currency
	s, err := b.stream(SheetChargebackFees, []float64{14, 12, 12, 14, 24, 12, 16, 10, 16, 10, 11, 10, 70}, 1, 1)
	if err != nil {
		return err
	}
	hdr, err := b.headerRow("Order reference", "Order date", "Opened on", "Opened on basis", "Reason code", "Resolution",
		"Order amount", "Currency", "Chargeback fee", "Fee currency", "Rate month", "Chargeback rate", "Fee rule")
	if err != nil {
		return err
	}
	if err := s.nextOpts(0, excelize.RowOpts{Height: 30}, hdr...); err != nil {
		return err
	}
	for _, c := range b.data.chargebacks {
		cells := make([]any, cbColumns)
		cells[cbRef] = c.RefNo
		var errs [5]error
		cells[cbOrderDate], errs[0] = b.styled(kindPlain, fmtDate, dateSerial(c.OrderDate))
		cells[cbOpenedOn], errs[1] = b.styled(kindPlain, fmtDate, dateSerial(c.OpenedOn))
		cells[cbBasis] = c.OpenedOnBasis
		if c.ReasonCode != nil {
			cells[cbReason] = *c.ReasonCode
		}
		cells[cbResolution] = c.Resolution
		cells[cbAmount], errs[2] = b.moneyCell(kindPlain, c.OrderAmount, c.Currency)
		cells[cbCurrency] = c.Currency
		cells[cbFee], errs[3] = b.moneyCell(kindPlain, c.FeeAmount, c.FeeCurrency)
		cells[cbFeeCurrency] = c.FeeCurrency
		cells[cbRateMonth] = c.RateMonth
		if c.Rate != nil {
			v, err := cellRate(*c.Rate)
			if err != nil {
				return fmt.Errorf("dispute %s rate: %w", c.RefNo, err)
			}
			cells[cbRate], errs[4] = b.styled(kindPlain, fmtPercent, v)
		}
		cells[cbRule] = c.FeeRule
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("dispute %s: %w", c.RefNo, err)
			}
		}
		if err := s.next(0, cells...); err != nil {
			return err
		}
	}
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
	label, err := b.styled(kindTotal, "", "Total chargeback fee")
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
