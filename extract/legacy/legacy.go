// Package legacy reads orders from the 2Checkout legacy Back Office Admin
// API (https://www.2checkout.com/api/), for accounts that predate API 6.0.
//
// The client authenticates every request with HTTP Basic (an API user and
// its password) and asks for JSON. Orders lists the sales of a window with
// sales/list_sales, paged by cur_page and page_info, fetches each sale with
// sales/detail_sale, a bounded number at a time, and converts the sales,
// in list order, into extract.Order records. The legacy API has no
// subscription search: Subscriptions fails with an error wrapping
// extract.ErrUnsupported.
//
// Every call goes through a transport.Transport: attempts are timed out,
// throttled and failed requests retried with back-off (honouring
// Retry-After), and the account's request rate and requests in flight are
// capped. A response body that turns out truncated or malformed is retried
// within the same budget. The list is read with paging.Paginate, keyed
// by sale_id and checked against total_entries, so that sales placed while
// it is paged are neither lost nor yielded twice.
//
// Errors are an HTTP status of 400 or more, or an errors[] member in the
// body, or both; a body with errors[] is an error whatever its status.
// They are reported as an *extract.RequestError wrapping an
// *extract.APIError (the first errors[] entry), and a
// *transport.StatusError when the status was not 200. A 401 or 403 wraps
// extract.ErrAuthentication too.
//
// # Conversion
//
// A sale becomes one order, from the sale and its first invoice (later
// invoices are renewals of the same sale, not orders in API 6.0 terms):
//
//	RefNo                sale.sale_id
//	OrderDate            sale.date_placed
//	TestOrder            sale.demo == "Y"
//	CustomerReference    sale.customer.customer_id
//	Country              sale.customer.country_code upper-cased, when it has two letters
//	ExternalReference    invoice.vendor_order_id
//	Currency             invoice.cust_currency
//	Status               from invoice.status and the lines' statuses, below
//	GrossDiscountedPrice invoice.customer_total (the amount charged)
//	Discount             minus the sum of the "coupon" lines' customer_amount
//	GrossPrice           customer_total + Discount
//	Items                the lines of type "product" (or no type), in order:
//	  Code                 vendor_product_id
//	  ProductDetails.Name  product_name
//	  Quantity             quantity, 1 when absent
//	  Price.Currency       invoice.cust_currency
//	  Price.GrossPrice     customer_amount
//
// Amounts stay exact: sums are decimal arithmetic on the strings the API
// sent, and every amount and quantity is written in its shortest exact
// form, as API 6.0 sends numbers ("19.90" becomes "19.9"), so that an
// order reads the same through every API (see Project). usd_total, vendor_total and fees_2co are not in the order currency
// and are not used. Everything else stays empty: OrderNo, ApproveStatus,
// FinishDate, Affiliate, NetPrice, NetDiscountedPrice, VAT,
// AffiliateCommission, AvangateCommission, the chargeback fields, item
// SKUs and the other item prices.
//
// Statuses map to the API 6.0 vocabulary:
//
//	invoice status          lines            Status
//	pending                                  PENDING
//	approved, deposited     all "refund"     REFUND
//	approved, deposited     otherwise        COMPLETE
//	declined                                 CANCELED
//	anything else                            upper-cased as it is
//
// The legacy API tells neither AUTHRECEIVED from PENDING nor REVERSED from
// REFUND.
package legacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/paging"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// DefaultEndpoint is the legacy Admin API's base URL.
const DefaultEndpoint = "https://www.2checkout.com/api/"

// DefaultPageSize is the list_sales page size unless configured; it is the
// largest the API allows.
const DefaultPageSize = 100

// DefaultConcurrency is the number of detail_sale calls in flight unless
// configured.
const DefaultConcurrency = 8

// Paths of the methods the client calls, relative to the endpoint.
const (
	pathListSales  = "sales/list_sales"
	pathDetailSale = "sales/detail_sale"
)

// maxErrorBody bounds how much of a non-200 response is read.
const maxErrorBody = 1 << 20

