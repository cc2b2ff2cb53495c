// Package rest reads orders and subscriptions from the 2Checkout REST API
// 6.0.
//
// Every request carries its own X-Avangate-Authentication header, signed
// with the account's secret key and the current UTC time, so there is no
// session to keep. The header is signed afresh for every attempt, retries
// included, so that a request retried after a long wait never carries a
// stale date. Searches are paged by Page and Limit; each page is decoded
// from the response body straight into the extract record types with
// apijson, the library the sandbox encodes with; their numbers are
// json.Number, so amounts arrive exactly as sent.
//
// Every call goes through a transport.Transport: attempts are timed out,
// throttled and failed requests retried with back-off (honouring
// Retry-After), and the account's request rate and requests in flight are
// capped. A response body that turns out truncated or malformed is retried
// within the same budget. Searches are read with paging.Paginate, so
// that orders placed while a search is paged are neither lost nor yielded
// twice.
//
// Errors come back as an HTTP status other than 200 with a JSON body
// {"error_code":"...","message":"..."}; the client reports them as a
// *transport.StatusError wrapping an *extract.APIError, inside an
// *extract.RequestError naming the account, stream, request and page. A
// 401 wraps extract.ErrAuthentication too.
package rest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apiclient"
	json "github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// DefaultEndpoint is the public REST API 6.0 base URL.
const DefaultEndpoint = "https://api.2checkout.com/rest/6.0/"

// DefaultPageSize is the page size searches use unless configured; it is
// the largest the API allows.
const DefaultPageSize = 200

// AuthHeader is the header that authenticates every request.
const AuthHeader = "X-Avangate-Authentication"

// Config configures a Client: the account, Endpoint (the base URL of the
// API; empty means DefaultEndpoint), MerchantCode, SecretKey and HMAC,
// page size, transport, clock and logger. Now is the clock that signs
// requests. The client signs each attempt in a RoundTripper in front of
// Transport.Base; nil means the transport package's shared default.
type Config = apiclient.Config

// A Client reads one account through the REST API. It implements
// extract.Source and is safe for concurrent use.
type Client struct {
	*apiclient.Client
}

var _ extract.Source = (*Client)(nil)

// New returns a client for the account cfg describes.
func New(cfg Config) (*Client, error) {
	if cfg.MerchantCode == "" {
		return nil, errors.New("rest: MerchantCode is required")
	}
	if cfg.SecretKey == "" {
		return nil, errors.New("rest: SecretKey is required")
	}
	account := cmp.Or(cfg.Account, cfg.MerchantCode)
	algo, err := extract.CheckAlgorithm(cfg.HMAC)
	if err != nil {
		return nil, fmt.Errorf("rest: account %s: %w", account, err)
	}
	s := &signer{code: cfg.MerchantCode, secret: cfg.SecretKey, algo: algo}
	base, err := apiclient.New(cfg, apiclient.Spec{API: "rest", DefaultEndpoint: DefaultEndpoint, DefaultPageSize: DefaultPageSize,
		Account: cfg.MerchantCode, Directory: true,
		Wrap: func(next http.RoundTripper) http.RoundTripper { s.next = next; return s }})
	if err != nil {
		return nil, err
	}
	s.now = base.Now
	base.ReadAhead = max(cfg.Concurrency-1, 0) // search's fetch is safe for concurrent use
	return &Client{Client: base}, nil
}

// signer is the RoundTripper under the transport: it sends every attempt
// with an authentication header signed at the time of the attempt. The
// header is never on the request the client makes, so it is in no error
// or log record.
type signer struct {
	next               http.RoundTripper
	code, secret, algo string
	now                func() time.Time
}

func (s *signer) RoundTrip(req *http.Request) (*http.Response, error) {
	date, hash, err := extract.SignNow(s.algo, s.secret, s.code, s.now())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	// A RoundTripper must not modify its request.
	r := new(http.Request)
	*r = *req
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	h := `code="` + s.code + `" date="` + date + `" hash="` + hash + `"`
	if s.algo != "md5" {
		// API 6.0 takes sha256 or sha3-256 in algo; MD5 signatures are
		// sent without it.
		h += ` algo="` + s.algo + `"`
	}
	r.Header.Set(AuthHeader, h)
	return s.next.RoundTrip(r)
}

