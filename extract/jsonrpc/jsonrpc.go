// Package jsonrpc reads orders and subscriptions from the 2Checkout JSON-RPC
// API 6.0.
//
// A Client logs in once with the account's HMAC-signed credentials and
// reuses the session for every call, renewing it before it expires and
// whenever the API says it has. Searches are paged; each page is decoded
// from the response body straight into the extract record types with
// apijson, the library the sandbox encodes with; their numbers are
// json.Number, so amounts arrive exactly as sent.
//
// Every call goes through a transport.Transport: attempts are timed out,
// throttled and failed requests retried with back-off, and the account's
// request rate and requests in flight are capped. A response body that
// turns out truncated or malformed is retried within the same budget.
// Searches are read with paging.Paginate, so that orders placed while
// a search is paged are neither lost nor yielded twice.
package jsonrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apiclient"
	json "github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// DefaultEndpoint is the public JSON-RPC API 6.0 endpoint.
const DefaultEndpoint = "https://api.2checkout.com/rpc/6.0/"

// DefaultPageSize is the page size searches use unless configured; it is
// the largest the API allows.
const DefaultPageSize = 200

// sessionMaxAge is how old a session may get before the client logs in
// again; sessions last 10 minutes.
const sessionMaxAge = 9 * time.Minute

// codeInvalidSession is the API's error code for an unknown or expired
// session.
const codeInvalidSession = "INVALID_SESSION"

// maxRenewals bounds how many times one call renews a session the API
// refused. It is the re-login budget, apart from the page's attempts:
// every call made after a renewal has the whole retry budget again.
// Calls in flight share the session, so one expiry fails them all, and
// the renewed session may expire again under another call before a
// call's retry lands: with 8 calls in flight and 10% of calls expiring
// the session, each renewal failed about half the time, so 3 renewals
// gave up on about one call in 16 chains of expiry (F12). 30 makes that
// about one in 10^9. A session the API keeps refusing still fails the
// call after 30 logins.
const maxRenewals = 30

// Config configures a Client: the account, Endpoint (the JSON-RPC URL;
// empty means DefaultEndpoint), MerchantCode, SecretKey and HMAC, page
// size, transport, clock and logger. Now is the clock that signs logins
// and ages sessions.
type Config = apiclient.Config

// A Client reads one account through the JSON-RPC API. It implements
// extract.Source and is safe for concurrent use.
type Client struct {
	*apiclient.Client
	code, secret, algo string
	endpoint           string

	nextID atomic.Int64

	// sem guards the session: a one-slot semaphore, so that waiting for
	// a login in progress respects the waiter's context.
	sem       chan struct{}
	session   string
	sessionAt time.Time
}

var _ extract.Source = (*Client)(nil)

// New returns a client for the account cfg describes.
func New(cfg Config) (*Client, error) {
	if cfg.MerchantCode == "" {
		return nil, errors.New("jsonrpc: MerchantCode is required")
	}
	if cfg.SecretKey == "" {
		return nil, errors.New("jsonrpc: SecretKey is required")
	}
	base, err := apiclient.New(cfg, apiclient.Spec{API: "jsonrpc", DefaultEndpoint: DefaultEndpoint, DefaultPageSize: DefaultPageSize, Account: cfg.MerchantCode})
	if err != nil {
		return nil, err
	}
	algo, err := extract.CheckAlgorithm(cfg.HMAC)
	if err != nil {
		return nil, fmt.Errorf("jsonrpc: account %s: %w", base.Account, err)
	}
	base.ReadAhead = max(cfg.Concurrency-1, 0) // search's fetch is safe for concurrent use
	return &Client{Client: base, code: cfg.MerchantCode, secret: cfg.SecretKey, algo: algo,
		endpoint: base.Endpoint.String(), sem: make(chan struct{}, 1)}, nil
}

// API returns "jsonrpc".
func (c *Client) API() string { return "jsonrpc" }

// pagination is the Pagination member of search options.
type pagination struct {
	Page  int `json:"Page"`
	Limit int `json:"Limit"`
}

type orderSearch struct {
	StartDate         string     `json:"StartDate"`
	EndDate           string     `json:"EndDate"`
	IncludeTestOrders string     `json:"IncludeTestOrders"`
	Pagination        pagination `json:"Pagination"`
}