// Config configures a Client.
type Config struct {
	// Account names the account in errors and logs; empty means User.
	Account string
	// Endpoint is the base URL of the API; empty means DefaultEndpoint.
	// It must not carry credentials.
	Endpoint string
	// User and Password are the API user's credentials, sent with HTTP
	// Basic authentication. The password never appears in errors or
	// logs.
	User     string
	Password string
	// PageSize is the pagesize of list_sales; zero means DefaultPageSize.
	// The API allows 1 to 100 and reports an error for more.
	PageSize int
	// Concurrency is the number of detail_sale calls in flight; zero
	// means DefaultConcurrency. The transport's cap on the requests in
	// flight applies as well.
	Concurrency int
	// Transport configures the timeouts, retries, rate limit and
	// concurrency cap of the account's requests; its zero value takes the
	// transport package's defaults, with these exceptions: a zero
	// MaxConcurrent is raised to Concurrency if that is more, and a nil
	// Policy.Logger means Logger.
	//
	// Mind the rate limit: every sale costs a detail_sale request.
	Transport transport.Config
	// MaxPasses bounds how many times a list that changed while it was
	// paged is read; zero means paging.DefaultMaxPasses.
	MaxPasses int
	// Logger receives paging events; nil discards them.
	Logger *slog.Logger
}

// A Client reads one account through the legacy Admin API. It implements
// extract.Source and is safe for concurrent use.
type Client struct {
	account     string
	base        *url.URL
	user        string
	password    string
	pageSize    int
	concurrency int
	maxPasses   int
	http        *http.Client
	transport   *transport.Transport
	log         *slog.Logger
}

var _ extract.Source = (*Client)(nil)

// New returns a client for the account cfg describes.
func New(cfg Config) (*Client, error) {
	if cfg.User == "" {
		return nil, errors.New("legacy: User is required")
	}
	if cfg.Password == "" {
		return nil, errors.New("legacy: Password is required")
	}
	c := &Client{
		account:     cfg.Account,
		user:        cfg.User,
		password:    cfg.Password,
		pageSize:    cfg.PageSize,
		concurrency: cfg.Concurrency,
		maxPasses:   cfg.MaxPasses,
		log:         cfg.Logger,
	}
	if c.account == "" {
		c.account = c.user
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		shown := endpoint
		if err == nil && u.User != nil {
			shown = u.Redacted()
		}
		return nil, fmt.Errorf("legacy: account %s: endpoint %q is not an http(s) URL without credentials", c.account, shown)
	}
	if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
		u.Path += "/"
	}
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	c.base = u
	switch {
	case c.pageSize == 0:
		c.pageSize = DefaultPageSize
	case c.pageSize < 0:
		return nil, fmt.Errorf("legacy: account %s: negative PageSize %d", c.account, c.pageSize)
	}
	switch {
	case c.concurrency == 0:
		c.concurrency = DefaultConcurrency
	case c.concurrency < 0:
		return nil, fmt.Errorf("legacy: account %s: negative Concurrency %d", c.account, c.concurrency)
	}
	if c.maxPasses < 0 {
		return nil, fmt.Errorf("legacy: account %s: negative MaxPasses %d", c.account, c.maxPasses)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	tc := cfg.Transport
	if tc.MaxConcurrent == 0 {
		tc.MaxConcurrent = max(c.concurrency, transport.DefaultMaxConcurrent)
	}
	if tc.Policy.Logger == nil {
		tc.Policy.Logger = c.log.With("account", c.account)
	}
	t, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("legacy: account %s: %w", c.account, err)
	}
	c.transport = t
	c.http = &http.Client{Transport: t}
	return c, nil
}

// API returns "legacy".
func (c *Client) API() string { return "legacy" }

// Subscriptions fails: the legacy API has no subscription search. The error
// wraps extract.ErrUnsupported.
func (c *Client) Subscriptions(ctx context.Context, yield func(extract.Page[extract.Subscription]) error) error {
	return fmt.Errorf("account %s, stream %s: the legacy Admin API has no subscription search: %w",
		c.account, extract.StreamSubscriptions, extract.ErrUnsupported)
}

