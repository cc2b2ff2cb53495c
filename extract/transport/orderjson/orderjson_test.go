package orderjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport/orderjson"
)

// reference is what encoding/json decodes a search result into.
type reference struct {
	Items      []extract.Order
	Pagination struct{ Page, Limit, Count int }
}

// check decodes data with the Decoder and with encoding/json, and fails
// if the Decoder reports success where encoding/json fails or decodes
// something else. It reports whether the Decoder took the data.
func check(t testing.TB, d *orderjson.Decoder, data []byte) bool {
	t.Helper()
	var want reference
	dec := json.NewDecoder(bytes.NewReader(data))
	werr := dec.Decode(&want)
	var p orderjson.Pagination
	got, n, ok := d.Decode(data, nil, &p)
	if !ok {
		return false
	}
	if werr != nil {
		t.Fatalf("Decode took data that encoding/json refuses (%v):\n%s", werr, data)
	}
	if !reflect.DeepEqual(got, want.Items) {
		t.Fatalf("Decode decoded\n%+v\nencoding/json\n%+v\nfrom\n%s", got, want.Items, data)
	}
	if p != orderjson.Pagination(want.Pagination) {
		t.Fatalf("Decode decoded Pagination %+v, encoding/json %+v, from\n%s", p, want.Pagination, data)
	}
	if int64(n) != dec.InputOffset() {
		t.Fatalf("Decode ended at %d, encoding/json at %d, in\n%s", n, dec.InputOffset(), data)
	}
	return true
}

// page returns a REST search page of the sandbox: orders of every kind.
func page(t testing.TB, limit int) []byte {
	t.Helper()
	since := civil.Date{Year: 2025, Month: time.January, Day: 1}
	now := since.AddDays(60).In(time.UTC)
	m, err := sandbox.New(sandbox.Config{MerchantCode: "M", SecretKey: "k", Seed: 3, Since: since, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	date, hash, _ := extract.SignNow("sha256", "k", "M", now)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s%sorders/?StartDate=2025-01-05&EndDate=2025-02-20&IncludeTestOrders=YES&Limit=%d&Page=3", srv.URL, sandbox.RESTPath, limit), nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set(sandbox.AuthHeader, `code="M" date="`+date+`" hash="`+hash+`"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %d %s", err, resp.StatusCode, body)
	}
	return body
}

func TestDecodePage(t *testing.T) {
	body := page(t, 200)
	var d orderjson.Decoder
	for range 3 { // the table filled, then reused
		if !check(t, &d, body) {
			t.Fatal("Decode did not take a sandbox page")
		}
	}
	var p orderjson.Pagination
	items, _, _ := d.Decode(body, make([]extract.Order, 5, 10), &p)
	if len(items) != 200 || p.Limit != 200 || p.Page != 3 {
		t.Errorf("got %d items, %+v", len(items), p)
	}
}