type subscriptionSearch struct {
	ModifiedAfter string     `json:"ModifiedAfter,omitempty"`
	Pagination    pagination `json:"Pagination"`
}

// Orders yields the orders placed within w, test orders included, page by
// page (searchOrders). Each order is yielded once, even if orders are
// placed while the search is paged.
func (c *Client) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	ctx = transport.WithLogAttrs(ctx, "window", w.String())
	return extract.InWindow(search[extract.Order, searchResult[extract.Order]](ctx, c, extract.StreamOrders, "searchOrders", func(p pagination) any {
		return orderSearch{
			StartDate:         w.From.String(),
			EndDate:           w.To.String(),
			IncludeTestOrders: "YES",
			Pagination:        p,
		}
	}, func(o *extract.Order) string { return o.RefNo }, yield), w)
}

// Subscriptions yields the subscriptions f asks for, page by page
// (searchSubscriptions), each once.
func (c *Client) Subscriptions(ctx context.Context, f extract.SubscriptionFilter, yield func(extract.Page[extract.Subscription]) error) error {
	var after string
	if !f.ModifiedAfter.IsZero() {
		after = f.ModifiedAfter.String()
	}
	return search[extract.Subscription, looseResult[extract.Subscription]](ctx, c, extract.StreamSubscriptions, "searchSubscriptions", func(p pagination) any {
		return subscriptionSearch{ModifiedAfter: after, Pagination: p}
	}, func(s *extract.Subscription) string { return s.SubscriptionReference }, yield)
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

// search pages through a search method, items identified by key.
func search[T, R any, P result[T, R]](ctx context.Context, c *Client, stream, method string, options func(pagination) any, key func(*T) string, yield func(extract.Page[T]) error) error {
	return apiclient.Search(ctx, c.Client, stream, method, key, func(ctx context.Context, page int) ([]T, int, error) {
		var res R // pages may be read ahead, concurrently
		if err := callSession(ctx, c, stream, method, page, options(pagination{page, c.PageSize}), &res); err != nil {
			return nil, 0, err
		}
		items, count := P(&res).Page()
		return items, count, nil
	}, yield)
}

// callSession calls method with the session id and options as its
// parameters. A session the API no longer knows is renewed and the call
// made again, up to maxRenewals times.
func callSession[R any](ctx context.Context, c *Client, stream, method string, page int, options any, result *R) error {
	sid, err := c.sessionID(ctx, "")
	if err != nil {
		return loginFor(err, stream, method, page)
	}
	for renewals := 0; ; renewals++ {
		err = call(ctx, c, stream, method, page, []any{sid, options}, result)
		if apiErr, ok := errors.AsType[*extract.APIError](err); !ok || apiErr.Code != codeInvalidSession || renewals == maxRenewals {
			return err
		}
		c.Log.InfoContext(ctx, "2checkout session rejected, logging in again",
			"account", c.Account, "stream", stream, "method", method, "page", page)
		if sid, err = c.sessionID(ctx, sid); err != nil {
			return loginFor(err, stream, method, page)
		}
	}
}

// loginFor says which call of which stream a failed login was for, so that
// the error names the stream and page the run could not read.
func loginFor(err error, stream, method string, page int) error {
	re, ok := errors.AsType[*extract.RequestError](err)
	if !ok || re.Stream != "" {
		return err
	}
	cp := *re
	cp.Stream, cp.Page, cp.Method = stream, page, re.Method+" for "+method
	return &cp
}

// sessionID returns a session younger than sessionMaxAge other than
// rejected, logging in if there is none.
func (c *Client) sessionID(ctx context.Context, rejected string) (string, error) {
	select {
	case c.sem <- struct{}{}:
	default:
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return "", &extract.RequestError{Account: c.Account, Method: "login", Err: context.Cause(ctx)}
		}
	}
	defer func() { <-c.sem }()
	now := c.Now()
	if c.session != "" && c.session != rejected && now.Sub(c.sessionAt) < sessionMaxAge {
		return c.session, nil
	}
	c.session = ""
	date, hash, err := extract.SignNow(c.algo, c.secret, c.code, now)
	if err != nil {
		return "", &extract.RequestError{Account: c.Account, Method: "login", Err: err}
	}
	var sid string
	if err := call(ctx, c, "", "login", 0, []any{c.code, date, hash, c.algo}, &sid); err != nil {
		return "", err
	}
	if sid == "" {
		return "", &extract.RequestError{Account: c.Account, Method: "login", Err: errors.New("no session id in response")}
	}
	c.Log.InfoContext(ctx, "2checkout login", "account", c.Account, "merchant", c.code, "hmac", c.algo)
	c.session, c.sessionAt = sid, now
	return sid, nil
}