// Orders yields the sales placed within w as orders, one page per
// list_sales page with new sales, in list order. A page's Count is the
// total_entries the API reported. Each sale is yielded once, even if sales
// are placed while the list is paged.
func (c *Client) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	q := url.Values{
		"pagesize":        {strconv.Itoa(c.pageSize)},
		"sale_date_begin": {w.From.String()},
		"sale_date_end":   {w.To.String()},
	}
	var (
		list     listResponse
		orders   []extract.Order
		listPage int // the list page last read, which the yielded sales are from
		start    time.Time
	)
	err := paging.Paginate(ctx, paging.Search[saleSummary]{
		PageSize:  c.pageSize,
		MaxPasses: c.maxPasses,
		Key:       func(s *saleSummary) string { return string(s.SaleID) },
		Logger:    c.log.With("account", c.account, "stream", extract.StreamOrders, "method", "GET "+pathListSales),
		Fetch: func(ctx context.Context, page int) ([]saleSummary, int, error) {
			listPage, start = page, time.Now()
			q.Set("cur_page", strconv.Itoa(page))
			if err := c.call(ctx, extract.StreamOrders, pathListSales, page, q, &list); err != nil {
				return nil, 0, err
			}
			for i := range list.SaleSummary {
				if list.SaleSummary[i].SaleID == "" {
					return nil, 0, &extract.RequestError{Account: c.account, Stream: extract.StreamOrders, Method: "GET " + pathListSales, Page: page,
						Err: fmt.Errorf("sale_summary[%d] has no sale_id", i)}
				}
			}
			return list.SaleSummary, int(list.PageInfo.TotalEntries), nil
		},
	}, func(p extract.Page[saleSummary]) error {
		if n := len(p.Items); cap(orders) < n {
			orders = make([]extract.Order, n)
		} else {
			clear(orders[:n])
			orders = orders[:n]
		}
		if err := c.details(ctx, listPage, p.Items, orders); err != nil {
			return err
		}
		c.log.DebugContext(ctx, "2checkout page",
			"account", c.account, "stream", extract.StreamOrders, "method", "GET "+pathListSales, "page", listPage,
			"items", len(orders), "count", p.Count, "elapsed", time.Since(start))
		return yield(extract.Page[extract.Order]{Number: p.Number, Count: p.Count, Items: orders})
	})
	if uerr, ok := errors.AsType[*paging.UnsettledError](err); ok {
		return &extract.RequestError{Account: c.account, Stream: extract.StreamOrders, Method: "GET " + pathListSales, Page: uerr.Page, Err: uerr}
	}
	return err
}

// details fetches the sales of one list page, at most c.concurrency at a
// time, and converts sale i into out[i]. It returns the first error.
func (c *Client) details(ctx context.Context, page int, sales []saleSummary, out []extract.Order) error {
	if len(sales) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			cancel()
		})
	}
	for range min(c.concurrency, len(sales)) {
		wg.Go(func() {
			var resp detailResponse
			q := url.Values{}
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sales) {
					return
				}
				if ctx.Err() != nil {
					// Canceled by the caller, or after another call failed.
					fail(&extract.RequestError{Account: c.account, Stream: extract.StreamOrders, Method: "GET " + pathDetailSale, Page: page, Err: context.Cause(ctx)})
					return
				}
				id := string(sales[i].SaleID)
				q.Set("sale_id", id)
				err := c.call(ctx, extract.StreamOrders, pathDetailSale, page, q, &resp)
				if err == nil {
					err = convert(id, resp.Sale, &out[i])
					if err != nil {
						err = &extract.RequestError{Account: c.account, Stream: extract.StreamOrders, Method: "GET " + pathDetailSale, Page: page, Err: err}
					}
				}
				if err != nil {
					if re, ok := errors.AsType[*extract.RequestError](err); ok {
						re.Err = fmt.Errorf("sale %s: %w", id, re.Err)
					}
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// number is a number the API sends as a JSON number or a string; "" or null
// leave it empty.
type number string

func (n *number) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s != "" && !isNumber(s) {
			return typeError(strconv.Quote(s), reflect.TypeFor[number]())
		}
		*n = number(s)
		return nil
	case isNumber(string(b)):
		*n = number(b)
		return nil
	}
	return typeError(string(b), reflect.TypeFor[number]())
}

// typeError is the error for an unexpected value; encoding/json adds the
// field it was found in.
func typeError(value string, t reflect.Type) error {
	if len(value) > 40 {
		value = value[:40] + "..."
	}
	return &json.UnmarshalTypeError{Value: value, Type: t}
}

// isNumber reports whether s is a JSON number literal:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(s string) bool {
	digits := func() bool {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		s = s[n:]
		return n > 0
	}
	s = strings.TrimPrefix(s, "-")
	switch {
	case strings.HasPrefix(s, "0"):
		s = s[1:]
	case !digits():
		return false
	}
	if strings.HasPrefix(s, ".") {
		s = s[1:]
		if !digits() {
			return false
		}
	}
	if len(s) > 0 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		if !digits() {
			return false
		}
	}
	return s == ""
}

