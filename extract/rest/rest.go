// Package rest reads orders and subscriptions from the 2Checkout REST API
// 6.0.
//
// Every request carries its own X-Avangate-Authentication header, signed
// with the account's secret key and the current UTC time, so there is no
// session to keep. Searches are paged by Page and Limit; each page is
// decoded from the response body straight into the extract record types,
// whose numbers are json.Number, so amounts arrive exactly as sent.
//
// Errors come back as an HTTP status other than 200 with a JSON body
// {"error_code":"...","message":"..."}; the client reports them as an
// *HTTPError wrapping an *extract.APIError, inside an *extract.RequestError
// naming the account, stream, request and page. A 401 matches
// extract.ErrAuthentication.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ledgerline/ledgerline/extract"
)

// DefaultEndpoint is the public REST API 6.0 base URL.
const DefaultEndpoint = "https://api.2checkout.com/rest/6.0/"

// DefaultPageSize is the page size searches use unless configured; it is
// the largest the API allows.
const DefaultPageSize = 200

// DefaultTimeout bounds each HTTP round trip of the default HTTP client.
const DefaultTimeout = 2 * time.Minute

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
	// HTTPClient makes the requests; nil means a client with
	// DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock that signs requests; nil means time.Now.
	Now func() time.Time
	// Logger receives paging events; nil discards them.
	Logger *slog.Logger
}

// A Client reads one account through the REST API. It implements
// extract.Source and is safe for concurrent use.
type Client struct {
	account  string
	base     *url.URL
	code     string
	secret   string
	algo     string
	pageSize int
	http     *http.Client
	now      func() time.Time
	log      *slog.Logger
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
		account:  cfg.Account,
		code:     cfg.MerchantCode,
		secret:   cfg.SecretKey,
		algo:     cfg.HMAC,
		pageSize: cfg.PageSize,
		http:     cfg.HTTPClient,
		now:      cfg.Now,
		log:      cfg.Logger,
	}
	if c.account == "" {
		c.account = c.code
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
	if c.algo == "" {
		c.algo = extract.Algorithms[0]
	}
	if _, err := extract.Sign(c.algo, "", "", ""); err != nil {
		return nil, fmt.Errorf("rest: account %s: %w", c.account, err)
	}
	switch {
	case c.pageSize == 0:
		c.pageSize = DefaultPageSize
	case c.pageSize < 0:
		return nil, fmt.Errorf("rest: account %s: negative PageSize %d", c.account, c.pageSize)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// redact returns the endpoint without a password, for error messages.
func redact(endpoint string, u *url.URL) string {
	if u != nil && u.User != nil {
		return u.Redacted()
	}
	return endpoint
}

// API returns "rest".
func (c *Client) API() string { return "rest" }

// Orders yields the orders placed within w, test orders included, page by
// page (GET orders/).
func (c *Client) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	q := url.Values{
		"StartDate":         {w.From.String()},
		"EndDate":           {w.To.String()},
		"IncludeTestOrders": {"YES"},
	}
	return search(ctx, c, extract.StreamOrders, "orders/", q, yield)
}

// Subscriptions yields every subscription of the account, page by page
// (GET subscriptions/).
func (c *Client) Subscriptions(ctx context.Context, yield func(extract.Page[extract.Subscription]) error) error {
	return search(ctx, c, extract.StreamSubscriptions, "subscriptions/", url.Values{}, yield)
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

// search pages through a resource until it has read the Count items the
// API reports, or the API returns a short page. Every page reuses the
// previous page's items.
func search[T any](ctx context.Context, c *Client, stream, path string, q url.Values, yield func(extract.Page[T]) error) error {
	var res searchResult[T]
	read := 0
	q.Set("Limit", strconv.Itoa(c.pageSize))
	for page := 1; ; page++ {
		clear(res.Items[:cap(res.Items)]) // decoding must not see the last page's values
		res.Items = res.Items[:0]
		res.Pagination.Count = 0
		q.Set("Page", strconv.Itoa(page))
		start := time.Now()
		if err := c.call(ctx, stream, path, page, q, &res); err != nil {
			return err
		}
		count := res.Pagination.Count
		c.log.DebugContext(ctx, "2checkout page",
			"account", c.account, "stream", stream, "method", "GET /"+path, "page", page,
			"items", len(res.Items), "count", count, "elapsed", time.Since(start))
		if err := yield(extract.Page[T]{Number: page, Count: count, Items: res.Items}); err != nil {
			return err
		}
		read += len(res.Items)
		if len(res.Items) < c.pageSize || read >= count {
			return nil
		}
	}
}

// HTTPError is an HTTP response other than 200 OK. Err is the API error the
// body carried, if any. A 401 matches extract.ErrAuthentication.
type HTTPError struct {
	StatusCode int
	Status     string // such as "503 Service Unavailable"
	Err        error
}

func (e *HTTPError) Error() string {
	msg := "HTTP " + e.Status
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *HTTPError) Unwrap() error { return e.Err }

// Is reports whether the response refused the credentials: a 401 is
// extract.ErrAuthentication.
func (e *HTTPError) Is(target error) bool {
	return target == extract.ErrAuthentication && e.StatusCode == http.StatusUnauthorized
}

// wireError is the body of an error response.
type wireError struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

// call makes one GET request of path (relative to the base URL) with query
// q and decodes the 200 response's body into result. It is the only place
// that talks to the API, and signs every request afresh. Every error it
// returns is an *extract.RequestError.
func (c *Client) call(ctx context.Context, stream, path string, page int, q url.Values, result any) error {
	method := "GET /" + path
	fail := func(err error) error {
		return &extract.RequestError{Account: c.account, Stream: stream, Method: method, Page: page, Err: err}
	}
	date, hash, err := extract.SignNow(c.algo, c.secret, c.code, c.now())
	if err != nil {
		return fail(err)
	}
	u := *c.base
	u.Path += path
	u.RawPath = ""
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(AuthHeader, `code="`+c.code+`" date="`+date+`" hash="`+hash+`" algo="`+c.algo+`"`)
	resp, err := c.http.Do(req)
	if err != nil {
		return fail(err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		herr := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
		var body wireError
		if json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&body) == nil && body.Code != "" {
			herr.Err = &extract.APIError{Code: body.Code, Message: body.Message}
		}
		return fail(herr)
	}
	if err := json.NewDecoder(resp.Body).Decode(result); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fail(fmt.Errorf("decoding response: %w", err))
	}
	return nil
}
