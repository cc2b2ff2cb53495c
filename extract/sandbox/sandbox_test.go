package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/extracttest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/money"
)

const (
	merchantCode = "DEMO123"
	secretKey    = "s3cr3t-k3y"
)

var since = civil.Date{Year: 2025, Month: time.January, Day: 1}

func newMerchant(t *testing.T, seed int64, now time.Time) (*sandbox.Merchant, *extracttest.Clock) {
	t.Helper()
	clk := extracttest.NewClock(now)
	m, err := sandbox.New(sandbox.Config{
		MerchantCode: merchantCode,
		SecretKey:    secretKey,
		Seed:         seed,
		Since:        since,
		Now:          clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

// rpcError is an error member of a response.
type rpcError struct {
	Code    any    `json:"code"`
	Message string `json:"message"`
}

// call posts one JSON-RPC request and returns the raw response body.
func call(t *testing.T, url, method string, params ...any) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %s", method, resp.Status)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rpc calls method and decodes the result into result, or returns the
// error member.
func rpc(t *testing.T, url string, result any, method string, params ...any) *rpcError {
	t.Helper()
	var resp struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      int             `json:"id"`
		Result  json.RawMessage `json:"result"`
		Error   *rpcError       `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(call(t, url, method, params...)))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("%s: decoding response: %v", method, err)
	}
	if resp.JSONRPC != "2.0" || resp.ID != 7 {
		t.Errorf("%s: jsonrpc %q, id %d; want 2.0, 7", method, resp.JSONRPC, resp.ID)
	}
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			t.Fatalf("%s: decoding result: %v", method, err)
		}
	}
	return nil
}

func login(t *testing.T, url string, now time.Time) string {
	t.Helper()
	date, hash, err := extract.SignNow("sha256", secretKey, merchantCode, now)
	if err != nil {
		t.Fatal(err)
	}
	var sid string
	if e := rpc(t, url, &sid, "login", merchantCode, date, hash); e != nil {
		t.Fatalf("login: %v: %s", e.Code, e.Message)
	}
	return sid
}

type page[T any] struct {
	Items      []T
	Pagination struct{ Page, Limit, Count int }
}

func serve(t *testing.T, m *sandbox.Merchant) string {
	t.Helper()
	srv, err := sandbox.Serve(t.Context(), m, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv.URL()
}

func TestNewErrors(t *testing.T) {
	valid := sandbox.Config{MerchantCode: "M", SecretKey: "k", Since: since}
	tests := []struct {
		name string
		edit func(*sandbox.Config)
		want string
	}{
		{"no merchant", func(c *sandbox.Config) { c.MerchantCode = "" }, "MerchantCode"},
		{"no secret", func(c *sandbox.Config) { c.SecretKey = "" }, "SecretKey"},
		{"no since", func(c *sandbox.Config) { c.Since = civil.Date{} }, "Since"},
		{"early since", func(c *sandbox.Config) { c.Since = civil.Date{Year: 1999, Month: 12, Day: 31} }, "Since"},
		{"too many orders", func(c *sandbox.Config) { c.OrdersPerDay = sandbox.MaxOrdersPerDay + 1 }, "OrdersPerDay"},
		{"negative ttl", func(c *sandbox.Config) { c.SessionTTL = -time.Second }, "SessionTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			_, err := sandbox.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: error %v, want one naming %s", err, tt.want)
			}
		})
	}
	if _, err := sandbox.New(valid); err != nil {
		t.Errorf("New(valid): %v", err)
	}
}

func TestDeterminism(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	a, _ := newMerchant(t, 42, now)
	b, _ := newMerchant(t, 42, now)
	c, _ := newMerchant(t, 43, now)
	urlA, urlB, urlC := serve(t, a), serve(t, b), serve(t, c)

	search := func(url string, method string, opts map[string]any) []byte {
		sid := login(t, url, now)
		raw := call(t, url, method, sid, opts)
		if bytes.Contains(raw, []byte(`"error"`)) {
			t.Fatalf("%s: %s", method, raw)
		}
		return raw
	}
	tests := []struct {
		method string
		opts   map[string]any
	}{
		{"searchOrders", map[string]any{"StartDate": "2025-02-01", "EndDate": "2025-02-03", "IncludeTestOrders": "YES", "Pagination": map[string]any{"Page": 2, "Limit": 200}}},
		{"searchSubscriptions", map[string]any{"Pagination": map[string]any{"Page": 3, "Limit": 150}}},
	}
	for _, tt := range tests {
		ra, rb, rc := search(urlA, tt.method, tt.opts), search(urlB, tt.method, tt.opts), search(urlC, tt.method, tt.opts)
		if !bytes.Equal(ra, rb) {
			t.Errorf("%s: same seed, different responses", tt.method)
		}
		if bytes.Equal(ra, rc) {
			t.Errorf("%s: different seeds, same response", tt.method)
		}
	}

	// A day generated on its own equals the same day generated after
	// others.
	day := civil.Date{Year: 2025, Month: 2, Day: 10}
	for d := since; d.Before(day); d = d.AddDays(1) {
		b.OrdersOn(d)
	}
	ja, _ := json.Marshal(a.OrdersOn(day))
	jb, _ := json.Marshal(b.OrdersOn(day))
	if !bytes.Equal(ja, jb) {
		t.Error("OrdersOn depends on what was generated before")
	}
}

// monthOfOrders returns every order placed in the 31 days from since, seen
// at the end of that month.
func monthOfOrders(t *testing.T, seed int64) []extract.Order {
	m, _ := newMerchant(t, seed, since.AddDays(31).In(time.UTC))
	var orders []extract.Order
	for d := since; d.Before(since.AddDays(31)); d = d.AddDays(1) {
		orders = append(orders, m.OrdersOn(d)...)
	}
	return orders
}

func parse(t *testing.T, n json.Number) money.Amount {
	t.Helper()
	a, rounded, err := money.Parse(n.String())
	if err != nil || rounded {
		t.Fatalf("amount %q: %v (rounded %v)", n, err, rounded)
	}
	return a
}

func TestAmounts(t *testing.T) {
	decimals := map[string]int{"USD": 2, "EUR": 2, "GBP": 2, "RON": 2, "JPY": 0}
	for _, o := range monthOfOrders(t, 1) {
		places := decimals[o.Currency]
		check := func(field string, n json.Number) money.Amount {
			t.Helper()
			a := parse(t, n)
			if _, frac, ok := strings.Cut(n.String(), "."); ok && len(frac) > places {
				t.Errorf("order %s %s: %s has more than %d decimals", o.RefNo, field, n, places)
			}
			if a < 0 {
				t.Errorf("order %s %s: negative %s", o.RefNo, field, n)
			}
			return a
		}
		var sum [7]money.Amount
		for k, it := range o.Items {
			p := it.Price
			if strings.ToUpper(p.Currency) != o.Currency { // sent lower-case, as 2Checkout does
				t.Errorf("order %s item %d: currency %s, order %s", o.RefNo, k, p.Currency, o.Currency)
			}
			qty := parse(t, it.Quantity).Units() / 1_000_000
			line := []struct {
				name       string
				total, per json.Number
			}{
				{"NetPrice", p.NetPrice, p.UnitNetPrice},
				{"GrossPrice", p.GrossPrice, p.UnitGrossPrice},
				{"NetDiscountedPrice", p.NetDiscountedPrice, p.UnitNetDiscountedPrice},
				{"GrossDiscountedPrice", p.GrossDiscountedPrice, p.UnitGrossDiscountedPrice},
				{"Discount", p.Discount, p.UnitDiscount},
				{"VAT", p.VAT, p.UnitVAT},
				{"AffiliateCommission", p.AffiliateCommission, p.UnitAffiliateCommission},
			}
			for i, f := range line {
				total, unit := check(f.name, f.total), check("Unit"+f.name, f.per)
				if total.Units() != unit.Units()*qty {
					t.Errorf("order %s item %d: %s %s != Unit %s x %s", o.RefNo, k, f.name, f.total, f.per, it.Quantity)
				}
				sum[i] += total
			}
			if gross, disc, gd := parse(t, p.GrossPrice), parse(t, p.Discount), parse(t, p.GrossDiscountedPrice); gross-disc != gd {
				t.Errorf("order %s item %d: GrossPrice %s - Discount %s != GrossDiscountedPrice %s", o.RefNo, k, p.GrossPrice, p.Discount, p.GrossDiscountedPrice)
			}
			if nd, vat, gd := parse(t, p.NetDiscountedPrice), parse(t, p.VAT), parse(t, p.GrossDiscountedPrice); nd+vat != gd {
				t.Errorf("order %s item %d: NetDiscountedPrice %s + VAT %s != GrossDiscountedPrice %s", o.RefNo, k, p.NetDiscountedPrice, p.VAT, p.GrossDiscountedPrice)
			}
		}
		order := []struct {
			name string
			n    json.Number
		}{
			{"NetPrice", o.NetPrice}, {"GrossPrice", o.GrossPrice}, {"NetDiscountedPrice", o.NetDiscountedPrice},
			{"GrossDiscountedPrice", o.GrossDiscountedPrice}, {"Discount", o.Discount}, {"VAT", o.VAT},
			{"AffiliateCommission", o.AffiliateCommission},
		}
		for i, f := range order {
			if got := check(f.name, f.n); got != sum[i] {
				t.Errorf("order %s: %s %s, items sum to %s", o.RefNo, f.name, f.n, sum[i])
			}
		}
		if o.Affiliate == nil && sum[6] != 0 {
			t.Errorf("order %s: affiliate commission without an affiliate", o.RefNo)
		}
		check("AvangateCommission", o.AvangateCommission)
	}
}

func TestVariety(t *testing.T) {
	orders := monthOfOrders(t, 1)
	seen := map[string]map[string]int{}
	note := func(field, v string) {
		if seen[field] == nil {
			seen[field] = map[string]int{}
		}
		seen[field][v]++
	}
	refs := map[string]bool{}
	for _, o := range orders {
		if refs[o.RefNo] {
			t.Errorf("RefNo %s repeats", o.RefNo)
		}
		refs[o.RefNo] = true
		note("Status", o.Status)
		note("Currency", o.Currency)
		if o.ChargebackResolution == nil || o.ChargebackReasonCode == nil {
			t.Fatalf("order %s: no dispute fields in the default dialect", o.RefNo)
		}
		resolution, reason := *o.ChargebackResolution, *o.ChargebackReasonCode
		note("ChargebackResolution", resolution)
		note("TestOrder", fmt.Sprint(o.TestOrder))
		note("Affiliate", fmt.Sprint(o.Affiliate.AffiliateCode != ""))
		note("LowerCaseCountry", fmt.Sprint(o.BillingDetails.CountryCode == strings.ToLower(o.BillingDetails.CountryCode)))
		note("PaymentType", o.PaymentDetails.Type)
		note("DeliveryElsewhere", fmt.Sprint(o.DeliveryDetails.CountryCode != o.BillingDetails.CountryCode))
		note("FxRate1", fmt.Sprint(o.FxRate == "1"))
		note("Items", fmt.Sprint(len(o.Items)))
		note("Discounted", fmt.Sprint(o.Discount != "0"))
		if (resolution == "NONE") != (reason == "") {
			t.Errorf("order %s: resolution %s with reason code %q", o.RefNo, resolution, reason)
		}
		if (o.FxRate == "1") != (o.Currency == "USD") || o.PayoutCurrency != "USD" {
			t.Errorf("order %s in %s: FxRate %s into %s", o.RefNo, o.Currency, o.FxRate, o.PayoutCurrency)
		}
		if (o.OrderNo == "0") == (o.FinishDate != "") {
			t.Errorf("order %s: OrderNo %s, FinishDate %q: numbered exactly when finished", o.RefNo, o.OrderNo, o.FinishDate)
		}
		if resolution != "NONE" && (o.TestOrder || o.Status != "COMPLETE") {
			t.Errorf("order %s: chargeback on a %s order (test %v)", o.RefNo, o.Status, o.TestOrder)
		}
		if (o.FinishDate != "") != slices.Contains([]string{"COMPLETE", "REFUND", "REVERSED"}, o.Status) {
			t.Errorf("order %s: status %s, FinishDate %q", o.RefNo, o.Status, o.FinishDate)
		}
		if o.FinishDate != "" && o.FinishDate < o.OrderDate {
			t.Errorf("order %s: finished %s before it was placed %s", o.RefNo, o.FinishDate, o.OrderDate)
		}
	}
	want := map[string][]string{
		"Status":               {"COMPLETE", "AUTHRECEIVED", "PENDING", "CANCELED", "REVERSED", "REFUND"},
		"Currency":             {"USD", "EUR", "GBP", "RON", "JPY"},
		"ChargebackResolution": {"NONE", "OPEN", "WON", "LOST", "ACCEPTED"},
		"TestOrder":            {"true", "false"},
		"Affiliate":            {"true", "false"},
		"LowerCaseCountry":     {"true"},
		"PaymentType":          {"CC", "PAYPAL"},
		"DeliveryElsewhere":    {"true", "false"},
		"FxRate1":              {"true", "false"},
		"Items":                {"1", "2", "3"},
		"Discounted":           {"true", "false"},
	}
	for field, values := range want {
		for _, v := range values {
			if seen[field][v] == 0 {
				t.Errorf("no order with %s %s in a month (saw %v)", field, v, seen[field])
			}
		}
	}
	if n := len(orders); n < 31*200*8/10 || n > 31*200*12/10 {
		t.Errorf("%d orders in 31 days, want about %d", n, 31*200)
	}
	if p := seen["TestOrder"]["true"] * 1000 / len(orders); p < 15 || p > 50 {
		t.Errorf("%d.%d%% test orders, want about 3%%", p/10, p%10)
	}
}

func TestOrdersEvolve(t *testing.T) {
	m, clk := newMerchant(t, 1, time.Time{})
	day := since.AddDays(3)
	// Find a chargeback, looking from far in the future.
	clk.Set(day.AddDays(120).In(time.UTC))
	var target extract.Order
	for _, o := range m.OrdersOn(day) {
		if *o.ChargebackResolution != "NONE" {
			target = o
			break
		}
	}
	if target.RefNo == "" {
		t.Fatalf("no chargeback among the orders of %s", day)
	}
	placed, err := time.ParseInLocation(extract.DateLayout, target.OrderDate, m.Location())
	if err != nil {
		t.Fatal(err)
	}
	find := func() *extract.Order {
		for _, o := range m.OrdersOn(day) {
			if o.RefNo == target.RefNo {
				return &o
			}
		}
		return nil
	}
	clk.Set(placed.Add(-time.Second))
	if find() != nil {
		t.Fatalf("order %s visible before it was placed", target.RefNo)
	}
	clk.Set(placed)
	if o := find(); o == nil {
		t.Fatalf("order %s not visible when placed", target.RefNo)
	}
	var resolutions []string
	for at := placed; at.Before(placed.Add(60 * 24 * time.Hour)); at = at.Add(6 * time.Hour) {
		clk.Set(at)
		r := *find().ChargebackResolution
		if len(resolutions) == 0 || resolutions[len(resolutions)-1] != r {
			resolutions = append(resolutions, r)
		}
	}
	if len(resolutions) != 3 || resolutions[0] != "NONE" || resolutions[1] != "OPEN" || resolutions[2] != *target.ChargebackResolution {
		t.Errorf("resolution went %v, want NONE, OPEN, %s", resolutions, *target.ChargebackResolution)
	}
}

func TestLogin(t *testing.T) {
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	m, _ := newMerchant(t, 1, now)
	url := serve(t, m)
	sign := func(algo, secret, code string, at time.Time) []any {
		date, hash, err := extract.SignNow(algo, secret, code, at)
		if err != nil {
			t.Fatal(err)
		}
		if algo == "sha256" {
			return []any{code, date, hash}
		}
		return []any{code, date, hash, algo}
	}
	tests := []struct {
		name   string
		params []any
		code   any // nil for success
	}{
		{"sha256", sign("sha256", secretKey, merchantCode, now), nil},
		{"sha256 explicit", append(sign("sha256", secretKey, merchantCode, now), "sha256"), nil},
		{"sha3-256", sign("sha3-256", secretKey, merchantCode, now), nil},
		{"md5", sign("md5", secretKey, merchantCode, now), nil},
		{"clock 14 minutes behind", sign("sha256", secretKey, merchantCode, now.Add(-14*time.Minute)), nil},
		{"clock 16 minutes behind", sign("sha256", secretKey, merchantCode, now.Add(-16*time.Minute)), "AUTHENTICATION_FAILED"},
		{"clock 16 minutes ahead", sign("sha256", secretKey, merchantCode, now.Add(16*time.Minute)), "AUTHENTICATION_FAILED"},
		{"wrong secret", sign("sha256", "wrong", merchantCode, now), "AUTHENTICATION_FAILED"},
		{"wrong merchant", sign("sha256", secretKey, "OTHER", now), "AUTHENTICATION_FAILED"},
		{"algorithm mismatch", append(sign("sha256", secretKey, merchantCode, now)[:3], "md5"), "AUTHENTICATION_FAILED"},
		{"unknown algorithm", append(sign("sha256", secretKey, merchantCode, now)[:3], "sha1"), "AUTHENTICATION_FAILED"},
		{"local date", []any{merchantCode, "2025-02-01 14:00:00", "00"}, "AUTHENTICATION_FAILED"},
		{"too few params", []any{merchantCode, "2025-02-01 12:00:00"}, "INVALID_PARAMETER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sid string
			e := rpc(t, url, &sid, "login", tt.params...)
			switch {
			case tt.code == nil && e != nil:
				t.Fatalf("login failed: %v: %s", e.Code, e.Message)
			case tt.code == nil && sid == "":
				t.Fatal("login returned an empty session id")
			case tt.code != nil && e == nil:
				t.Fatalf("login succeeded, want %v", tt.code)
			case tt.code != nil && e.Code != tt.code:
				t.Fatalf("login error %v: %s, want %v", e.Code, e.Message, tt.code)
			case e != nil && strings.Contains(e.Message, secretKey):
				t.Fatalf("error message %q contains the secret", e.Message)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	m, clk := newMerchant(t, 1, now)
	url := serve(t, m)
	opts := map[string]any{"Limit": 1}
	sid := login(t, url, now)
	ok := func(sid string) bool {
		t.Helper()
		e := rpc(t, url, nil, "searchOrders", sid, opts)
		if e != nil && (e.Code != "INVALID_SESSION" || e.Message != "session expired or invalid") {
			t.Fatalf("error %v: %s, want INVALID_SESSION", e.Code, e.Message)
		}
		return e == nil
	}
	if !ok(sid) {
		t.Fatal("fresh session refused")
	}
	if ok("no-such-session") {
		t.Error("unknown session accepted")
	}
	if rpc(t, url, nil, "searchOrders") == nil {
		t.Error("call without a session accepted")
	}
	clk.Add(10*time.Minute - time.Second)
	if !ok(sid) {
		t.Error("session refused before 10 minutes")
	}
	clk.Add(time.Second)
	if ok(sid) {
		t.Error("session accepted after 10 minutes")
	}
	sid = login(t, url, clk.Now())
	m.ExpireSessions()
	if ok(sid) {
		t.Error("session accepted after ExpireSessions")
	}
}

func TestSearchOrdersErrors(t *testing.T) {
	now := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	m, _ := newMerchant(t, 1, now)
	url := serve(t, m)
	sid := login(t, url, now)
	tests := []struct {
		opts any
		code any
		want string // in the message
	}{
		{map[string]any{"Pagination": map[string]any{"Limit": 201}}, "INVALID_PARAMETER", "Limit must be at most 200"},
		{map[string]any{"Limit": 201}, "INVALID_PARAMETER", "Limit must be at most 200"},
		{map[string]any{"Pagination": map[string]any{"Limit": 0}}, "INVALID_PARAMETER", "Limit"},
		{map[string]any{"Pagination": map[string]any{"Page": 0}}, "INVALID_PARAMETER", "Page"},
		{map[string]any{"Pagination": map[string]any{"Page": "x"}}, "INVALID_PARAMETER", "Page"},
		{map[string]any{"StartDate": "01/02/2025"}, "INVALID_PARAMETER", "StartDate"},
		{map[string]any{"EndDate": 20250101}, "INVALID_PARAMETER", "EndDate"},
		{map[string]any{"IncludeTestOrders": "MAYBE"}, "INVALID_PARAMETER", "IncludeTestOrders"},
		{map[string]any{"Status": []string{"COMPLETE"}}, "INVALID_PARAMETER", "Status"},
		{"options", "INVALID_PARAMETER", "object"},
	}
	for _, tt := range tests {
		e := rpc(t, url, nil, "searchOrders", sid, tt.opts)
		if e == nil || e.Code != tt.code || !strings.Contains(e.Message, tt.want) {
			t.Errorf("searchOrders(%v): error %+v, want %v naming %q", tt.opts, e, tt.code, tt.want)
		}
	}
	if e := rpc(t, url, nil, "deleteEverything", sid); e == nil || e.Code != json.Number("-32601") {
		t.Errorf("unknown method: error %+v, want -32601", e)
	}
}

func TestProtocolErrors(t *testing.T) {
	m, _ := newMerchant(t, 1, time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	tests := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", sandbox.Path, "{not json", 200, "-32700"},
		{"POST", sandbox.Path, `{"jsonrpc":"2.0","id":1}`, 200, "-32600"},
		{"GET", sandbox.Path, "", 405, ""},
		{"POST", "/rest/6.0/orders/", "{}", 405, ""},
		{"POST", "/rest/6.1/orders/", "{}", 404, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Error *rpcError }
		dec := json.NewDecoder(resp.Body)
		dec.UseNumber()
		decErr := dec.Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s %q: HTTP %d, want %d", tt.method, tt.path, tt.body, resp.StatusCode, tt.status)
		}
		if tt.code != "" && (decErr != nil || r.Error == nil || fmt.Sprint(r.Error.Code) != tt.code) {
			t.Errorf("%s %s %q: error %+v (%v), want code %s", tt.method, tt.path, tt.body, r.Error, decErr, tt.code)
		}
	}
}

// nthOrderTime returns when the n-th order (from 1) from since was placed.
func nthOrderTime(t *testing.T, m *sandbox.Merchant, n int) time.Time {
	t.Helper()
	for d := since; ; d = d.AddDays(1) {
		orders := m.OrdersOn(d)
		if n <= len(orders) {
			at, err := time.ParseInLocation(extract.DateLayout, orders[n-1].OrderDate, m.Location())
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
		n -= len(orders)
	}
}

func TestSearchOrdersPaging(t *testing.T) {
	m, clk := newMerchant(t, 7, since.AddDays(30).In(time.UTC))
	// Stop the clock at the 1,037th order.
	clk.Set(nthOrderTime(t, m, 1037))
	url := serve(t, m)
	sid := login(t, url, clk.Now())

	var want []string
	for d := since; !d.After(since.AddDays(10)); d = d.AddDays(1) {
		for _, o := range m.OrdersOn(d) {
			want = append(want, o.RefNo)
		}
	}
	if len(want) != 1037 {
		t.Fatalf("%d orders visible, want 1037", len(want))
	}
	var got []string
	for p := 1; ; p++ {
		var res page[extract.Order]
		opts := map[string]any{"StartDate": since.String(), "EndDate": since.AddDays(60).String(), "IncludeTestOrders": "YES",
			"Pagination": map[string]any{"Page": p, "Limit": 100}}
		if e := rpc(t, url, &res, "searchOrders", sid, opts); e != nil {
			t.Fatalf("page %d: %v: %s", p, e.Code, e.Message)
		}
		if res.Pagination.Page != p || res.Pagination.Limit != 100 || res.Pagination.Count != 1037 {
			t.Fatalf("page %d: Pagination %+v", p, res.Pagination)
		}
		wantLen := 100
		if p == 11 {
			wantLen = 37
		} else if p > 11 {
			wantLen = 0
		}
		if len(res.Items) != wantLen {
			t.Fatalf("page %d: %d items, want %d", p, len(res.Items), wantLen)
		}
		if wantLen == 0 {
			break
		}
		for _, o := range res.Items {
			got = append(got, o.RefNo)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages hold %d orders, not the %d of OrdersOn in RefNo order", len(got), len(want))
	}
}

func TestSearchOrdersFilters(t *testing.T) {
	now := time.Date(2025, 2, 15, 9, 30, 0, 0, time.UTC)
	m, _ := newMerchant(t, 3, now)
	url := serve(t, m)
	sid := login(t, url, now)
	count := func(opts map[string]any) int {
		t.Helper()
		var res page[extract.Order]
		if e := rpc(t, url, &res, "searchOrders", sid, opts); e != nil {
			t.Fatalf("searchOrders(%v): %v: %s", opts, e.Code, e.Message)
		}
		return res.Pagination.Count
	}
	days := func(from, to civil.Date, test func(bool) bool) int {
		n := 0
		for d := from; !d.After(to); d = d.AddDays(1) {
			for _, o := range m.OrdersOn(d) {
				if test(o.TestOrder) {
					n++
				}
			}
		}
		return n
	}
	all := func(bool) bool { return true }
	nonTest := func(test bool) bool { return !test }
	only := func(test bool) bool { return test }
	today := civil.DateOf(now.In(m.Location()))
	feb := civil.Date{Year: 2025, Month: 2, Day: 1}
	tests := []struct {
		opts map[string]any
		want int
	}{
		{map[string]any{}, days(today.AddDays(-6), today, nonTest)},
		{map[string]any{"IncludeTestOrders": "YES"}, days(today.AddDays(-6), today, all)},
		{map[string]any{"StartDate": "2025-02-01", "EndDate": "2025-02-10", "IncludeTestOrders": "YES"}, days(feb, feb.AddDays(9), all)},
		{map[string]any{"StartDate": "2025-02-01", "EndDate": "2025-02-10", "IncludeTestOrders": "NO"}, days(feb, feb.AddDays(9), nonTest)},
		{map[string]any{"StartDate": "2025-02-01", "EndDate": "2025-02-10", "IncludeTestOrders": "ONLY"}, days(feb, feb.AddDays(9), only)},
		{map[string]any{"StartDate": "2025-02-01"}, days(feb, today, nonTest)},
		{map[string]any{"EndDate": "2025-01-05", "IncludeTestOrders": "YES"}, days(since, since.AddDays(4), all)},
		{map[string]any{"StartDate": "2024-01-01", "EndDate": "2024-12-31"}, 0},
		{map[string]any{"StartDate": "2025-02-16", "EndDate": "2025-03-31"}, 0},
		{map[string]any{"StartDate": "2025-02-10", "EndDate": "2025-02-01"}, 0},
	}
	for _, tt := range tests {
		if got := count(tt.opts); got != tt.want {
			t.Errorf("searchOrders(%v): Count %d, want %d", tt.opts, got, tt.want)
		}
	}

	// Default and top-level paging.
	var res page[extract.Order]
	rpc(t, url, &res, "searchOrders", sid, map[string]any{})
	if len(res.Items) != 10 || res.Pagination.Limit != 10 || res.Pagination.Page != 1 {
		t.Errorf("default paging: %d items, Pagination %+v; want 10 items, Page 1, Limit 10", len(res.Items), res.Pagination)
	}
	rpc(t, url, &res, "searchOrders", sid, map[string]any{"Page": 2, "Limit": 3})
	if len(res.Items) != 3 || res.Pagination.Limit != 3 || res.Pagination.Page != 2 {
		t.Errorf("top-level paging: %d items, Pagination %+v; want 3 items, Page 2, Limit 3", len(res.Items), res.Pagination)
	}
}

func TestSearchSubscriptions(t *testing.T) {
	m, clk := newMerchant(t, 5, since.AddDays(40).In(time.UTC).Add(90*time.Minute))
	url := serve(t, m)
	sid := login(t, url, clk.Now())
	var want []extract.Subscription
	for s := range m.Subscriptions() {
		want = append(want, s)
	}
	if len(want) < 1000 {
		t.Fatalf("%d subscriptions in 40 days, want more", len(want))
	}
	var got []extract.Subscription
	for p := 1; ; p++ {
		var res page[extract.Subscription]
		if e := rpc(t, url, &res, "searchSubscriptions", sid, map[string]any{"Pagination": map[string]any{"Page": p, "Limit": 200}}); e != nil {
			t.Fatalf("page %d: %v: %s", p, e.Code, e.Message)
		}
		if res.Pagination.Count != len(want) {
			t.Fatalf("page %d: Count %d, want %d", p, res.Pagination.Count, len(want))
		}
		got = append(got, res.Items...)
		if len(res.Items) < 200 {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read %d subscriptions, want %d", len(got), len(want))
	}
	refs := map[string]bool{}
	seen := map[string]int{}
	for i := range got {
		s := got[i]
		if !equalJSON(t, s, want[i]) {
			t.Fatalf("subscription %d: got %+v, want %+v", i, s, want[i])
		}
		if refs[s.SubscriptionReference] {
			t.Errorf("SubscriptionReference %s repeats", s.SubscriptionReference)
		}
		refs[s.SubscriptionReference] = true
		if s.MerchantCode != merchantCode {
			t.Errorf("%s: MerchantCode %q", s.SubscriptionReference, s.MerchantCode)
		}
		if s.Lifetime != (s.ExpirationDate == "") {
			t.Errorf("%s: Lifetime %v with ExpirationDate %q", s.SubscriptionReference, s.Lifetime, s.ExpirationDate)
		}
		if !s.Lifetime && s.NextBillingDate != s.ExpirationDate[:10] {
			t.Errorf("%s: NextBillingDate %q, ExpirationDate %q", s.SubscriptionReference, s.NextBillingDate, s.ExpirationDate)
		}
		if s.RecurringEnabled && !s.SubscriptionEnabled {
			t.Errorf("%s: recurring but disabled", s.SubscriptionReference)
		}
		seen[fmt.Sprintf("enabled=%v", s.SubscriptionEnabled)]++
		seen[fmt.Sprintf("recurring=%v", s.RecurringEnabled)]++
		seen[fmt.Sprintf("lifetime=%v", s.Lifetime)]++
		seen[fmt.Sprintf("test=%v", s.TestSubscription)]++
	}
	for _, k := range []string{"enabled=true", "enabled=false", "recurring=true", "recurring=false", "lifetime=true", "lifetime=false", "test=true", "test=false"} {
		if seen[k] == 0 {
			t.Errorf("no subscription with %s (%v)", k, seen)
		}
	}

	// A subscription becomes searchable 5 minutes after its order.
	last := want[len(want)-1]
	start, err := time.ParseInLocation(extract.DateLayout, last.StartDate, m.Location())
	if err != nil {
		t.Fatal(err)
	}
	activated, _ := time.ParseInLocation(extract.DateLayout, last.ActivationDate, m.Location())
	visible := start.Add(5 * time.Minute)
	if activated.After(visible) {
		visible = activated
	}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{{visible.Add(-time.Second), false}, {visible, true}} {
		clk.Set(tt.at)
		var res page[extract.Subscription]
		opts := map[string]any{"PurchasedAfter": start.Format("2006-01-02"), "Limit": 200}
		if e := rpc(t, url, &res, "searchSubscriptions", login(t, url, tt.at), opts); e != nil {
			t.Fatalf("%v: %s", e.Code, e.Message)
		}
		found := slices.ContainsFunc(res.Items, func(s extract.Subscription) bool {
			return s.SubscriptionReference == last.SubscriptionReference
		})
		if found != tt.want {
			t.Errorf("at %s: subscription of an order placed %s searchable %v, want %v", tt.at, last.StartDate, found, tt.want)
		}
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

func TestServeStopsWithContext(t *testing.T) {
	m, _ := newMerchant(t, 1, time.Now())
	ctx, cancel := context.WithCancel(t.Context())
	srv, err := sandbox.Serve(ctx, m, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(srv.URL(), sandbox.Path) {
		t.Errorf("URL %s does not end in %s", srv.URL(), sandbox.Path)
	}
	cancel()
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Post(srv.URL(), "application/json", strings.NewReader("{}")); err == nil {
		t.Error("server still answering after its context was canceled")
	}
}
