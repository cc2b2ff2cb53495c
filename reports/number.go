package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"golang.org/x/text/language"
	textmessage "golang.org/x/text/message"
)

// Exact numbers in cells.
//
// A numeric cell of an .xlsx file holds its value as decimal text, <v>1234.56</v>,
// which Excel and LibreOffice read into an IEEE double and show with at most
// 15 significant digits. excelize v2.11.0 writes a numeric cell only from a
// Go integer or float; it has no way to take decimal text (support for
// decimal types came later, in a version that does not resolve here).
//
// So amounts go into cells as follows, and nowhere else is a float64 made
// from money:
//   - a whole amount as an int64, which excelize writes with
//     strconv.FormatInt: exact;
//   - any other amount with at most 15 significant digits as the float64
//     nearest to it (units/10^6 in one correctly rounded division, or
//     strconv.ParseFloat of its text). excelize writes that float with
//     strconv.FormatFloat(v, 'f', -1, 64), the shortest decimal that reads
//     back as the same double. Two different decimals of at most 15
//     significant digits never share a nearest double, so that shortest
//     decimal is the amount's own text: the cell holds exactly the amount;
//   - an amount with more significant digits cannot be written exactly (nor
//     held by a spreadsheet): cellAmount returns an error.
//
// The float64 is only a carrier for the text excelize writes; no sum is
// computed with it. Totals are exact int64 sums in Go, written as the cached
// values of SUM formulas, and the reconciliation reads the written text back
// with money.Parse. TestCellAmountText holds the claim for edge cases and
// the reconciliation for every cell of a report.

// maxExactDigits is the number of significant decimal digits that survive a
// round trip through a double.
const maxExactDigits = 15

// exactCarrier bounds the units below which a value is exact in a float64
// and has at most 15 significant digits.
const exactCarrier = 1_000_000_000_000_000 // 10^15

// cellAmount returns the value to give excelize for a, which it writes as
// exactly a's decimal text.
func cellAmount(a money.Amount) (any, error) {
	return cellDecimal(a.Units(), money.Scale)
}

// cellRate returns the value to give excelize for r (a fraction: 0.0065 for
// 0.65%), which it writes as exactly r's decimal text.
func cellRate(r money.Rate) (any, error) {
	return cellDecimal(r.Units(), money.RateScale)
}

// cellDecimal returns the cell value of units × 10^-scale.
func cellDecimal(units int64, scale int) (any, error) {
	p := int64(1)
	for range scale {
		p *= 10
	}
	if units%p == 0 {
		return units / p, nil
	}
	if units > -exactCarrier && units < exactCarrier {
		// Both operands are exact doubles (|units| < 2^53, p ≤ 10^9), so the
		// quotient is the double nearest the decimal.
		return float64(units) / float64(p), nil
	}
	text := decimalText(units, scale)
	if n := significantDigits(text); n > maxExactDigits {
		return nil, fmt.Errorf("%s has %d significant digits; a spreadsheet cell holds %d exactly", text, n, maxExactDigits)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// decimalText formats units × 10^-scale with the fewest decimals that keep
// it exact: 1234.5, 30, -0.000001.
func decimalText(units int64, scale int) string {
	return trimDecimal(fixedText(units, scale))
}

// fixedText formats units × 10^-scale with exactly scale decimals.
func fixedText(units int64, scale int) string {
	neg := units < 0
	u := uint64(units)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// trimDecimal drops trailing fraction zeros and a trailing point.
func trimDecimal(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// significantDigits counts the significant digits of decimal text.
func significantDigits(s string) int {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	d = strings.TrimLeft(d, "0")
	if strings.IndexByte(s, '.') >= 0 {
		d = strings.TrimRight(d, "0")
	}
	return len(d)
}

// amountText formats a with at least the currency's minor-unit decimals and
// more only when the amount has them: 30.00 USD, 1500 JPY, 12.3456 USD.
func amountText(a money.Amount, currency string) string {
	s := decimalText(a.Units(), money.Scale)
	want := minorUnits(currency)
	dot := strings.IndexByte(s, '.')
	have := 0
	if dot >= 0 {
		have = len(s) - dot - 1
	}
	if have >= want {
		return s
	}
	if dot < 0 {
		s += "."
	}
	return s + strings.Repeat("0", want-have)
}

// FormatAmount formats a for people: thousands separators, at least the
// currency's minor-unit decimals and more only when a has them, and the
// currency: 1,750.00 USD, 8,901,134 JPY.
func FormatAmount(a money.Amount, currency string) string {
	return groupedAmount(a, currency) + " " + currency
}

// groupedAmount is amountText with thousands separators, for message bodies.
func groupedAmount(a money.Amount, currency string) string {
	s := amountText(a, currency)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	return sign + groupDigits(intPart) + frac
}

// groupedCount formats a count with thousands separators: 1,415.
func groupedCount(n int64) string { return textmessage.NewPrinter(language.English).Sprintf("%d", n) }

// groupDigits puts thousands separators into a string of digits.
func groupDigits(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dateSerial returns d as an Excel date serial: an integer, exact. Day 0
// is 1899-12-30 (Excel's 1900 leap-year bug makes serials from 1900-03-01
// on count from there).
func dateSerial(d civil.Date) int64 {
	return int64(d.DaysSince(civil.Date{Year: 1899, Month: time.December, Day: 30}))
}

// timeSerial returns t's wall clock in loc as an Excel date-time serial.
// Times are not money: a double carries them to well below a millisecond.
func timeSerial(t time.Time, loc *time.Location) float64 {
	t = t.In(loc)
	days := dateSerial(civil.DateOf(t))
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	return float64(days) + float64(sec)/86400
}
