// Package apiclient is the skeleton the 2Checkout API clients share: their
// configuration, the construction of the transport and HTTP client of an
// account, one request with its error body, retries naming the call that
// failed, and paged search.
//
// A client of a new API embeds a *Client made by New from the common
// Config and its Spec, and adds its authentication and decoding.
package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/paging"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// Config configures a client of any API. Each API reads the credentials
// it uses: API 6.0 (jsonrpc, rest) MerchantCode, SecretKey and HMAC; the
// legacy API User and Password.
type Config struct {
	// Account names the account in errors and logs; empty means
	// MerchantCode, or User for the legacy API.
	Account string
	// Endpoint is the API's URL; empty means the API's default. It must
	// not carry credentials.
	Endpoint string

	MerchantCode string
	SecretKey    string
	// HMAC is the API 6.0 signature algorithm: "sha256" (the default),
	// "sha3-256" or "md5".
	HMAC string

	// User and Password are the legacy API user's credentials, sent with
	// HTTP Basic authentication. The password never appears in errors or
	// logs.
	User     string
	Password string
	// Currency is the account's currency (ISO 4217), that of the legacy
	// API's sales that name none.
	Currency string

	// PageSize is the page size of every search; zero means the API's
	// default, the largest it allows.
	PageSize int
	// Concurrency is how many requests one search may have in flight: the
	// legacy client's detail_sale calls (zero means its default), and
	// the pages the API 6.0 clients read ahead of the one being read,
	// plus one (zero or one reads a page at a time).
	Concurrency int
	// Transport configures the timeouts, retries, rate limit and
	// concurrency cap of the account's requests; its zero value takes the
	// transport package's defaults, and a nil Policy.Logger means Logger.
	Transport transport.Config
	// MaxPasses bounds how many times a search that changed while it was
	// paged is read; zero means paging.DefaultMaxPasses.
	MaxPasses int
	// Now is the clock that signs API 6.0 requests and ages sessions; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives login and paging events; nil discards them.
	Logger *slog.Logger
}

// Spec is what one API adds to the common construction.
type Spec struct {
	// API names the API, such as "jsonrpc", in errors.
	API             string
	DefaultEndpoint string
	DefaultPageSize int
	// Account is the account name when Config.Account is empty.
	Account string
	// Directory means the endpoint is a base URL that request paths are
	// resolved against (see URL): it gains a trailing slash and loses
	// its query.
	Directory bool
	// MinConcurrent raises a zero Transport.MaxConcurrent to at least
	// this.
	MinConcurrent int
	// Wrap, if set, returns the RoundTripper under the transport that
	// sends each attempt through next, such as one that signs it.
	Wrap func(next http.RoundTripper) http.RoundTripper
}

// Client is the part of an API client every API shares.
type Client struct {
	Account   string
	Endpoint  *url.URL
	PageSize  int
	MaxPasses int
	Now       func() time.Time
	Log       *slog.Logger
	HTTP      *http.Client
	// MaxString bounds the strings of the records the API sends (see
	// CheckStrings); from transport.Config.MaxString.
	MaxString int
	// ReadAhead is paging.Search's for the order searches: the pages
	// fetched while one is read. Zero unless the client sets it (from
	// Concurrency), which its fetch functions must then allow. The
	// subscription search is read a page at a time: its one search of
	// every subscription already holds a key per subscription near the
	// memory limit, and reading ahead there let a run of a million
	// subscriptions overshoot to 1.1 GB RSS (221 MB without, make bench).
	ReadAhead int
	transport *transport.Transport
}

