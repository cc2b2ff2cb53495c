package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/money"
)

type legacyErrors struct {
	Errors []struct {
		Code, Message, Parameter string
	} `json:"errors"`
	Exception *struct {
		ErrorMsg  string `json:"errorMsg"`
		ErrorCode string `json:"errorCode"`
	} `json:"exception"`
}

type legacyList struct {
	ResponseCode string `json:"response_code"`
	PageInfo     struct {
		CurPage      int  `json:"cur_page"`
		FirstEntry   int  `json:"first_entry"`
		LastEntry    int  `json:"last_entry"`
		LastPage     int  `json:"last_page"`
		NextPage     *int `json:"next_page"`
		PageSize     int  `json:"pagesize"`
		PreviousPage *int `json:"previous_page"`
		TotalEntries int  `json:"total_entries"`
	} `json:"page_info"`
	SaleSummary []struct {
		SaleID        string `json:"sale_id"`
		DatePlaced    string `json:"date_placed"`
		CustomerName  string `json:"customer_name"`
		Recurring     string `json:"recurring"`
		USDTotal      string `json:"usd_total"`
		CustomerTotal string `json:"customer_total"`
	} `json:"sale_summary"`
}

type legacyDetail struct {
	ResponseCode string `json:"response_code"`
	Sale         struct {
		SaleID     string `json:"sale_id"`
		DatePlaced string `json:"date_placed"`
		Customer   struct {
			CustomerID   string `json:"customer_id"`
			CountryCode  string `json:"country_code"`
			CountryCode2 string `json:"country_code_2"`
		} `json:"customer"`
		Invoices []struct {
			Status        string  `json:"status"`
			VendorOrderID *string `json:"vendor_order_id"`
			CustCurrency  string  `json:"cust_currency"`
			CustomerTotal string  `json:"customer_total"`
			USDTotal      string  `json:"usd_total"`
			VendorTotal   string  `json:"vendor_total"`
			Fees2CO       string  `json:"fees_2co"`
			Lineitems     []struct {
				Type            string `json:"type"`
				Status          string `json:"status"`
				VendorProductID string `json:"vendor_product_id"`
				ProductName     string `json:"product_name"`
				CustomerAmount  string `json:"customer_amount"`
				USDAmount       string `json:"usd_amount"`
			} `json:"lineitems"`
		} `json:"invoices"`
	} `json:"sale"`
}

