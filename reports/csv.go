package reports

import (
	"encoding/csv"
	"io"

	"github.com/ledgerline/ledgerline/schemas"
)

// csvHeader returns the columns of the chargeback fees attachment.
func csvHeader() []string {
	return []string{"Order reference", "Order date", "Opened on", "Reason", "Resolution",
		"Order amount", "Order currency", "Chargeback fee", "Fee currency"}
}

// writeCSV writes "orders with chargeback fees balance.csv": one record per
// dispute opened in the month, RFC 4180 (CRLF line ends, quoting as
// needed), UTF-8. Dates are ISO 8601; amounts are exact decimals with at
// least their currency's minor-unit decimals.
func writeCSV(w io.Writer, disputes []schemas.Chargeback) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader()); err != nil {
		return err
	}
	for _, c := range disputes {
		reason := ""
		if c.ReasonCode != nil {
			reason = *c.ReasonCode
		}
		err := cw.Write([]string{
			c.RefNo, c.OrderDate.String(), c.OpenedOn.String(), reason, c.Resolution,
			amountText(c.OrderAmount, c.Currency), c.Currency,
			amountText(c.FeeAmount, c.FeeCurrency), c.FeeCurrency,
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
