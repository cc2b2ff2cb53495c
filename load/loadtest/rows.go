package loadtest

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/schemas"
)

// Rows returns n deterministic rows of t for partition date, as pointers to
// t's row struct. Key columns are unique within the partition; other
// columns cycle through edge values: NULLs (row 0 is all NULL, row 1 has no
// NULL), the extremes of DECIMAL(18,6) and INT64, negative amounts,
// timestamps on both sides of midnight and of the epoch, timestamps given in
// a non-UTC zone, and non-ASCII strings. A different variant gives different
// values with the same keys.
func Rows(t schemas.Table, date civil.Date, n, variant int) []any {
	keys := make(map[string]bool)
	for _, k := range t.Key {
		keys[k] = true
	}
	rows := make([]any, n)
	for i := range n {
		p := reflect.New(t.Row)
		v := p.Elem()
		for j, c := range t.Columns {
			f := v.Field(c.Field)
			k := i + j + variant // which edge value this cell takes
			if c.Nullable {
				if i == 0 || (i > 1 && k%5 == 0) {
					continue
				}
				e := reflect.New(f.Type().Elem())
				f.Set(e)
				f = e.Elem()
			}
			switch {
			case c.Name == t.Partition:
				f.Set(reflect.ValueOf(date))
			case keys[c.Name] && c.Type == schemas.String:
				f.SetString(fmt.Sprintf("%s-%06d", strings.ToUpper(c.Name), i))
			case keys[c.Name] && c.Type == schemas.Int64:
				f.SetInt(int64(i + 1))
			case keys[c.Name] && c.Type == schemas.Date:
				f.Set(reflect.ValueOf(date.AddDays(-i)))
			case keys[c.Name]:
				panic(fmt.Sprintf("loadtest: no key values for %v column %s", c.Type, c.Name))
			default:
				if i == 1 {
					k = 1 // row 1 takes the extreme values
				}
				setValue(f, c.Type, k, date)
			}
		}
		rows[i] = p.Interface()
	}
	return rows
}

var (
	strs = []string{"COMPLETE", "", "Grüße, 世界 — \"quoted\", comma\nnewline", "x", "EUR"}
	ints = []int64{0, math.MaxInt64, math.MinInt64, -1, 42, 1 << 40}
	// The extremes of DECIMAL(18,6) come first so that row 1 has them.
	amounts = []money.Amount{
		money.MustParse("999999999999.999999"),
		money.MustParse("-999999999999.999999"),
		money.MustParse("0"),
		money.MustParse("0.000001"),
		money.MustParse("-0.000001"),
		money.MustParse("49.99"),
		money.MustParse("-12.5"),
		money.MustParse("123456.78"),
		money.MustParse("0.1"),
	}
	// Rates: the extremes of DECIMAL(18,9), the 0.65% threshold, a
	// third rounded.
	rates = []int64{999_999_999_999_999_999, -999_999_999_999_999_999, 0, 6_500_000, 333_333_333, 1, 1_000_000_000}
	plus2 = time.FixedZone("UTC+2", 2*60*60)
)

func setValue(f reflect.Value, typ schemas.Type, k int, date civil.Date) {
	switch typ {
	case schemas.String:
		f.SetString(strs[k%len(strs)])
	case schemas.Int64:
		f.SetInt(ints[k%len(ints)])
	case schemas.Bool:
		f.SetBool(k%2 == 1)
	case schemas.Decimal:
		a := amounts[k%len(amounts)]
		if k%len(amounts) > 1 {
			// Vary the ordinary amounts; keep the extremes.
			a = money.FromUnits(a.Units() + int64(k/len(amounts))*10_007)
		}
		f.SetInt(a.Units())
	case schemas.Rate:
		f.SetInt(rates[k%len(rates)])
	case schemas.Timestamp:
		day := date.In(time.UTC)
		ts := []time.Time{
			day.Add(-time.Microsecond), // 23:59:59.999999 the day before
			day,
			time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
			day.Add(36*time.Hour + 123456*time.Microsecond).In(plus2),
			time.Date(2038, 1, 19, 3, 14, 8, 1000, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		}
		f.Set(reflect.ValueOf(ts[k%len(ts)]))
	case schemas.Date:
		ds := []civil.Date{
			date,
			{Year: 1, Month: 1, Day: 1},
			{Year: 9999, Month: 12, Day: 31},
			{Year: 1969, Month: 12, Day: 31},
			{Year: 2024, Month: 2, Day: 29},
			{Year: 1970, Month: 1, Day: 1},
		}
		f.Set(reflect.ValueOf(ds[k%len(ds)]))
	default:
		panic(fmt.Sprintf("loadtest: no values for %v", typ))
	}
}

// SortByKey sorts rows of t by t's key columns, and rows with equal keys
// by all their columns.
func SortByKey(t schemas.Table, rows []any) {
	slices.SortStableFunc(rows, func(a, b any) int {
		if c := strings.Compare(keyOf(t, a), keyOf(t, b)); c != 0 {
			return c
		}
		return strings.Compare(rowString(t, a), rowString(t, b))
	})
}

// rowString formats every column of row, timestamps as UTC instants.
func rowString(t schemas.Table, row any) string {
	v := reflect.ValueOf(row).Elem()
	var b strings.Builder
	for _, c := range t.Columns {
		b.WriteString(format(v.Field(c.Field)))
		b.WriteByte(0)
	}
	return b.String()
}

func keyOf(t schemas.Table, row any) string {
	v := reflect.ValueOf(row).Elem()
	var b strings.Builder
	for _, k := range t.Key {
		c, _ := t.Column(k)
		fmt.Fprintf(&b, "%v\x00", v.Field(c.Field).Interface())
	}
	return b.String()
}

// Diff returns a description of the first difference between rows of t
// want and got, compared in key order, or "" if they hold the same rows.
// Timestamps compare as instants.
func Diff(t schemas.Table, want, got []any) string {
	want, got = slices.Clone(want), slices.Clone(got)
	SortByKey(t, want)
	SortByKey(t, got)
	for i := range min(len(want), len(got)) {
		w, g := reflect.ValueOf(want[i]).Elem(), reflect.ValueOf(got[i]).Elem()
		for _, c := range t.Columns {
			wf, gf := w.Field(c.Field), g.Field(c.Field)
			if !equalValue(wf, gf) {
				return fmt.Sprintf("row %d (key %q) column %s: got %s, want %s",
					i, keyOf(t, want[i]), c.Name, format(gf), format(wf))
			}
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("got %d rows, want %d", len(got), len(want))
	}
	return ""
}

func equalValue(a, b reflect.Value) bool {
	if a.Kind() == reflect.Pointer {
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		a, b = a.Elem(), b.Elem()
	}
	if ta, ok := a.Interface().(time.Time); ok {
		return ta.Equal(b.Interface().(time.Time))
	}
	return a.Equal(b)
}

func format(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case money.Amount:
		return x.String()
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v.Interface())
}