// text is a string the API may also send as a number; null leaves it
// empty.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		err := json.Unmarshal(b, &s)
		*t = text(s)
		return err
	case isNumber(string(b)):
		*t = text(b)
		return nil
	}
	return typeError(string(b), reflect.TypeFor[text]())
}

// integer is an integer the API sends as a JSON number or a string.
type integer int64

func (n *integer) UnmarshalJSON(b []byte) error {
	var s number
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return typeError(strconv.Quote(string(s)), reflect.TypeFor[integer]())
	}
	*n = integer(v)
	return nil
}

// apiError is one entry of the errors member.
type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter"`
}

// envelope holds the members every response has.
type envelope struct {
	ResponseCode    string     `json:"response_code"`
	ResponseMessage string     `json:"response_message"`
	Errors          []apiError `json:"errors"`
}

// err returns the error the body reports: its first errors[] entry, or a
// response_code other than OK.
func (e *envelope) err() error {
	if len(e.Errors) > 0 {
		first := e.Errors[0]
		apiErr := &extract.APIError{Code: first.Code, Message: first.Message}
		if apiErr.Message == "" && first.Parameter != "" {
			apiErr.Message = "parameter " + first.Parameter
		}
		if n := len(e.Errors) - 1; n > 0 {
			return fmt.Errorf("%w (and %d more errors)", apiErr, n)
		}
		return apiErr
	}
	if e.ResponseCode != "" && e.ResponseCode != "OK" {
		return &extract.APIError{Code: e.ResponseCode, Message: e.ResponseMessage}
	}
	return nil
}

type pageInfo struct {
	CurPage      integer `json:"cur_page"`
	LastPage     integer `json:"last_page"`
	NextPage     integer `json:"next_page"`
	TotalEntries integer `json:"total_entries"`
}

type saleSummary struct {
	SaleID number `json:"sale_id"`
}

type listResponse struct {
	envelope
	PageInfo    pageInfo      `json:"page_info"`
	SaleSummary []saleSummary `json:"sale_summary"`
}

// reset readies r for decoding a page: decoding must not see the values of
// the last page, or of a failed attempt at this one.
func (r *listResponse) reset() {
	clear(r.SaleSummary[:cap(r.SaleSummary)])
	*r = listResponse{SaleSummary: r.SaleSummary[:0]}
}

type customer struct {
	CustomerID  number `json:"customer_id"`
	CountryCode string `json:"country_code"`
}

type lineitem struct {
	Type            string `json:"type"`
	Status          string `json:"status"`
	VendorProductID text   `json:"vendor_product_id"`
	ProductName     string `json:"product_name"`
	Quantity        number `json:"quantity"`
	CustomerAmount  number `json:"customer_amount"`
}

type invoice struct {
	Status        string     `json:"status"`
	VendorOrderID text       `json:"vendor_order_id"`
	CustCurrency  string     `json:"cust_currency"`
	CustomerTotal number     `json:"customer_total"`
	Lineitems     []lineitem `json:"lineitems"`
}

type sale struct {
	SaleID     number    `json:"sale_id"`
	DatePlaced string    `json:"date_placed"`
	Demo       string    `json:"demo"`
	Customer   customer  `json:"customer"`
	Invoices   []invoice `json:"invoices"`
}

type detailResponse struct {
	envelope
	Sale *sale `json:"sale"`
}

func (r *detailResponse) reset() { *r = detailResponse{} }

// response is a decoded response body, reset before each attempt at
// decoding it.
type response interface {
	err() error
	reset()
}