// API returns "rest".
func (c *Client) API() string { return "rest" }

// Orders yields the orders placed within w, test orders included, page by
// page (GET orders/). Each order is yielded once, even if orders are
// placed while the search is paged.
func (c *Client) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	q := url.Values{
		"StartDate":         {w.From.String()},
		"EndDate":           {w.To.String()},
		"IncludeTestOrders": {"YES"},
	}
	ctx = transport.WithLogAttrs(ctx, "window", w.String())
	return extract.InWindow(search[extract.Order, searchResult[extract.Order]](ctx, c, extract.StreamOrders, "orders/", q, func(o *extract.Order) string { return o.RefNo }, yield), w)
}

// Subscriptions yields the subscriptions f asks for, page by page (GET
// subscriptions/), each once.
func (c *Client) Subscriptions(ctx context.Context, f extract.SubscriptionFilter, yield func(extract.Page[extract.Subscription]) error) error {
	q := url.Values{}
	if !f.ModifiedAfter.IsZero() {
		q.Set("ModifiedAfter", f.ModifiedAfter.String())
	}
	return search[extract.Subscription, looseResult[extract.Subscription]](ctx, c, extract.StreamSubscriptions, "subscriptions/", q,
		func(s *extract.Subscription) string { return s.SubscriptionReference }, yield)
}

// searchResult is the result of a search: {Items, Pagination}.
type searchResult[T any] struct{ apiclient.SearchResult[T] }

func (r *searchResult[T]) reset()       { r.Reset() }
func (r *searchResult[T]) check() error { return r.Check() }

// looseResult is a searchResult that may come as a bare array, as the
// subscription search does on some accounts.
type looseResult[T any] struct{ apiclient.LooseResult[T] }

func (r *looseResult[T]) reset()       { r.Reset() }
func (r *looseResult[T]) check() error { return r.Check() }

// result is a pointer to a search result type R of items T.
type result[T, R any] interface {
	*R
	reset()
	check() error
	Page() ([]T, int)
}

// search pages through a resource, items identified by key.
func search[T, R any, P result[T, R]](ctx context.Context, c *Client, stream, path string, q url.Values, key func(*T) string, yield func(extract.Page[T]) error) error {
	q.Set("Limit", strconv.Itoa(c.PageSize))
	return apiclient.Search(ctx, c.Client, stream, "GET /"+path, key, func(ctx context.Context, page int) ([]T, int, error) {
		// Pages may be read ahead, concurrently: each has its own query
		// and result.
		var res R
		q := maps.Clone(q)
		q.Set("Page", strconv.Itoa(page))
		if err := c.call(ctx, stream, path, page, q, P(&res)); err != nil {
			return nil, 0, err
		}
		items, count := P(&res).Page()
		return items, count, nil
	}, yield)
}

// wireError is the body of an error response.
type wireError struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

// resetter is a result that must be reset before each attempt at decoding
// into it, and checked after.
type resetter interface {
	reset()
	check() error
}

// call makes one GET request of path (relative to the base URL) with query
// q and decodes the 2xx response's body into result. It is the only place
// that talks to the API. A response body that is truncated or malformed
// is retried like a failed request, within the transport's budget. Every
// error it returns is an *extract.RequestError.
func (c *Client) call(ctx context.Context, stream, path string, page int, q url.Values, result resetter) error {
	target := c.URL(path, q)
	return c.Retry(ctx, stream, "GET /"+path, page, func(ctx context.Context) error {
		result.reset()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		return c.Do(req, bodyError, func(body io.Reader) error {
			if err := transport.DecodeJSON(body, result); err != nil {
				return err
			}
			return result.check()
		})
	})
}

// bodyError returns the API error a response with status code carried, if
// any. A 401 wraps extract.ErrAuthentication.
func bodyError(code int, body []byte) error {
	var e wireError
	var apiErr error
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		apiErr = &extract.APIError{Code: e.Code, Message: e.Message}
	}
	if code == http.StatusUnauthorized {
		if apiErr == nil {
			return extract.ErrAuthentication
		}
		return fmt.Errorf("%w: %w", extract.ErrAuthentication, apiErr)
	}
	return apiErr
}
