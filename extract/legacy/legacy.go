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
// Errors are an HTTP status of 400 or more, or an error member in the
// body, or both; a body with one is an error whatever its status. The
// member is errors[] as documented, or exception, the shape
// {"exception":{"errorMsg":"Unauthorized","errorCode":"300"}} that
// 2Checkout's SDKs also read. They are reported as an
// *extract.RequestError wrapping an *extract.APIError (errorCode and
// errorMsg, or the first errors[] entry), and a *transport.StatusError
// when the status was not 200. A 401 or 403, and the codes FORBIDDEN and
// 300, wrap extract.ErrAuthentication too.
//
// # Conversion
//
// A sale becomes one order, from the sale and its first invoice (later
// invoices are renewals of the same sale, not orders in API 6.0 terms):
//
//	RefNo                sale.sale_id
//	OrderDate            sale.date_placed
//	TestOrder            sale.demo == "Y" (recorded responses have no demo: false)
//	CustomerReference    sale.customer.customer_id
//	Country              sale.customer.country_code_2 upper-cased; without it,
//	                     country_code as alpha-2 or alpha-3 ("USA" is "US")
//	ExternalReference    invoice.vendor_order_id
//	Currency             invoice.cust_currency; without it (recorded responses
//	                     have none) the account's Config.Currency
//	Status               from invoice.status and the lines' statuses, below
//	GrossDiscountedPrice invoice.customer_total (the amount charged)
//	Discount             minus the sum of the "coupon" lines' customer_amount
//	GrossPrice           customer_total + Discount
//	Items                the lines of type "product" (or no type), in order:
//	  Code                 vendor_product_id
//	  ProductDetails.Name  product_name
//	  Quantity             quantity, 1 when absent (recorded responses have
//	                       none, and a line per unit: three of a product are
//	                       three identical lines)
//	  Price.Currency       Currency
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
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apiclient"
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

// Config configures a Client: the account (empty means User), Endpoint
// (the base URL of the API; empty means DefaultEndpoint), User and
// Password, PageSize (the pagesize of list_sales, 1 to 100; zero means
// DefaultPageSize), Concurrency (the detail_sale calls in flight; zero
// means DefaultConcurrency), transport and logger. A zero
// Transport.MaxConcurrent is raised to Concurrency if that is more. Mind
// the rate limit: every sale costs a detail_sale request.
type Config = apiclient.Config

// A Client reads one account through the legacy Admin API. It implements
// extract.Source and is safe for concurrent use.
type Client struct {
	*apiclient.Client
	user, password string
	currency       string // the account's, of sales without cust_currency
	concurrency    int
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
	currency := strings.ToUpper(strings.TrimSpace(cfg.Currency))
	if len(currency) != 3 {
		return nil, fmt.Errorf("legacy: account %s: Currency %q is not an ISO 4217 code: sales that name no currency are in the account's",
			cmp.Or(cfg.Account, cfg.User), cfg.Currency)
	}
	concurrency := cfg.Concurrency
	switch {
	case concurrency == 0:
		concurrency = DefaultConcurrency
	case concurrency < 0:
		return nil, fmt.Errorf("legacy: account %s: negative Concurrency %d", cmp.Or(cfg.Account, cfg.User), concurrency)
	}
	base, err := apiclient.New(cfg, apiclient.Spec{API: "legacy", DefaultEndpoint: DefaultEndpoint, DefaultPageSize: DefaultPageSize,
		Account: cfg.User, Directory: true, MinConcurrent: concurrency})
	if err != nil {
		return nil, err
	}
	return &Client{Client: base, user: cfg.User, password: cfg.Password, currency: currency, concurrency: concurrency}, nil
}

// API returns "legacy".
func (c *Client) API() string { return "legacy" }

// Subscriptions fails: the legacy API has no subscription search. The error
// wraps extract.ErrUnsupported.
func (c *Client) Subscriptions(ctx context.Context, _ extract.SubscriptionFilter, yield func(extract.Page[extract.Subscription]) error) error {
	return fmt.Errorf("account %s, stream %s: the legacy Admin API has no subscription search: %w",
		c.Account, extract.StreamSubscriptions, extract.ErrUnsupported)
}