// edits are changes to a page that keep it JSON, or nearly: each applies
// to the first match of re at or after a random offset.
var edits = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"RefNo":`), `"refno":`}, // case-insensitive key
	{regexp.MustCompile(`"SKU":`), `"Sku":`},     // case-insensitive key
	{regexp.MustCompile(`"Country":`), `"Extra":{"a":[1,2.5e3,null,true,false,"x\"y"],"b":{}},"Country":`},
	{regexp.MustCompile(`"Status":`), `"Language":"en","Status":`},
	{regexp.MustCompile(`"Status":"([A-Z]+)"`), `"Status":"$1","Status":"X"`}, // repeated key
	{regexp.MustCompile(`"NetPrice":([0-9.]+)`), `"NetPrice":"$1"`},           // number as string
	{regexp.MustCompile(`"NetPrice":([0-9.]+)`), `"NetPrice":"x$1"`},          // not a number
	{regexp.MustCompile(`"Quantity":[0-9]+`), `"Quantity":true`},
	{regexp.MustCompile(`"TestOrder":(true|false)`), `"TestOrder":"$1"`},
	{regexp.MustCompile(`"TestOrder":(true|false)`), `"TestOrder":null`},
	{regexp.MustCompile(`"Name":"`), `"Name":"A \"quoted\" \u00e9 \/ name `}, // escapes
	{regexp.MustCompile(`"Name":"`), "\"Name\":\"caf\xc3\xa9 "},              // UTF-8
	{regexp.MustCompile(`"Name":"`), "\"Name\":\"bad \xff "},                 // invalid UTF-8
	{regexp.MustCompile(`"Name":"`), "\"Name\":\"ctl \x01 "},                 // control character
	{regexp.MustCompile(`"Affiliate":null`), `"Affiliate":{"AffiliateCode":"A1","Other":1}`},
	{regexp.MustCompile(`"Affiliate":\{`), `"Affiliate":null,"X":{`},
	{regexp.MustCompile(`"Affiliate":`), `"Affiliate":"x","Y":`},
	{regexp.MustCompile(`"ProductDetails":\{[^}]*\}`), `"ProductDetails":null`},
	{regexp.MustCompile(`"Price":\{`), `"Price":null,"Z":{`},
	{regexp.MustCompile(`"Items":\[\{"Code"`), `"Items":[],"I":[{"Code"`},
	{regexp.MustCompile(`"Items":\[\{"Code"`), `"Items":null,"I":[{"Code"`},
	{regexp.MustCompile(`"Items":\[\{"Code"`), `"Items":[null,{"Code"`},
	{regexp.MustCompile(`"OrderNo":([0-9]+)`), `"OrderNo":$1.0e2`},
	{regexp.MustCompile(`"OrderNo":([0-9]+)`), `"OrderNo":-0`},
	{regexp.MustCompile(`"OrderNo":([0-9]+)`), `"OrderNo":01`},
	{regexp.MustCompile(`"OrderNo":([0-9]+)`), `"OrderNo":1.`},
	{regexp.MustCompile(`"OrderNo":([0-9]+)`), `"OrderNo":1e`},
	{regexp.MustCompile(`"RefNo":"`), `"RefNo":"esc\u0041ped `},
	{regexp.MustCompile(`"OrderDate":"`), `"OrderDate":null,"X":"`},
	{regexp.MustCompile(`"FinishDate":"[^"]*"`), `"FinishDate":7`},
	{regexp.MustCompile(`"CustomerReference":([0-9]+)`), `"CustomerReference":"$1"`},
	{regexp.MustCompile(`"CustomerReference":([0-9]+)`), `"CustomerReference":null`},
	{regexp.MustCompile(`"ExternalReference":"`), `"ExternalReference":"x`},
	{regexp.MustCompile(`"Count":([0-9]+)`), `"Count":$1.0`},
	{regexp.MustCompile(`"Count":([0-9]+)`), `"Count":"$1"`},
	{regexp.MustCompile(`"Count":([0-9]+)`), `"Count":99999999999999999999`},
	{regexp.MustCompile(`"Pagination":`), `"pagination":`},
	{regexp.MustCompile(`"Pagination":`), `"Pagination":null,"P":`},
	{regexp.MustCompile(`,`), " ,\n\t"},
	{regexp.MustCompile(`:`), " : "},
	{regexp.MustCompile(`\{`), "{\r\n "},
	{regexp.MustCompile(`\}`), " }"},
	{regexp.MustCompile(`"Code":`), `"C\u006fde":`}, // escaped key
	{regexp.MustCompile(`"Code":`), "\"Cod\xc3\xa9\":"},
	{regexp.MustCompile(`"Code":`), `"ſKU":`}, // folds to SKU in encoding/json
	{regexp.MustCompile(`"Code":"[^"]*"`), `"Code":123`},
	{regexp.MustCompile(`"Discount":`), `"Discount":[1],"D":`},
	{regexp.MustCompile(`"VAT":[0-9.]+`), `"VAT":-1.5E+3`},
	{regexp.MustCompile(`\}$`), `}garbage`},
	{regexp.MustCompile(`\]`), `,]`},
	{regexp.MustCompile(`\}`), `,}`},
	{regexp.MustCompile(`"`), ``},
	{regexp.MustCompile(`[0-9]`), `\`},
}

// TestDecodeEdits holds the Decoder to encoding/json over pages with
// random edits: what it takes, it must decode as encoding/json does.
func TestDecodeEdits(t *testing.T) {
	base := bytes.TrimSpace(page(t, 12))
	r := rand.New(rand.NewPCG(7, 8))
	var d orderjson.Decoder
	took, total := 0, 0
	for round := range 4000 {
		data := bytes.Clone(base)
		for range 1 + r.IntN(3) {
			switch x := r.IntN(10); {
			case x < 7:
				e := edits[r.IntN(len(edits))]
				at := r.IntN(len(data))
				loc := e.re.FindIndex(data[at:])
				if loc == nil {
					continue
				}
				m := data[at+loc[0] : at+loc[1]]
				repl := e.re.ReplaceAll(bytes.Clone(m), []byte(e.repl))
				data = append(data[:at+loc[0]:at+loc[0]], append(repl, data[at+loc[1]:]...)...)
			case x < 8: // delete a byte
				i := r.IntN(len(data))
				data = append(data[:i:i], data[i+1:]...)
			case x < 9: // truncate
				data = data[:r.IntN(len(data))]
			default: // replace a byte
				data[r.IntN(len(data))] = "{}[],:\"\\ 0e.-ntf"[r.IntN(16)]
			}
		}
		total++
		if check(t, &d, data) {
			took++
		}
		_ = round
	}
	t.Logf("the Decoder took %d of %d edited pages", took, total)
	if took < total/10 {
		t.Errorf("the Decoder took only %d of %d edited pages", took, total)
	}
}

func TestDecodeShapes(t *testing.T) {
	var d orderjson.Decoder
	for _, tt := range []struct {
		data string
		take bool
	}{
		{`{}`, true},
		{` {"Items":[]} `, true},
		{`{"Items":[{}],"Pagination":{}}`, true},
		{`{"Items":[{"Items":[]}]}`, true},
		{`{"Items":[{"Items":null,"Affiliate":null}]}`, true},
		{`{"Items":[{"RefNo":null,"OrderNo":null}]}`, true},
		{`{"Items":[{"OrderNo":"12"}]}`, true},
		{`{"Items":[{"OrderNo":" 12"}]}`, false},
		{`{"Items":[{"Unknown":{"deep":[[[[]]]]}}]}`, true},
		{`{"Items":[{"RefNo":"a\nb"}]}`, true},
		{`{"Items":[{"RefNo":"\ud800"}]}`, true},
		{`{"Items":[{"RefNo":"x"}]}` + "\n" + `{"more":1}`, true},
		{`[]`, false},
		{`null`, false},
		{``, false},
		{`{"Items":[{"RefNo":"x"}]`, false},
		{`{"Items":null}`, false},
		{`{"items":[]}`, false},
		{`{"Pagination":{"Page":1,"Limit":2,"Count":3,"count":4}}`, false},
		{`{"Pagination":{"Page":-0,"Limit":2,"Count":1e2}}`, false},
	} {
		if got := check(t, &d, []byte(tt.data)); got != tt.take {
			t.Errorf("Decode(%s) took it: %v, want %v", tt.data, got, tt.take)
		}
	}
	deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)
	if check(t, &d, []byte(`{"X":`+deep+`}`)) {
		t.Error("Decode took nesting past its limit")
	}
}

// TestDecodeRPC checks the JSON-RPC envelope.
func TestDecodeRPC(t *testing.T) {
	var d orderjson.Decoder
	for _, tt := range []struct {
		data string
		id   string
		ok   bool
	}{
		{`{"jsonrpc":"2.0","id":7,"result":{"Items":[{"RefNo":"1"}],"Pagination":{"Page":1}}}`, "7", true},
		{`{"jsonrpc":2,"response":{"Items":[{"RefNo":"1"}]},"id":"7"}`, `"7"`, true},
		{`{"id":1,"id":2,"result":{}}`, "2", true},
		{`{"result":{}}`, "", true},
		{`{"result":{},"result":{}}`, "", false},
		{`{"result":{},"response":{}}`, "", false},
		{`{"error":{"code":1,"message":"x"},"result":{}}`, "", false},
		{`{"jsonrpc":"2.0"}`, "", false},
		{`{"result":null}`, "", false},
		{`{"result":"sid"}`, "", false},
		{`{"r\u0065sult":{}}`, "", false},
		{`{"résumé":1,"result":{}}`, "", true},
		{`{"result":{}`, "", false},
	} {
		var p orderjson.Pagination
		_, id, ok := d.DecodeRPC([]byte(tt.data), nil, &p)
		if ok != tt.ok || ok && string(id) != tt.id {
			t.Errorf("DecodeRPC(%s) = id %s, %v; want %s, %v", tt.data, id, ok, tt.id, tt.ok)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(page(f, 3))
	f.Add([]byte(`{"Items":[{"RefNo":"1","Items":[{"Price":{"VAT":"1.5"}}]}],"Pagination":{"Page":1}}`))
	var d orderjson.Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, &d, data)
	})
}

func BenchmarkDecode(b *testing.B) {
	body := page(b, 200)
	var d orderjson.Decoder
	var items []extract.Order
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		clear(items[:cap(items)])
		var p orderjson.Pagination
		var ok bool
		items, _, ok = d.Decode(body, items, &p)
		if !ok {
			b.Fatal("not taken")
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "orders/s")
}

func BenchmarkEncodingJSON(b *testing.B) {
	body := page(b, 200)
	var res reference
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		clear(res.Items[:cap(res.Items)])
		res.Items = res.Items[:0]
		if err := json.Unmarshal(body, &res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(res.Items))/b.Elapsed().Seconds(), "orders/s")
}