// legacyGet makes one request with the default credentials unless user is
// "-", and returns its status and body.
func legacyGet(t *testing.T, u, user, password, accept string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "-" {
		req.SetBasicAuth(user, password)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func legacyBase(t *testing.T, m *sandbox.Merchant) string {
	t.Helper()
	srv, err := sandbox.Serve(t.Context(), m, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if want := strings.TrimSuffix(srv.URL(), sandbox.Path) + sandbox.LegacyPath; srv.LegacyURL() != want {
		t.Errorf("LegacyURL %s, want %s", srv.LegacyURL(), want)
	}
	return srv.LegacyURL()
}

func TestLegacyErrors(t *testing.T) {
	m, _ := newMerchant(t, 1, time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC))
	base := legacyBase(t, m)
	user := sandbox.DefaultLegacyUser
	tests := []struct {
		name           string
		path           string
		user, password string
		accept         string
		status         int
		code, param    string
	}{
		{"list ok", "sales/list_sales", user, secretKey, "application/json", 200, "", ""},
		{"detail ok", "sales/detail_sale?sale_id=" + m.OrdersOn(since)[0].RefNo, user, secretKey, "application/json", 200, "", ""},
		{"unknown method", "sales/refund_invoice", user, secretKey, "application/json", 404, "NOT_FOUND", ""},
		{"no credentials", "sales/list_sales", "-", "", "application/json", 401, "exception 300", "Unauthorized"},
		{"wrong password", "sales/list_sales", user, secretKey + "x", "application/json", 401, "exception 300", "Unauthorized"},
		{"wrong user", "sales/list_sales", "admin", secretKey, "application/json", 401, "exception 300", "Unauthorized"},
		{"pagesize 0", "sales/list_sales?pagesize=0", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "pagesize"},
		{"pagesize 101", "sales/list_sales?pagesize=101", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "pagesize"},
		{"cur_page 0", "sales/list_sales?cur_page=0", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "cur_page"},
		{"bad date", "sales/list_sales?sale_date_begin=01/02/2025", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "sale_date_begin"},
		{"sort DESC", "sales/list_sales?sort_dir=DESC", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "sort_dir"},
		{"unknown parameter", "sales/list_sales?vendor_id=1", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "vendor_id"},
		{"no sale_id", "sales/detail_sale", user, secretKey, "application/json", 400, "PARAMETER_MISSING", "sale_id"},
		{"bad sale_id", "sales/detail_sale?sale_id=abc", user, secretKey, "application/json", 400, "PARAMETER_INVALID", "sale_id"},
		{"sale before the first day", "sales/detail_sale?sale_id=1", user, secretKey, "application/json", 404, "RECORD_NOT_FOUND", ""},
		{"sale past the day's last", "sales/detail_sale?sale_id=" + strconv.Itoa(20089*100000+99999), user, secretKey, "application/json", 404, "RECORD_NOT_FOUND", ""},
		{"future sale", "sales/detail_sale?sale_id=" + strconv.Itoa(21000*100000+1), user, secretKey, "application/json", 404, "RECORD_NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := legacyGet(t, base+tt.path, tt.user, tt.password, tt.accept)
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d: %s", status, tt.status, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var e legacyErrors
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if code, ok := strings.CutPrefix(tt.code, "exception "); ok {
				// Refused credentials come in the exception shape.
				if e.Exception == nil || e.Exception.ErrorCode != code || e.Exception.ErrorMsg != tt.param || len(e.Errors) != 0 {
					t.Errorf("body %s, want an exception %s %q", body, code, tt.param)
				}
			} else if tt.code == "" {
				if len(e.Errors) != 0 || !strings.Contains(string(body), `"response_code":"OK"`) {
					t.Errorf("body %s", body)
				}
				return
			}
			if tt.code == "" || e.Exception != nil {
			} else if len(e.Errors) != 1 || e.Errors[0].Code != tt.code || e.Errors[0].Parameter != tt.param ||
				!strings.Contains(e.Errors[0].Message, tt.param) {
				t.Errorf("errors %+v, want one %s naming %q", e.Errors, tt.code, tt.param)
			}
			if status == 401 && h.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if strings.Contains(string(body), secretKey) {
				t.Errorf("the password appears in %s", body)
			}
		})
	}

	// Without Accept: application/json: 406, plain text.
	status, h, _ := legacyGet(t, base+"sales/list_sales", user, secretKey, "application/xml")
	if status != http.StatusNotAcceptable || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("Accept XML: HTTP %d, %s", status, h.Get("Content-Type"))
	}
}