// Orders yields the sales placed within w as orders, one page per
// list_sales page with new sales, in list order. A page's Count is the
// total_entries the API reported. Each sale is yielded once, even if sales
// are placed while the list is paged.
func (c *Client) Orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	ctx = transport.WithLogAttrs(ctx, "window", w.String())
	return extract.InWindow(c.orders(ctx, w, yield), w)
}

// orders is Orders, its errors without the window.
func (c *Client) orders(ctx context.Context, w extract.Window, yield func(extract.Page[extract.Order]) error) error {
	q := url.Values{
		"pagesize":        {strconv.Itoa(c.PageSize)},
		"sale_date_begin": {w.From.String()},
		"sale_date_end":   {w.To.String()},
	}
	var (
		list     listResponse
		orders   []extract.Order
		listPage int // the list page last read, which the yielded sales are from
	)
	method := "GET " + pathListSales
	fetch := func(ctx context.Context, page int) ([]saleSummary, int, error) {
		listPage = page
		q.Set("cur_page", strconv.Itoa(page))
		if err := c.call(ctx, extract.StreamOrders, pathListSales, page, q, &list); err != nil {
			return nil, 0, err
		}
		for i := range list.SaleSummary {
			if list.SaleSummary[i].SaleID == "" {
				return nil, 0, &extract.RequestError{Account: c.Account, Stream: extract.StreamOrders, Method: method, Page: page,
					Err: fmt.Errorf("sale_summary[%d] has no sale_id", i)}
			}
		}
		return list.SaleSummary, int(list.PageInfo.TotalEntries), nil
	}
	key := func(s *saleSummary) string { return string(s.SaleID) }
	return apiclient.Search(ctx, c.Client, extract.StreamOrders, method, key, fetch, func(p extract.Page[saleSummary]) error {
		if n := len(p.Items); cap(orders) < n {
			orders = make([]extract.Order, n)
		} else {
			clear(orders[:n])
			orders = orders[:n]
		}
		if err := c.details(ctx, listPage, p.Items, orders); err != nil {
			return err
		}
		if err := apiclient.CheckStrings(orders, c.MaxString, func(o *extract.Order) string { return o.RefNo }); err != nil {
			return &extract.RequestError{Account: c.Account, Stream: extract.StreamOrders, Method: "GET " + pathDetailSale, Page: listPage, Err: err}
		}
		return yield(extract.Page[extract.Order]{Number: p.Number, Count: p.Count, Items: orders})
	})
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
					fail(&extract.RequestError{Account: c.Account, Stream: extract.StreamOrders, Method: "GET " + pathDetailSale, Page: page, Err: context.Cause(ctx)})
					return
				}
				id := string(sales[i].SaleID)
				q.Set("sale_id", id)
				err := c.call(ctx, extract.StreamOrders, pathDetailSale, page, q, &resp)
				if err == nil {
					err = convert(id, resp.Sale, c.currency, &out[i])
					if err != nil {
						err = &extract.RequestError{Account: c.Account, Stream: extract.StreamOrders, Method: "GET " + pathDetailSale, Page: page, Err: err}
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

// call makes one GET request of path (relative to the base URL) with query
// q and decodes the response body into result. It is the only place that
// talks to the API. A response body that is truncated or malformed is
// retried like a failed request, within the transport's budget. Every
// error it returns is an *extract.RequestError.
func (c *Client) call(ctx context.Context, stream, path string, page int, q url.Values, result response) error {
	target := c.URL(path, q)
	return c.Retry(ctx, stream, "GET "+path, page, func(ctx context.Context) error {
		result.reset()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		req.SetBasicAuth(c.user, c.password)
		return c.Do(req, bodyError, func(body io.Reader) error {
			if err := transport.DecodeJSON(body, result); err != nil {
				return err
			}
			return result.err()
		})
	})
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
		switch {
		case apiErr == nil:
			return extract.ErrAuthentication
		case !errors.Is(apiErr, extract.ErrAuthentication):
			return fmt.Errorf("%w: %w", extract.ErrAuthentication, apiErr)
		}
	}
	return apiErr
}
