package reports

import (
	"reflect"
	"slices"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
)

func sampleTotals() Totals {
	rate := money.RateFromUnits(16_480_283)
	return Totals{
		Currencies: []CurrencyTotals{{
			Currency: "USD", Orders: 2293, Gross: money.MustParse("709557.28"), Discounts: money.MustParse("1.5"),
			Refunds: 7,
			GrossSales: Revenue{Paid: money.MustParse("742130.6"), VAT: money.MustParse("2"), Net: money.MustParse("700000"),
				Affiliate: money.MustParse("3"), Commission: money.MustParse("4")},
			Refunded: Revenue{Paid: money.MustParse("-32573.32"), VAT: money.MustParse("-0.5"), Net: money.MustParse("-30000"),
				Affiliate: money.MustParse("-1"), Commission: money.MustParse("-1.25")},
			Disputes: 53, Disputed: money.MustParse("5"), Fees: money.MustParse("2650"),
		}},
		Fallbacks: []string{"the fees of 2 disputes rest on first_month_tier: 2026-09 had no transactions"},
		OrderRows: 2400, TestOrders: 3, Disputes: 53, ChargebackFees: money.MustParse("2650"), FeeCurrency: "USD",
		FeeBases: []FeeBasis{{RateMonth: "2026-09", Rate: &rate, Opened: 38, Transactions: 2305, HaveCounts: true,
			Tier: "1.65% or more", Fee: money.MustParse("50"), Disputes: 53, Rule: "rule"}},
		Snapshot:      civil.Date{Year: 2026, Month: 10, Day: 31},
		Subscriptions: []ProductSubscriptions{{ProductCode: "P1", ProductName: "Pro", Active: 10, New: 2, Expired: 1, AutoRenewing: 9, Units: 12}},
		Complete:      true, CoveredBy: "run-1", CoveredThrough: civil.Date{Year: 2026, Month: 11, Day: 1},
		Converted: AccountTotals{Currency: "USD", Orders: 2293, Refunds: 7, Gross: money.MustParse("709557.28"), Discounts: money.MustParse("1.5"),
			GrossSales: Revenue{Paid: money.MustParse("742130.6"), VAT: money.MustParse("2"), Net: money.MustParse("700000"),
				Affiliate: money.MustParse("3"), Commission: money.MustParse("4")},
			Refunded: Revenue{Paid: money.MustParse("-32573.32"), VAT: money.MustParse("-0.5"), Net: money.MustParse("-30000"),
				Affiliate: money.MustParse("-1"), Commission: money.MustParse("-1.25")},
			Disputes: 53, Fees: money.MustParse("2650"), Unconverted: 0},
		Previous: PreviousMonth{Month: civil.Date{Year: 2026, Month: 9, Day: 1}, HasData: true, CoveredBy: "run-0",
			Totals: AccountTotals{Currency: "USD", Orders: 2000, Refunds: 5, Gross: money.MustParse("600000"), Discounts: money.MustParse("1"),
				GrossSales: Revenue{Paid: money.MustParse("650000"), VAT: money.MustParse("1"), Net: money.MustParse("600000"),
					Affiliate: money.MustParse("2"), Commission: money.MustParse("3")},
				Refunded: Revenue{Paid: money.MustParse("-100"), VAT: money.MustParse("-0.25"), Net: money.MustParse("-90"),
					Affiliate: money.MustParse("-0.5"), Commission: money.MustParse("-0.75")},
				Disputes: 40, Fees: money.MustParse("2000"), Unconverted: 1}},
	}
}

