package bigquery

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/schemas"
)

// literals returns the values of row, a pointer to t's row struct, as
// GoogleSQL literals in the order of t's columns: the INSERT of the run
// records writes them into the commit script, whose rows are too few to
// be worth a load job.
func literals(t schemas.Table, row any) ([]string, error) {
	v := reflect.ValueOf(row).Elem()
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		f := v.Field(c.Field)
		if c.Nullable {
			if f.IsNil() {
				out[i] = "NULL"
				continue
			}
			f = f.Elem()
		}
		s, err := literal(c.Type, f)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		out[i] = s
	}
	return out, nil
}

// rowLiteral returns row, a pointer to t's row struct whose literals
// are known to be valid, as a parenthesized list of literals.
func rowLiteral(t schemas.Table, row any) string {
	vals, err := literals(t, row)
	if err != nil {
		panic(fmt.Sprintf("bigquery: row checked before: %v", err))
	}
	return "(" + strings.Join(vals, ", ") + ")"
}

// literal returns the value f of a column of type typ as a literal.
func literal(typ schemas.Type, f reflect.Value) (string, error) {
	switch typ {
	case schemas.String:
		s := f.String()
		if !utf8.ValidString(s) {
			return "", errors.New("not valid UTF-8")
		}
		return quoteString(s), nil
	case schemas.Int64:
		return strconv.FormatInt(f.Int(), 10), nil
	case schemas.Bool:
		return strings.ToUpper(strconv.FormatBool(f.Bool())), nil
	case schemas.Decimal, schemas.Rate:
		n := f.Int()
		if n > maxUnits || n < -maxUnits {
			return "", fmt.Errorf("%d units out of range for DECIMAL(18,%d)", n, typ.Scale())
		}
		return "NUMERIC '" + decimalString(n, typ.Scale()) + "'", nil
	case schemas.Timestamp:
		ts := f.Interface().(time.Time).UTC()
		if ts.Year() < 1 || ts.Year() > 9999 {
			return "", fmt.Errorf("timestamp %v out of range", ts)
		}
		return "TIMESTAMP '" + ts.Format("2006-01-02 15:04:05.000000") + "+00'", nil
	case schemas.Date:
		d := f.Interface().(civil.Date)
		if !d.IsValid() || d.Year < 1 || d.Year > 9999 {
			return "", fmt.Errorf("invalid date %v", d)
		}
		return "DATE '" + d.String() + "'", nil
	}
	return "", fmt.Errorf("no literal for %v", typ)
}

// decimalString writes units of 10^-scale as a decimal number.
func decimalString(units int64, scale int32) string {
	sign := ""
	u := uint64(units)
	if units < 0 {
		sign, u = "-", uint64(-units)
	}
	digits := strconv.FormatUint(u, 10)
	if pad := int(scale) + 1 - len(digits); pad > 0 {
		digits = strings.Repeat("0", pad) + digits
	}
	cut := len(digits) - int(scale)
	return sign + digits[:cut] + "." + digits[cut:]
}

// quoteString quotes s as a GoogleSQL string literal: backslash, quotes
// and control characters escaped.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