// request is a JSON-RPC request.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      int64  `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// resetter is a result that must be reset before each attempt at decoding
// into it.
type resetter interface{ reset() }

// checker is a result that can tell, once decoded, that it is incomplete.
type checker interface{ check() error }

// call makes one JSON-RPC call of c and decodes its result into result. It is
// the only place that talks to the API. A response body that is truncated
// or malformed is retried like a failed request, within the transport's
// budget. Every error it returns is an *extract.RequestError.
func call[R any](ctx context.Context, c *Client, stream, method string, page int, params []any, result *R) error {
	return c.Retry(ctx, stream, method, page, func(ctx context.Context) error {
		if r, ok := any(result).(resetter); ok {
			r.reset()
		}
		if err := attempt(ctx, c, method, params, result); err != nil {
			return err
		}
		if r, ok := any(result).(checker); ok {
			return r.check()
		}
		return nil
	})
}

// attempt makes one JSON-RPC request (which the transport may repeat) and
// decodes its response.
func attempt[R any](ctx context.Context, c *Client, method string, params []any, result *R) error {
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return fmt.Errorf("encoding request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	// Logins and searches are safe to repeat.
	transport.MarkIdempotent(req)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return c.Do(req, func(_ int, body []byte) error { return bodyError(body) },
		func(body io.Reader) error { return decodeResponse(body, id, result) })
}

// bodyError returns the API error a non-200 response body carried, if it
// is a JSON-RPC error.
func bodyError(body []byte) error {
	var discard json.RawMessage
	if apiErr, ok := errors.AsType[*extract.APIError](decodeResponse(bytes.NewReader(body), 0, &discard)); ok {
		return apiErr
	}
	return nil
}

// wireError is a JSON-RPC error object. Its code is a string for the API's
// own errors and a number for protocol errors.
type wireError struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
}

func (e *wireError) apiError() *extract.APIError {
	code := string(e.Code)
	var s string
	if json.Unmarshal(e.Code, &s) == nil {
		code = s
	}
	return &extract.APIError{Code: code, Message: e.Message}
}

// response is a JSON-RPC response whose result (the result or response
// member) is an R. The result is decoded in the same pass as the rest.
type response[R any] struct {
	ID       json.RawMessage `json:"id"`
	Error    *wireError      `json:"error"`
	Result   *R              `json:"result"`
	Response *R              `json:"response"`
}

// decodeResponse reads a JSON-RPC response, decoding its result (the
// result or response member) into result. An error member becomes an
// *extract.APIError; a response with neither, or a null result, is an
// error. A body that is cut short, not JSON, or fails to be read makes an
// error marked transport.Retryable; id 0 matches any id.
func decodeResponse[R any](r io.Reader, id int64, result *R) error {
	var env response[R]
	if err := transport.DecodeJSON(r, &env); err != nil {
		return err
	}
	if env.Error != nil {
		return env.Error.apiError()
	}
	got := env.Result
	if got == nil {
		got = env.Response
	}
	if got == nil {
		return errors.New("decoding response: neither result nor error")
	}
	*result = *got
	return checkID(id, env.ID)
}

// checkID checks the raw id of a response, nil if it had none, against
// the request's id; id 0 matches any id.
func checkID(id int64, got []byte) error {
	if want := strconv.FormatInt(id, 10); id != 0 && got != nil && string(got) != "null" &&
		string(got) != want && string(got) != strconv.Quote(want) {
		return fmt.Errorf("response id %s does not match request id %s", got, want)
	}
	return nil
}
