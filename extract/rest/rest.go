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
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	json "github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/paging"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// DefaultEndpoint is the public REST API 6.0 base URL.
const DefaultEndpoint = "https://api.2checkout.com/rest/6.0/"

// DefaultPageSize is the page size searches use unless configured; it is
// the largest the API allows.
const DefaultPageSize = 200

// AuthHeader is the header that authenticates every request.
const AuthHeader = "X-Avangate-Authentication"

// maxErrorBody bounds how much of a non-200 response is read.
const maxErrorBody = 1 << 20

// Config configures a Client.
type Config struct {
	// Account names the account in errors and logs; empty means
	// MerchantCode.
	Account string
	// Endpoint is the base URL of the API; empty means DefaultEndpoint.
	Endpoint     string
	MerchantCode string
	SecretKey    string
	// HMAC is the signature algorithm: "sha256" (the default), "sha3-256"
	// or "md5".
	HMAC string
	// PageSize is the Limit of every search page; zero means
	// DefaultPageSize. The API allows at most 200 and reports an error
	// for more.
	PageSize int
	// Transport configures the timeouts, retries, rate limit and
	// concurrency cap of the account's requests; its zero value takes the
	// transport package's defaults, and a nil Policy.Logger means Logger.
	// The client signs each attempt in a RoundTripper in front of
	// Transport.Base; nil means a clone of http.DefaultTransport, shared
	// by all clients, that keeps 64 idle connections per host.
	Transport transport.Config
	// MaxPasses bounds how many times a search that changed while it was
	// paged is read; zero means paging.DefaultMaxPasses.
	MaxPasses int
	// Now is the clock that signs requests; nil means time.Now.
	Now func() time.Time
	// Logger receives paging events; nil discards them.
	Logger *slog.Logger
}

// A Client reads one account through the REST API. It implements
// extract.Source and is safe for concurrent use.
type Client struct {
	account   string
	base      *url.URL
	pageSize  int
	maxPasses int
	http      *http.Client
	transport *transport.Transport
	log       *slog.Logger
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
	c := &Client{
		account:   cfg.Account,
		pageSize:  cfg.PageSize,
		maxPasses: cfg.MaxPasses,
		log:       cfg.Logger,
	}
	if c.account == "" {
		c.account = cfg.MerchantCode
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("rest: account %s: endpoint %q is not an http(s) URL without credentials", c.account, redact(endpoint, u))
	}
	if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	c.base = u
	s := &signer{code: cfg.MerchantCode, secret: cfg.SecretKey, algo: cfg.HMAC, now: cfg.Now}
	if s.algo == "" {
		s.algo = extract.Algorithms[0]
	}
	if _, err := extract.Sign(s.algo, "", "", ""); err != nil {
		return nil, fmt.Errorf("rest: account %s: %w", c.account, err)
	}
	switch {
	case c.pageSize == 0:
		c.pageSize = DefaultPageSize
	case c.pageSize < 0:
		return nil, fmt.Errorf("rest: account %s: negative PageSize %d", c.account, c.pageSize)
	}
	if c.maxPasses < 0 {
		return nil, fmt.Errorf("rest: account %s: negative MaxPasses %d", c.account, c.maxPasses)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	tc := cfg.Transport
	if tc.Policy.Logger == nil {
		tc.Policy.Logger = c.log.With("account", c.account)
	}
	s.next = tc.Base
	if s.next == nil {
		s.next = defaultBase()
	}
	tc.Base = s
	t, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("rest: account %s: %w", c.account, err)
	}
	c.transport = t
	c.http = &http.Client{Transport: t}
	return c, nil
}

// defaultBase is the RoundTripper under the signer of clients configured
// without a Transport.Base, shared by them all: a clone of
// http.DefaultTransport that keeps enough idle connections to a host for
// the requests in flight to reuse them (http.DefaultTransport keeps 2).
var defaultBase = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
})

