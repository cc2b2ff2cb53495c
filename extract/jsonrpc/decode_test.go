package jsonrpc

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apiclient"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// TestDecodeResponse holds decodeResponse to JSON-RPC: the result or
// response member decoded, an error member as an *extract.APIError, the
// id checked, and bodies cut short, not JSON or failing to be read
// marked retryable, while values of the wrong shape are not.
func TestDecodeResponse(t *testing.T) {
	order := `{"RefNo":"20100001","OrderNo":1,"Status":"COMPLETE","GrossPrice":9.90,"Items":[{"Code":"P","Quantity":1,"Price":{"Currency":"USD","GrossPrice":9.9}}]}`
	full := `{"jsonrpc":"2.0","id":7,"result":{"Items":[` + order + `,` + order + `],"Pagination":{"Page":1,"Limit":200,"Count":2}}}` + "\n"
	for _, tt := range []struct {
		name      string
		body      string
		readErr   error
		items     int
		page      int
		err       string // "" when decoding succeeds
		apiCode   string
		retryable bool
		bare      bool // the result is a bare array, which only a looseResult takes
	}{
		{name: "result", body: full, items: 2, page: 1},
		{name: "response member, string id", body: `{"jsonrpc":2,"id":"7","response":{"Items":[],"Pagination":{"Page":3,"Limit":200,"Count":2}}}`, page: 3},
		{name: "null id", body: `{"jsonrpc":"2.0","id":null,"result":{"Items":[` + order + `]}}`, items: 1},
		{name: "bare array", body: `{"jsonrpc":"2.0","id":7,"result":[` + order + `,` + order + `,` + order + `]}`, items: 3, bare: true},
		{name: "empty bare array", body: `{"jsonrpc":"2.0","id":7,"result":[]}`, bare: true},
		{name: "null result", body: `{"jsonrpc":"2.0","id":7,"result":null}`, err: "decoding response: neither result nor error"},
		{name: "null Items", body: `{"jsonrpc":"2.0","id":7,"result":{"Items":null,"Pagination":{"Page":1,"Limit":200,"Count":2}}}`,
			err: "decoding response: the search result has no Items (missing or null)", retryable: true},
		{name: "missing Items", body: `{"jsonrpc":"2.0","id":7,"result":{"Pagination":{"Page":1,"Limit":200,"Count":0}}}`,
			err: "decoding response: the search result has no Items (missing or null)", retryable: true},
		{name: "empty result", body: `{"jsonrpc":"2.0","id":7,"result":{}}`,
			err: "decoding response: the search result has no Items (missing or null)", retryable: true},
		{name: "other id", body: `{"jsonrpc":"2.0","id":8,"result":{"Items":[` + order + `]}}`, err: "response id 8 does not match request id 7"},
		{name: "API error", body: `{"jsonrpc":"2.0","id":7,"error":{"code":"INVALID_SESSION","message":"session expired"}}`, err: "INVALID_SESSION: session expired", apiCode: "INVALID_SESSION"},
		{name: "protocol error", body: `{"jsonrpc":"2.0","id":7,"error":{"code":-32700,"message":"parse error"}}`, err: "-32700: parse error", apiCode: "-32700"},
		{name: "neither", body: `{"jsonrpc":"2.0","id":7}`, err: "decoding response: neither result nor error"},
		{name: "wrong type", body: `{"jsonrpc":"2.0","id":7,"result":{"Items":[{"RefNo":1}]}}`, err: "?"},
		{name: "not an object", body: `[1,2]`, err: "?"},
		{name: "not JSON", body: `<html>502</html>`, err: "?", retryable: true},
		{name: "empty", body: ``, err: "?", retryable: true},
		{name: "cut short", body: full[:len(full)/2], err: "?", retryable: true},
		{name: "read error", body: full[:len(full)/2], readErr: errors.New("connection reset"), err: "?", retryable: true},
	} {
		for _, loose := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{true: " loose"}[loose], func(t *testing.T) {
				var src io.Reader = bytes.NewReader([]byte(tt.body))
				if tt.readErr != nil {
					src = io.MultiReader(src, errReader{tt.readErr})
				}
				var res apiclient.SearchResult[extract.Order]
				var err error
				if loose {
					var lr looseResult[extract.Order]
					if err = decodeResponse(src, 7, &lr); err == nil {
						err = lr.check()
					}
					res = lr.SearchResult
				} else {
					var sr searchResult[extract.Order]
					if err = decodeResponse(src, 7, &sr); err == nil {
						err = sr.check()
					}
					res = sr.SearchResult
				}
				if tt.bare && !loose {
					// Only subscriptions are read as loose results.
					if err == nil || transport.IsRetryable(err) {
						t.Errorf("a bare array as a strict result: error %v, want one not retryable", err)
					}
					return
				}
				if loose && tt.bare != res.Bare {
					t.Errorf("Bare %v, want %v", res.Bare, tt.bare)
				}
				switch {
				case tt.err == "" && err != nil:
					t.Fatalf("error %v", err)
				case tt.err == "":
					items := *res.Items
					if len(items) != tt.items || res.Pagination.Page != tt.page {
						t.Errorf("%d items, page %d; want %d, %d", len(items), res.Pagination.Page, tt.items, tt.page)
					}
					if tt.items > 0 && (items[0].GrossPrice != "9.90" || items[0].Items[0].Price.GrossPrice != "9.9") {
						t.Errorf("amounts not exact: %+v", items[0])
					}
					return
				case err == nil:
					t.Fatalf("no error, want %s", tt.err)
				case tt.err != "?" && err.Error() != tt.err:
					t.Errorf("error %q, want %q", err, tt.err)
				}
				if got := transport.IsRetryable(err); got != tt.retryable {
					t.Errorf("retryable %v, want %v (%v)", got, tt.retryable, err)
				}
				apiErr, ok := errors.AsType[*extract.APIError](err)
				if code := ""; ok {
					code = apiErr.Code
					if code != tt.apiCode {
						t.Errorf("API error code %q, want %q", code, tt.apiCode)
					}
				} else if tt.apiCode != "" {
					t.Errorf("no API error, want code %q", tt.apiCode)
				}
			})
		}
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
