package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/transport"
	"github.com/ledgerline/ledgerline/extract/transport/orderjson"
)

// TestDecodeOrders holds decodeOrders, which takes orderjson's fast path
// when it can, to decodeResponse: the same result or the same error, for
// responses of every kind and random edits of them.
func TestDecodeOrders(t *testing.T) {
	order := `{"RefNo":"20100001","OrderNo":1,"ExternalReference":"","Status":"COMPLETE","ApproveStatus":"OK","OrderDate":"2025-01-01 10:00:00","FinishDate":"","Currency":"USD","Country":"US","TestOrder":false,"CustomerReference":5000001,"Affiliate":{"AffiliateCode":"AFF"},"NetPrice":9,"GrossPrice":9.9,"NetDiscountedPrice":9,"GrossDiscountedPrice":9.9,"Discount":0,"VAT":0.9,"AffiliateCommission":0,"AvangateCommission":0.93,"ChargebackResolution":"NONE","ChargebackReasonCode":"","Items":[{"Code":"P","ProductDetails":{"Name":"Product"},"SKU":"SKU-P","Quantity":1,"Price":{"Currency":"USD","NetPrice":9,"GrossPrice":9.9,"VAT":0.9,"UnitNetPrice":9}}]}`
	bodies := []string{
		`{"jsonrpc":"2.0","id":7,"result":{"Items":[` + order + `,` + order + `],"Pagination":{"Page":1,"Limit":200,"Count":2}}}` + "\n",
		`{"jsonrpc":2,"id":"7","response":{"Items":[],"Pagination":{"Page":3,"Limit":200,"Count":2}}}`,
		`{"jsonrpc":"2.0","id":8,"result":{"Items":[` + order + `]}}`,
		`{"jsonrpc":"2.0","id":null,"result":{"Items":[` + order + `]}}`,
		`{"jsonrpc":"2.0","id":7,"error":{"code":"INVALID_SESSION","message":"session expired"}}`,
		`{"jsonrpc":"2.0","id":7,"error":{"code":-32700,"message":"parse error"}}`,
		`{"jsonrpc":"2.0","id":7}`,
		`{"jsonrpc":"2.0","id":7,"result":null}`,
		`{"jsonrpc":"2.0","id":7,"result":{"Items":[{"RefNo":1}]}}`,
		`[1,2]`,
		`<html>502</html>`,
		``,
	}
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 3000 {
		body := []byte(bodies[round%len(bodies)])
		if round >= len(bodies) && len(body) > 0 {
			for range 1 + r.IntN(2) {
				if len(body) == 0 {
					break
				}
				i := r.IntN(len(body))
				switch r.IntN(4) {
				case 0:
					body = body[:i]
				case 1:
					body = append(body[:i:i], body[i+1:]...)
				case 2:
					body[i] = `{}[],:"\ 0.n`[r.IntN(12)]
				default:
					k := bytes.Index(body, []byte(`"Status":"COMPLETE"`))
					if k >= 0 {
						body = append(body[:k:k], append([]byte(`"status":"X","Status":"COMPLETE"`), body[k+len(`"Status":"COMPLETE"`):]...)...)
					}
				}
			}
		}
		for _, readErr := range []error{nil, io.ErrUnexpectedEOF} {
			var want searchResult[extract.Order]
			var src io.Reader = bytes.NewReader(body)
			if readErr != nil {
				src = io.MultiReader(src, errReader{readErr})
			}
			werr := decodeResponse(src, 7, &want)

			got := searchResult[extract.Order]{fast: new(orderjson.Decoder)}
			src = bytes.NewReader(body)
			if readErr != nil {
				src = io.MultiReader(src, errReader{readErr})
			}
			gerr := decodeOrders(src, 7, &got)

			if fmt.Sprint(gerr) != fmt.Sprint(werr) || transport.IsRetryable(gerr) != transport.IsRetryable(werr) {
				t.Fatalf("body %q (read error %v):\ndecodeOrders: %v\ndecodeResponse: %v", body, readErr, gerr, werr)
			}
			var gAPI, wAPI *extract.APIError
			if errors.As(gerr, &gAPI) != errors.As(werr, &wAPI) {
				t.Fatalf("body %q: API errors differ: %v, %v", body, gerr, werr)
			}
			if werr == nil && (!reflect.DeepEqual(got.Items, want.Items) || got.Pagination != want.Pagination) {
				t.Fatalf("body %q:\ndecodeOrders %+v %+v\ndecodeResponse %+v %+v", body, got.Items, got.Pagination, want.Items, want.Pagination)
			}
		}
	}
	if !strings.Contains(bodies[0], "COMPLETE") {
		t.Fatal("bad fixture")
	}
}
