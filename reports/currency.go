package reports

import (
	"strings"
)

// minorUnits returns the number of decimals of currency's minor unit (ISO
// 4217): 2 unless listed otherwise. Precious metals and other codes without
// a minor unit are shown with 2.
func minorUnits(currency string) int {
	switch currency {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}

// moneyFormat returns the number format of amounts in currency, with the
// currency named: #,##0.00 "USD", #,##0 "JPY".
func moneyFormat(currency string) string {
	n := "#,##0"
	if d := minorUnits(currency); d > 0 {
		n += "." + strings.Repeat("0", d)
	}
	// A currency code is three letters (validated on load), so it needs no
	// escaping inside the quotes.
	return n + ` "` + currency + `"`
}