func TestLegacyUser(t *testing.T) {
	m, err := sandbox.New(sandbox.Config{MerchantCode: merchantCode, SecretKey: secretKey, Since: since, LegacyUser: "reports",
		Now: func() time.Time { return time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	base := legacyBase(t, m)
	for user, want := range map[string]int{"reports": 200, sandbox.DefaultLegacyUser: 401} {
		if status, _, body := legacyGet(t, base+"sales/list_sales", user, secretKey, "application/json"); status != want {
			t.Errorf("user %s: HTTP %d, want %d: %s", user, status, want, body)
		}
	}
}

func TestLegacyListSales(t *testing.T) {
	m, _ := newMerchant(t, 5, time.Date(2025, 1, 8, 12, 0, 0, 0, time.UTC))
	base := legacyBase(t, m)
	from, to := since.AddDays(1), since.AddDays(3)
	var want []extract.Order
	for d := from; !d.After(to); d = d.AddDays(1) {
		want = append(want, m.OrdersOn(d)...)
	}
	const size = 100
	lastPage := (len(want) + size - 1) / size
	var got []string
	for page := 1; page <= lastPage+1; page++ {
		q := url.Values{"cur_page": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(size)},
			"sale_date_begin": {from.String()}, "sale_date_end": {to.String()}, "sort_col": {"sale_id"}}
		status, _, body := legacyGet(t, base+"sales/list_sales?"+q.Encode(), sandbox.DefaultLegacyUser, secretKey, "application/json")
		var l legacyList
		if err := json.Unmarshal(body, &l); status != 200 || err != nil {
			t.Fatalf("page %d: HTTP %d, %v: %s", page, status, err, body)
		}
		pi := l.PageInfo
		if pi.CurPage != page || pi.PageSize != size || pi.TotalEntries != len(want) || pi.LastPage != lastPage {
			t.Errorf("page %d: page_info %+v", page, pi)
		}
		if (pi.PreviousPage == nil) != (page == 1) || (pi.NextPage == nil) != (page >= lastPage) {
			t.Errorf("page %d: previous %v, next %v", page, pi.PreviousPage, pi.NextPage)
		}
		if page <= lastPage && (pi.FirstEntry != (page-1)*size+1 || pi.LastEntry != min(page*size, len(want))) {
			t.Errorf("page %d: entries %d to %d", page, pi.FirstEntry, pi.LastEntry)
		}
		for _, s := range l.SaleSummary {
			if s.CustomerName == "" || (s.Recurring != "0" && s.Recurring != "1") || s.USDTotal == "" {
				t.Errorf("summary %+v", s)
			}
			got = append(got, s.SaleID)
		}
		if page > lastPage && len(l.SaleSummary) != 0 {
			t.Errorf("page %d past the last has %d sales", page, len(l.SaleSummary))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d sales, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].RefNo {
			t.Fatalf("sale %d is %s, want %s", i, got[i], want[i].RefNo)
		}
	}
}

// TestLegacyDetailSale checks every sale of a month against the order it
// stands for.
func TestLegacyDetailSale(t *testing.T) {
	now := time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC)
	m, err := sandbox.New(sandbox.Config{MerchantCode: merchantCode, SecretKey: secretKey, Seed: 9, Since: since,
		OrdersPerDay: 40, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	base := legacyBase(t, m)
	statuses := map[string]int{}
	coupons := 0
	for d := since; d.Before(civil.DateOf(now)); d = d.AddDays(1) {
		for _, o := range m.OrdersOn(d) {
			_, _, body := legacyGet(t, base+"sales/detail_sale?sale_id="+o.RefNo, sandbox.DefaultLegacyUser, secretKey, "application/json")
			var r legacyDetail
			if err := json.Unmarshal(body, &r); err != nil || r.ResponseCode != "OK" || len(r.Sale.Invoices) != 1 {
				t.Fatalf("sale %s: %v: %s", o.RefNo, err, body)
			}
			s, inv := &r.Sale, &r.Sale.Invoices[0]
			statuses[o.Status+" "+inv.Status]++
			// The recorded shape: no demo, no quantity; cust_currency only
			// for a sale not in the vendor's currency, USD.
			if strings.Contains(string(body), `"demo"`) || strings.Contains(string(body), `"quantity"`) ||
				strings.Contains(string(body), `"cust_currency"`) != (o.Currency != "USD") {
				t.Fatalf("sale %s (%s): %s", o.RefNo, o.Currency, body)
			}
			wantCur := o.Currency
			if wantCur == "USD" {
				wantCur = ""
			}
			alpha3 := map[string]string{"US": "USA", "CA": "CAN", "AU": "AUS", "BR": "BRA", "MX": "MEX", "DE": "DEU", "FR": "FRA",
				"NL": "NLD", "ES": "ESP", "IT": "ITA", "IE": "IRL", "AT": "AUT", "GB": "GBR", "RO": "ROU", "JP": "JPN"}
			if s.SaleID != o.RefNo || s.DatePlaced != o.OrderDate || inv.CustCurrency != wantCur ||
				s.Customer.CustomerID != o.CustomerReference.String() ||
				s.Customer.CountryCode2 != strings.ToUpper(o.BillingDetails.CountryCode) || s.Customer.CountryCode != alpha3[strings.ToUpper(o.BillingDetails.CountryCode)] ||
				(inv.VendorOrderID == nil) != (o.ExternalReference == "") || (inv.VendorOrderID != nil && *inv.VendorOrderID != o.ExternalReference) {
				t.Fatalf("sale %+v does not match order %+v", s, o)
			}
			if !eqAmount(inv.CustomerTotal, o.GrossDiscountedPrice.String()) {
				t.Errorf("sale %s: customer_total %s, GrossDiscountedPrice %s", o.RefNo, inv.CustomerTotal, o.GrossDiscountedPrice)
			}
			if inv.USDTotal == "" || inv.VendorTotal != inv.USDTotal || inv.Fees2CO == "" {
				t.Errorf("sale %s: USD amounts %+v", o.RefNo, inv)
			}
			if o.Currency == "USD" && (inv.USDTotal != inv.CustomerTotal) {
				t.Errorf("sale %s in USD: usd_total %s, customer_total %s", o.RefNo, inv.USDTotal, inv.CustomerTotal)
			}
			var products []int
			gross := money.Amount(0)
			for k, l := range inv.Lineitems {
				a := money.MustParse(l.CustomerAmount)
				switch l.Type {
				case "product":
					products = append(products, k)
					gross = gross.Add(a)
				case "coupon":
					coupons++
					if !eqAmount(l.CustomerAmount, "-"+o.Discount.String()) {
						t.Errorf("sale %s: coupon %s, Discount %s", o.RefNo, l.CustomerAmount, o.Discount)
					}
				default:
					t.Errorf("sale %s: line type %q", o.RefNo, l.Type)
				}
			}
			if gross != money.MustParse(o.GrossPrice.String()) {
				t.Errorf("sale %s: product lines sum to %s, GrossPrice %s", o.RefNo, gross, o.GrossPrice)
			}
			// A line per unit: an item of quantity n is n lines.
			var units []extract.OrderItem
			for _, it := range o.Items {
				n, err := strconv.Atoi(it.Quantity.String())
				if err != nil || n < 1 {
					t.Fatalf("sale %s: quantity %s", o.RefNo, it.Quantity)
				}
				for range n {
					units = append(units, it)
				}
			}
			if len(products) != len(units) {
				t.Fatalf("sale %s: %d product lines, %d units", o.RefNo, len(products), len(units))
			}
			for j, k := range products {
				l, it := inv.Lineitems[k], units[j]
				if l.VendorProductID != it.Code || l.ProductName != it.ProductDetails.Name ||
					!eqAmount(l.CustomerAmount, it.Price.UnitGrossPrice.String()) {
					t.Errorf("sale %s: line %+v, item %+v", o.RefNo, l, it)
				}
				wantStatus := "bill"
				if o.Status == "REFUND" || o.Status == "REVERSED" {
					wantStatus = "refund"
				}
				if l.Status != wantStatus {
					t.Errorf("sale %s (%s): line status %s", o.RefNo, o.Status, l.Status)
				}
			}
		}
	}
	t.Logf("statuses %v, %d coupons", statuses, coupons)
	for k := range statuses {
		st, inv, _ := strings.Cut(k, " ")
		want := map[string][]string{
			"PENDING": {"pending"}, "AUTHRECEIVED": {"pending"}, "CANCELED": {"declined"},
			"COMPLETE": {"approved", "deposited"}, "REFUND": {"approved", "deposited"}, "REVERSED": {"approved", "deposited"},
		}[st]
		if !strings.Contains(strings.Join(want, ","), inv) {
			t.Errorf("order status %s shown as invoice status %s", st, inv)
		}
	}
	for _, k := range []string{"COMPLETE approved", "COMPLETE deposited", "REFUND deposited", "CANCELED declined", "PENDING pending"} {
		if statuses[k] == 0 {
			t.Errorf("no %s sale in a month", k)
		}
	}
	if coupons == 0 {
		t.Error("no coupons")
	}
}

func eqAmount(a, b string) bool {
	x, _, err1 := money.Parse(a)
	y, _, err2 := money.Parse(b)
	return err1 == nil && err2 == nil && x == y
}