// redact returns the endpoint without a password, for error messages.
func redact(endpoint string, u *url.URL) string {
	if u != nil && u.User != nil {
		return u.Redacted()
	}
	return endpoint
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
	r.Header.Set(AuthHeader, `code="`+s.code+`" date="`+date+`" hash="`+hash+`" algo="`+s.algo+`"`)
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
	return search(ctx, c, extract.StreamOrders, "orders/", q, func(o *extract.Order) string { return o.RefNo }, yield)
}

// Subscriptions yields every subscription of the account, page by page
// (GET subscriptions/), each once.
func (c *Client) Subscriptions(ctx context.Context, yield func(extract.Page[extract.Subscription]) error) error {
	return search(ctx, c, extract.StreamSubscriptions, "subscriptions/", url.Values{},
		func(s *extract.Subscription) string { return s.SubscriptionReference }, yield)
}

// searchResult is the body of a search response.
type searchResult[T any] struct {
	Items      []T `json:"Items"`
	Pagination struct {
		Page  int `json:"Page"`
		Limit int `json:"Limit"`
		Count int `json:"Count"`
	} `json:"Pagination"`
}

// reset readies r for decoding a page: decoding must not see the values of
// the last page, or of a failed attempt at this one.
func (r *searchResult[T]) reset() {
	clear(r.Items[:cap(r.Items)])
	r.Items = r.Items[:0]
	r.Pagination.Page, r.Pagination.Limit, r.Pagination.Count = 0, 0, 0
}

// search pages through a resource with paging.Paginate, items
// identified by key. Every page reuses the previous page's items.
func search[T any](ctx context.Context, c *Client, stream, path string, q url.Values, key func(*T) string, yield func(extract.Page[T]) error) error {
	var res searchResult[T]
	method := "GET /" + path
	q.Set("Limit", strconv.Itoa(c.pageSize))
	err := paging.Paginate(ctx, paging.Search[T]{
		PageSize:  c.pageSize,
		MaxPasses: c.maxPasses,
		Key:       key,
		Logger:    c.log.With("account", c.account, "stream", stream, "method", method),
		Fetch: func(ctx context.Context, page int) ([]T, int, error) {
			q.Set("Page", strconv.Itoa(page))
			start := time.Now()
			if err := c.call(ctx, stream, path, page, q, &res); err != nil {
				return nil, 0, err
			}
			c.log.DebugContext(ctx, "2checkout page",
				"account", c.account, "stream", stream, "method", method, "page", page,
				"items", len(res.Items), "count", res.Pagination.Count, "elapsed", time.Since(start))
			return res.Items, res.Pagination.Count, nil
		},
	}, yield)
	if uerr, ok := errors.AsType[*paging.UnsettledError](err); ok {
		return &extract.RequestError{Account: c.account, Stream: stream, Method: method, Page: uerr.Page, Err: uerr}
	}
	return err
}

// wireError is the body of an error response.
type wireError struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

// resetter is a result that must be reset before each attempt at decoding
// into it.
type resetter interface{ reset() }

// call makes one GET request of path (relative to the base URL) with query
// q and decodes the 200 response's body into result. It is the only place
// that talks to the API. A response body that is truncated or malformed
// is retried like a failed request, within the transport's budget. Every
// error it returns is an *extract.RequestError.
func (c *Client) call(ctx context.Context, stream, path string, page int, q url.Values, result resetter) error {
	u := *c.base
	u.Path += path
	u.RawPath = ""
	u.RawQuery = q.Encode()
	target := u.String()
	err := c.transport.Retry(ctx, func(ctx context.Context) error {
		result.reset()
		return c.attempt(ctx, target, result)
	})
	if err != nil {
		return &extract.RequestError{Account: c.account, Stream: stream, Method: "GET /" + path, Page: page, Err: err}
	}
	return nil
}

// attempt makes one GET request of target (which the transport may
// repeat) and decodes its response.
func (c *Client) attempt(ctx context.Context, target string, result any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err // the URL is in the RequestError's method and page
		}
		if serr, ok := errors.AsType[*transport.StatusError](err); ok {
			serr.Err = bodyError(serr.StatusCode, serr.Body)
		}
		return err
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &transport.StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Err: bodyError(resp.StatusCode, body)}
	}
	return transport.DecodeJSON(resp.Body, result)
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
