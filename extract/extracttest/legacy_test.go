package extracttest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/legacy"
	"github.com/ledgerline/ledgerline/extract/sandbox"
)

func TestLegacy(t *testing.T) {
	extracttest.Run(t, extracttest.Options{Project: legacy.Project}, newLegacy)
}

// TestLegacyRecordedShape reads the sandbox's legacy API, which serves
// detail_sale as recorded, with an account currency no sale is in: the
// sales without cust_currency (the USD ones) are in the account's
// currency, the others in theirs; the country is country_code_2's; and
// refused credentials are the exception body's code and message.
func TestLegacyRecordedShape(t *testing.T) {
	s := extracttest.NewSetup(t, sandbox.Faults{})
	w := extract.Window{From: extracttest.Since, To: extracttest.Since.AddDays(6)}
	for _, tt := range []struct {
		account  string // the configured currency
		usdSales string // the currency the USD sales read as
	}{
		{"CAD", "CAD"},
		{"usd", "USD"},
	} {
		t.Run(tt.account, func(t *testing.T) {
			c, err := legacy.New(legacy.Config{Account: s.Account, Endpoint: s.LegacyURL(), User: s.LegacyUser,
				Password: s.SecretKey, Currency: tt.account, Transport: s.Transport, Logger: s.Logger})
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := extracttest.CollectOrders(t.Context(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			want := extracttest.OrdersOn(s.Merchant, w)
			if len(got) != len(want) || len(want) < 100 {
				t.Fatalf("read %d sales, the merchant has %d orders", len(got), len(want))
			}
			usd := 0
			for i, o := range got {
				m := want[i]
				cur := m.Currency
				if cur == "USD" {
					cur = tt.usdSales
					usd++
				}
				if o.RefNo != m.RefNo || o.Currency != cur || o.BillingDetails.CountryCode != strings.ToUpper(m.BillingDetails.CountryCode) || len(o.BillingDetails.CountryCode) != 2 {
					t.Fatalf("sale %s: currency %s, country %q; order %s: %s, %q; want %s", o.RefNo, o.Currency, o.BillingDetails.CountryCode,
						m.RefNo, m.Currency, m.BillingDetails.CountryCode, cur)
				}
				for _, it := range o.Items {
					if it.Price.Currency != cur {
						t.Fatalf("sale %s: item currency %s, want %s", o.RefNo, it.Price.Currency, cur)
					}
				}
			}
			if usd == 0 || usd == len(got) {
				t.Errorf("%d USD sales of %d", usd, len(got))
			}
		})
	}

	t.Run("refused credentials", func(t *testing.T) {
		c, err := legacy.New(legacy.Config{Account: s.Account, Endpoint: s.LegacyURL(), User: s.LegacyUser,
			Password: s.SecretKey + "-wrong", Currency: "USD", Transport: s.Transport, Logger: s.Logger})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = extracttest.CollectOrders(t.Context(), c, w)
		const want = "GET sales/list_sales, page 1: HTTP 401 Unauthorized: authentication failed: 300: Unauthorized"
		if err == nil || !strings.HasSuffix(err.Error(), want) || !errors.Is(err, extract.ErrAuthentication) {
			t.Errorf("error %v, want one ending %q and wrapping ErrAuthentication", err, want)
		}
		if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != "300" || apiErr.Message != "Unauthorized" {
			t.Errorf("APIError %+v", apiErr)
		}
	})
}