// convert turns the detail of the sale id into o.
func convert(id string, s *sale, o *extract.Order) error {
	switch {
	case s == nil:
		return errors.New("no sale in response")
	case string(s.SaleID) != id:
		return fmt.Errorf("response is for sale %q", s.SaleID)
	case len(s.Invoices) == 0:
		return errors.New("sale has no invoices")
	}
	inv := &s.Invoices[0]
	*o = extract.Order{
		RefNo:                id,
		OrderDate:            s.DatePlaced,
		TestOrder:            s.Demo == "Y",
		CustomerReference:    json.Number(s.Customer.CustomerID),
		ExternalReference:    string(inv.VendorOrderID),
		Currency:             inv.CustCurrency,
		GrossDiscountedPrice: canonical(json.Number(inv.CustomerTotal)),
	}
	if cc := strings.TrimSpace(s.Customer.CountryCode); len(cc) == 2 {
		o.Country = strings.ToUpper(cc)
	}
	var coupons []string
	products, refunded := 0, 0
	for _, l := range inv.Lineitems {
		switch l.Type {
		case "coupon":
			coupons = append(coupons, string(l.CustomerAmount))
			continue
		case "product", "":
		default:
			continue
		}
		products++
		if l.Status == "refund" {
			refunded++
		}
		qty := canonical(json.Number(l.Quantity))
		if qty == "" {
			qty = "1"
		}
		o.Items = append(o.Items, extract.OrderItem{
			Code:           string(l.VendorProductID),
			ProductDetails: extract.ProductDetails{Name: l.ProductName},
			Quantity:       qty,
			Price:          extract.ItemPrice{Currency: inv.CustCurrency, GrossPrice: canonical(json.Number(l.CustomerAmount))},
		})
	}
	discount, err := sum(coupons, true)
	if err != nil {
		return fmt.Errorf("coupon lines: %w", err)
	}
	o.Discount = discount
	if inv.CustomerTotal != "" {
		if o.GrossPrice, err = sum([]string{string(inv.CustomerTotal), string(discount)}, false); err != nil {
			return fmt.Errorf("customer_total: %w", err)
		}
	}
	o.Status = status(inv.Status, products > 0 && refunded == products)
	return nil
}

// status maps an invoice status to the API 6.0 vocabulary.
func status(invoice string, refunded bool) string {
	switch s := strings.ToLower(strings.TrimSpace(invoice)); s {
	case "pending":
		return "PENDING"
	case "approved", "deposited":
		if refunded {
			return "REFUND"
		}
		return "COMPLETE"
	case "declined":
		return "CANCELED"
	default:
		return strings.ToUpper(s)
	}
}

// sum adds decimal numbers exactly, negated if neg, and formats the result
// with as few decimals as it needs. Empty terms count as 0.
func sum(terms []string, neg bool) (json.Number, error) {
	var total big.Rat
	for _, t := range terms {
		if t == "" {
			continue
		}
		var r big.Rat
		if _, ok := r.SetString(t); !ok {
			return "", fmt.Errorf("%q is not a number", t)
		}
		total.Add(&total, &r)
	}
	if neg {
		total.Neg(&total)
	}
	ten := big.NewRat(10, 1)
	scaled := new(big.Rat).Set(&total)
	for places := 0; places <= 18; places++ {
		if scaled.IsInt() {
			return json.Number(total.FloatString(places)), nil
		}
		scaled.Mul(scaled, ten)
	}
	return "", fmt.Errorf("%s has more than 18 decimals", total.RatString())
}

// call makes one GET request of path (relative to the base URL) with query
// q and decodes the response body into result. It is the only place that
// talks to the API. A response body that is truncated or malformed is
// retried like a failed request, within the transport's budget. Every
// error it returns is an *extract.RequestError.
func (c *Client) call(ctx context.Context, stream, path string, page int, q url.Values, result response) error {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	target := u.String()
	err := c.transport.Retry(ctx, func(ctx context.Context) error {
		result.reset()
		return c.attempt(ctx, target, result)
	})
	if err != nil {
		return &extract.RequestError{Account: c.account, Stream: stream, Method: "GET " + path, Page: page, Err: err}
	}
	return nil
}

// attempt makes one GET request of target (which the transport may
// repeat) and decodes its response.
func (c *Client) attempt(ctx context.Context, target string, result response) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(c.user, c.password)
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
	if err := transport.DecodeJSON(resp.Body, result); err != nil {
		return err
	}
	return result.err()
}

// bodyError returns the API error a response with status code carried, if
// any. A 401 or 403 wraps extract.ErrAuthentication.
func bodyError(code int, body []byte) error {
	var e envelope
	var apiErr error
	if json.Unmarshal(body, &e) == nil {
		apiErr = e.err()
	}
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		if apiErr == nil {
			return extract.ErrAuthentication
		}
		return fmt.Errorf("%w: %w", extract.ErrAuthentication, apiErr)
	}
	return apiErr
}

// canonical returns n in its shortest exact decimal form; empty, and
// anything that is not a number, stay as they are.
func canonical(n json.Number) json.Number {
	if n == "" {
		return n
	}
	c, err := sum([]string{string(n)}, false)
	if err != nil {
		return n
	}
	return c
}