// New checks the common part of cfg and builds the account's transport
// and HTTP client. Errors start with the API's name and the account.
func New(cfg Config, spec Spec) (*Client, error) {
	c := &Client{Account: cfg.Account, PageSize: cfg.PageSize, MaxPasses: cfg.MaxPasses, Now: cfg.Now, Log: cfg.Logger}
	if c.Account == "" {
		c.Account = spec.Account
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: account %s: %s", spec.API, c.Account, fmt.Sprintf(format, args...))
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = spec.DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		shown := endpoint
		if err == nil && u.User != nil {
			shown = u.Redacted()
		}
		return nil, fail("endpoint %q is not an http(s) URL without credentials", shown)
	}
	if spec.Directory {
		if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
			u.Path += "/"
		}
		u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	}
	c.Endpoint = u
	switch {
	case c.PageSize == 0:
		c.PageSize = spec.DefaultPageSize
	case c.PageSize < 0:
		return nil, fail("negative PageSize %d", c.PageSize)
	}
	if c.MaxPasses < 0 {
		return nil, fail("negative MaxPasses %d", c.MaxPasses)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	tc := cfg.Transport
	if tc.MaxConcurrent == 0 && spec.MinConcurrent > 0 {
		tc.MaxConcurrent = max(spec.MinConcurrent, transport.DefaultMaxConcurrent)
	}
	if tc.Policy.Logger == nil {
		tc.Policy.Logger = c.Log.With("account", c.Account)
	}
	if spec.Wrap != nil {
		next := tc.Base
		if next == nil {
			next = transport.DefaultBase()
		}
		tc.Base = spec.Wrap(next)
	}
	t, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("%s: account %s: %w", spec.API, c.Account, err)
	}
	c.transport = t
	c.MaxString = t.MaxString()
	c.HTTP = &http.Client{Transport: t}
	return c, nil
}

// URL returns the URL of path, relative to the endpoint, with query q.
func (c *Client) URL(path string, q url.Values) string {
	u := *c.Endpoint
	u.Path += path
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String()
}

// maxErrorBody bounds how much of a non-200 response is read.
const maxErrorBody = 1 << 20

// Do sends req and decodes the body of a 200 response with decode. A
// response with another status is a *transport.StatusError whose Err is
// what bodyError makes of the status and the body, if anything. The
// request's URL is left out of errors: the caller names the call.
func (c *Client) Do(req *http.Request, bodyError func(status int, body []byte) error, decode func(io.Reader) error) error {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
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
	// Any 2xx is a success: REST 6.0 lists 201 for some reads.
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &transport.StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Err: bodyError(resp.StatusCode, body)}
	}
	return decode(resp.Body)
}

// Retry makes attempt, and again within the transport's retry budget
// while it fails with an error marked transport.Retryable, such as a body
// cut short. Its error is an *extract.RequestError naming the account,
// stream, method and page.
func (c *Client) Retry(ctx context.Context, stream, method string, page int, attempt func(context.Context) error) error {
	if stream != "" {
		ctx = transport.WithLogAttrs(ctx, "stream", stream, "page", page)
	}
	ctx = transport.WithLogAttrs(ctx, "call", method)
	if err := c.transport.Retry(ctx, attempt); err != nil {
		return &extract.RequestError{Account: c.Account, Stream: stream, Method: method, Page: page, Err: err}
	}
	return nil
}

func (c *Client) readAhead(stream string) int {
	if stream != extract.StreamOrders {
		return 0
	}
	return c.ReadAhead
}

// Search pages through a search with paging.Paginate: fetch reads page n,
// items are identified by key, and yield receives the pages of new items.
// Each page read is logged at Debug level; a search that kept changing
// fails with an *extract.RequestError wrapping the *paging.UnsettledError.
func Search[T any](ctx context.Context, c *Client, stream, method string, key func(*T) string,
	fetch func(ctx context.Context, page int) (items []T, count int, err error), yield func(extract.Page[T]) error) error {
	err := paging.Paginate(ctx, paging.Search[T]{
		PageSize:  c.PageSize,
		MaxPasses: c.MaxPasses,
		ReadAhead: c.readAhead(stream),
		Key:       key,
		Logger:    c.Log.With("account", c.Account, "stream", stream, "method", method),
		Fetch: func(ctx context.Context, page int) ([]T, int, error) {
			start := time.Now()
			items, count, err := fetch(ctx, page)
			if err != nil {
				return nil, 0, err
			}
			if err := CheckStrings(items, c.MaxString, key); err != nil {
				return nil, 0, &extract.RequestError{Account: c.Account, Stream: stream, Method: method, Page: page, Err: err}
			}
			c.Log.DebugContext(ctx, "2checkout page",
				"account", c.Account, "stream", stream, "method", method, "page", page,
				"items", len(items), "count", count, "elapsed", time.Since(start))
			return items, count, nil
		},
	}, yield)
	if uerr, ok := errors.AsType[*paging.UnsettledError](err); ok {
		return &extract.RequestError{Account: c.Account, Stream: stream, Method: method, Page: uerr.Page, Err: uerr}
	}
	return err
}