func TestFiguresNameEveryFigure(t *testing.T) {
	got := Figures(sampleTotals())
	want := map[string]string{
		"Data complete":                           "yes",
		"Orders":                                  "2400",
		"Total chargeback fee":                    "2,650.00 USD",
		"USD sales":                               "2293",
		"USD gross":                               "709,557.28 USD",
		"USD refunds paid":                        "-32,573.32 USD",
		"USD after refunds paid":                  "709,557.28 USD",
		"USD after refunds 2Checkout commission":  "2.75 USD",
		"Fee basis 2026-09 rate":                  "1.6480283%",
		"Fee basis 2026-09 disputes/transactions": "38/2305",
		"Subscriptions as of":                     "2026-10-31",
		"Subscriptions P1 (Pro) auto-renewing":    "9",
		// 670,000 - 2.75 - 2 - 2,650
		"In USD net payout":                "667,345.25 USD",
		"In USD orders not converted":      "0",
		"In USD 2026-09 data complete":     "yes",
		"In USD 2026-09 net payout":        "597,906.25 USD", // 599,910 - 2.25 - 1.5 - 2,000
		"In USD 2026-09 after refunds net": "599,910.00 USD",
	}
	for _, f := range got {
		if w, ok := want[f.Name]; ok {
			if f.Value != w {
				t.Errorf("%s = %q, want %q", f.Name, f.Value, w)
			}
			delete(want, f.Name)
		}
	}
	for n := range want {
		t.Errorf("no figure %q", n)
	}
	text, digest := EncodeFigures(got)
	back, err := DecodeFigures(text)
	if err != nil || !slices.Equal(back, got) {
		t.Fatalf("DecodeFigures(EncodeFigures) = %v, %v", back, err)
	}
	if _, d := EncodeFigures(back); d != digest || len(digest) != 64 {
		t.Errorf("digest %q, then %q", digest, d)
	}
}

// TestEveryTotalMovesTheDigest changes each leaf field of Totals in turn,
// by reflection, so that a field added to Totals later cannot be left out
// of the figures a delivery is compared by. Only CoveredBy and
// CoveredThrough may change without changing the digest.
func TestEveryTotalMovesTheDigest(t *testing.T) {
	_, base := EncodeFigures(Figures(sampleTotals()))
	// The previous month's covering run, like the month's own: a later run
	// changes it, not its figures (its completeness is stated).
	ignored := map[string]bool{".CoveredBy": true, ".CoveredThrough": true, ".Previous.CoveredBy": true}
	tot := sampleTotals()
	var leaves []leaf
	findLeaves(reflect.ValueOf(tot), leaf{}, &leaves)
	if len(leaves) < 35 {
		t.Fatalf("only %d fields found", len(leaves))
	}
	for _, l := range leaves {
		tot := sampleTotals()
		bump(l.in(reflect.ValueOf(&tot).Elem()))
		_, d := EncodeFigures(Figures(tot))
		switch {
		case ignored[l.name] && d != base:
			t.Errorf("changing %s changed the digest", l.name)
		case !ignored[l.name] && d == base:
			t.Errorf("changing %s leaves the digest as it was: the figures miss it", l.name)
		}
	}
}

var (
	amountType = reflect.TypeFor[money.Amount]()
	dateType   = reflect.TypeFor[civil.Date]()
)

// leaf is a field of Totals: its name and the field (or, for a slice,
// element 0) indexes that reach it.
type leaf struct {
	name string
	path []int
}

func (l leaf) in(v reflect.Value) reflect.Value {
	for _, i := range l.path {
		if v.Kind() == reflect.Slice {
			v = v.Index(0)
		}
		v = v.Field(i)
	}
	return v
}

func findLeaves(v reflect.Value, at leaf, out *[]leaf) {
	if v.Kind() == reflect.Slice {
		v = v.Index(0)
	}
	if v.Kind() != reflect.Struct || v.Type() == dateType {
		*out = append(*out, at)
		return
	}
	for i := range v.NumField() {
		findLeaves(v.Field(i), leaf{at.name + "." + v.Type().Field(i).Name, append(slices.Clone(at.path), i)}, out)
	}
}

// bump changes the leaf v.
func bump(v reflect.Value) {
	switch {
	case v.Type() == dateType:
		v.Set(reflect.ValueOf(v.Interface().(civil.Date).AddDays(1)))
	case v.Kind() == reflect.Pointer:
		r := money.RateFromUnits(v.Elem().Interface().(money.Rate).Units() + 1)
		v.Set(reflect.ValueOf(&r))
	case v.Kind() == reflect.Slice: // of strings: its first element
		bump(v.Index(0))
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "x")
	case v.Type() == amountType:
		v.SetInt(v.Int() + 1_000_000) // one whole unit: a cent would hide in JPY
	case v.Kind() == reflect.Int64:
		v.SetInt(v.Int() + 1)
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	default:
		panic("no change for kind " + v.Kind().String())
	}
}
