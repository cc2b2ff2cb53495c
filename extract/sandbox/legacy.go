package sandbox

// The legacy Back Office Admin API, served under LegacyPath:
//
//	GET /api/sales/list_sales?cur_page=N&pagesize=N&sale_date_begin=Y-m-d&sale_date_end=Y-m-d
//	GET /api/sales/detail_sale?sale_id=N
//
// A sale is an order of the simulated merchant, test orders included; its
// sale_id is the order's RefNo and its date_placed the OrderDate (in the
// API time zone). list_sales pages through the sales placed within the
// dates (inclusive; each optional, all sales without them) by sale_id
// ascending (sort_col sale_id or date_placed, sort_dir ASC are accepted and
// change nothing); cur_page is from 1 and pagesize 1 to 100, default 20.
// A page past the last is empty.
//
// Authentication is HTTP Basic with the configured legacy user and the
// merchant's secret key as the password. The real API answers XML by
// default; the sandbox serves JSON only, and answers 406 Not Acceptable
// (plain text) to a request whose Accept header does not list
// application/json.
//
// Like the real API, the sandbox sends identifiers and amounts as JSON
// strings. Amounts carry the currency's decimal places ("19.90", "1400").
//
// The sale detail is served in the shape of recorded detail_sale responses
// (the 2017 one in the test mocks of w3guy/omnipay-2checkout, and the
// fields of facundomedica/2checkout-golang's SaleDetail): there is no
// demo flag, line items carry no quantity, and customer.country_code is
// ISO 3166-1 alpha-3 ("USA") with the alpha-2 code in country_code_2 ("US").
//
// A sale has one invoice (renewals do not create invoices here). The
// merchant prices in USD, its vendor currency: usd_total, usd_amount and
// fees_2co are in USD, converted at fixed rates, and so are vendor_total and
// vendor_amount. customer_total and customer_amount are in the currency the
// buyer paid in. The recorded responses, of sales billed in the vendor's
// currency (their customer, vendor and USD amounts are equal), carry no
// cust_currency, and neither does a USD sale here; a sale billed in another
// currency names it in cust_currency, without which no reader could tell
// what its amounts are in. vendor_order_id is the order's ExternalReference
// (null without one).
//
// Lines of type "product" are the order's items, one line per unit as in
// the recorded response (three of one product are three identical lines):
// vendor_product_id is the product code and customer_amount the unit's
// gross price (tax included, before discount). An order's discount is one
// further line of type "coupon" whose customer_amount is minus the order's
// Discount, so that customer_total, the amount charged, is the order's
// GrossDiscountedPrice. Test orders are sales like the others: the
// recorded responses have no demo flag. customer.customer_id is the
// CustomerReference.
//
// Statuses: the invoice status is "pending" while the order is PENDING or
// AUTHRECEIVED, "declined" once it is CANCELED, and "approved" once it is
// COMPLETE, REFUND or REVERSED, "deposited" from 7 days after it completed.
// Line statuses are "bill", or "refund" once the order is REFUND or
// REVERSED: the legacy API tells neither AUTHRECEIVED from PENDING nor
// REVERSED from REFUND.
//
// Errors are an HTTP status with a JSON body in the documented shape
//
//	{"errors":[{"code":"PARAMETER_MISSING","message":"Required parameter missing: sale_id","parameter":"sale_id"}]}
//
// 404 NOT_FOUND (unknown method), 405 METHOD_NOT_ALLOWED, 400
// PARAMETER_MISSING or PARAMETER_INVALID (naming the parameter), 404
// RECORD_NOT_FOUND "Unable to find record." (no such sale, as recorded by
// the SDKs' tests against the live API), except refused credentials: 401
// with
//
//	{"exception":{"errorMsg":"Unauthorized","errorCode":"300"}}
//
// the other error shape 2Checkout's SDKs read (2checkout-php's checkError
// reads both for every Admin API response), whose only recorded message is
// "Unauthorized", for refused credentials.

import (
	"crypto/subtle"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apijson"
)

// LegacyPath is the path the legacy Admin API is served under.
const LegacyPath = "/api/"

// DefaultLegacyUser is the legacy API user unless Config.LegacyUser is set.
const DefaultLegacyUser = "api-user"

// Error codes of the legacy API.
const (
	CodeParameterMissing = "PARAMETER_MISSING"
	CodeParameterInvalid = "PARAMETER_INVALID"
	CodeRecordNotFound   = "RECORD_NOT_FOUND"
	CodeForbidden        = "FORBIDDEN"
	// CodeUnauthorized is the errorCode of the exception body that refuses
	// credentials.
	CodeUnauthorized = "300"
)

// legacyVendorCurrency is the currency the legacy merchant prices in, that
// of its sales without cust_currency.
const legacyVendorCurrency = "USD"

// Paging limits of list_sales.
const (
	defaultLegacyPageSize = 20
	maxLegacyPageSize     = 100
)

// legacyDepositDelay is how long after an order completes its invoice
// is deposited.
const legacyDepositDelay = 7 * day

// legacyUSDRates are the fixed exchange rates of the legacy API, in
// millionths of a US dollar per unit of each of currencies.
var legacyUSDRates = [len(currencies)]int64{1_000_000, 1_080_000, 1_270_000, 217_000, 6_700}

// LegacyURL returns the legacy API endpoint, such as
// "http://127.0.0.1:41234/api/".
func (s *Server) LegacyURL() string { return strings.TrimSuffix(s.url, Path) + LegacyPath }

// legacyAPI serves the legacy API of a merchant. Day plans come from the
// merchant's cache, so that one detail_sale call per sale does not plan
// the day each time.
type legacyAPI struct {
	m *Merchant
}

func (m *Merchant) legacyHandler() http.Handler { return &legacyAPI{m: m} }

func (a *legacyAPI) plan(d civil.Date) dayPlan { return a.m.plan(d) }

// legacyError is one entry of the errors member.
type legacyError struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
}

func legacyMissing(param string) *legacyError {
	return &legacyError{http.StatusBadRequest, CodeParameterMissing, "Required parameter missing: " + param, param}
}

func legacyInvalid(param, why string) *legacyError {
	return &legacyError{http.StatusBadRequest, CodeParameterInvalid, "Invalid value for parameter: " + param + " (" + why + ")", param}
}

func (a *legacyAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, LegacyPath), "/")
	if method != "sales/list_sales" && method != "sales/detail_sale" {
		writeLegacyError(w, &legacyError{Status: http.StatusNotFound, Code: CodeNotFound, Message: "Unknown API method: " + method})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeLegacyError(w, &legacyError{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: r.Method + " is not allowed on " + method})
		return
	}
	if !acceptsJSON(r.Header) {
		http.Error(w, "406 Not Acceptable: the sandbox serves application/json only; send Accept: application/json", http.StatusNotAcceptable)
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(a.m.user)) != 1 ||
		subtle.ConstantTimeCompare([]byte(password), []byte(a.m.secret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="2Checkout API"`)
		writeLegacyException(w, http.StatusUnauthorized, CodeUnauthorized, "Unauthorized")
		return
	}
	q := r.URL.Query()
	now := a.m.now()
	var resp any
	var e *legacyError
	switch method {
	case "sales/list_sales":
		resp, e = a.listSales(q, now)
	case "sales/detail_sale":
		resp, e = a.detailSale(q, now)
	}
	if e != nil {
		writeLegacyError(w, e)
		return
	}
	writeLegacy(w, resp)
}

// writeLegacy writes a response body of the legacy API.
func writeLegacy(w http.ResponseWriter, resp any) {
	w.Header().Set("Content-Type", "application/json")
	apijson.NewEncoder(w).Encode(resp)
}

func writeLegacyError(w http.ResponseWriter, e *legacyError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	apijson.NewEncoder(w).Encode(struct {
		Errors []*legacyError `json:"errors"`
	}{[]*legacyError{e}})
}

// writeLegacyException writes an error in the exception shape.
func writeLegacyException(w http.ResponseWriter, status int, code, msg string) {
	type exception struct {
		ErrorMsg  string `json:"errorMsg"`
		ErrorCode string `json:"errorCode"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	apijson.NewEncoder(w).Encode(struct {
		Exception exception `json:"exception"`
	}{exception{msg, code}})
}

// legacyCheckParams refuses parameters not in allowed, and repeated ones.
func legacyCheckParams(q url.Values, allowed ...string) *legacyError {
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, k) {
			return legacyInvalid(k, "unsupported parameter")
		}
		if len(q[k]) != 1 {
			return legacyInvalid(k, "given more than once")
		}
	}
	return nil
}

// legacyIntParam reads an optional integer parameter within [lo, hi].
func legacyIntParam(q url.Values, name string, def, lo, hi int) (int, *legacyError) {
	if !q.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < lo || n > hi {
		return 0, legacyInvalid(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// legacyDateParam reads an optional Y-m-d date parameter.
func legacyDateParam(q url.Values, name string, def civil.Date) (civil.Date, *legacyError) {
	if !q.Has(name) {
		return def, nil
	}
	d, err := civil.ParseDate(q.Get(name))
	if err != nil {
		return civil.Date{}, legacyInvalid(name, "must be a date in Y-m-d format")
	}
	return d, nil
}

type legacyPageInfo struct {
	CurPage      int  `json:"cur_page"`
	FirstEntry   int  `json:"first_entry"`
	LastEntry    int  `json:"last_entry"`
	LastPage     int  `json:"last_page"`
	NextPage     *int `json:"next_page"`
	PageSize     int  `json:"pagesize"`
	PreviousPage *int `json:"previous_page"`
	TotalEntries int  `json:"total_entries"`
}

type legacySaleSummary struct {
	SaleID            string  `json:"sale_id"`
	DatePlaced        string  `json:"date_placed"`
	CustomerName      string  `json:"customer_name"`
	Recurring         string  `json:"recurring"`
	RecurringDeclined *string `json:"recurring_declined"`
	USDTotal          string  `json:"usd_total"`
	CustomerTotal     string  `json:"customer_total"`
}

type legacyListResponse struct {
	ResponseCode    string              `json:"response_code"`
	ResponseMessage string              `json:"response_message"`
	PageInfo        legacyPageInfo      `json:"page_info"`
	SaleSummary     []legacySaleSummary `json:"sale_summary"`
}

func (a *legacyAPI) listSales(q url.Values, now time.Time) (any, *legacyError) {
	if e := legacyCheckParams(q, "cur_page", "pagesize", "sale_date_begin", "sale_date_end", "sort_col", "sort_dir"); e != nil {
		return nil, e
	}
	page, e := legacyIntParam(q, "cur_page", 1, 1, 1<<30)
	if e != nil {
		return nil, e
	}
	size, e := legacyIntParam(q, "pagesize", defaultLegacyPageSize, 1, maxLegacyPageSize)
	if e != nil {
		return nil, e
	}
	from, e := legacyDateParam(q, "sale_date_begin", a.m.since)
	if e != nil {
		return nil, e
	}
	to, e := legacyDateParam(q, "sale_date_end", a.m.today(now))
	if e != nil {
		return nil, e
	}
	if q.Has("sort_col") && q.Get("sort_col") != "sale_id" && q.Get("sort_col") != "date_placed" {
		return nil, legacyInvalid("sort_col", "the sandbox sorts by sale_id or date_placed only")
	}
	if q.Has("sort_dir") && q.Get("sort_dir") != "ASC" {
		return nil, legacyInvalid("sort_dir", "the sandbox sorts ASC only")
	}

	offset := (page - 1) * size
	count, sales := a.searchSales(from, to, offset, size, now)
	resp := legacyListResponse{
		ResponseCode:    "OK",
		ResponseMessage: "Sale summaries retrieved successfully.",
		PageInfo: legacyPageInfo{
			CurPage:      page,
			LastPage:     max(1, (count+size-1)/size),
			PageSize:     size,
			TotalEntries: count,
		},
		SaleSummary: make([]legacySaleSummary, len(sales)),
	}
	if len(sales) > 0 {
		resp.PageInfo.FirstEntry = offset + 1
		resp.PageInfo.LastEntry = offset + len(sales)
	}
	if page < resp.PageInfo.LastPage {
		next := page + 1
		resp.PageInfo.NextPage = &next
	}
	if page > 1 {
		prev := page - 1
		resp.PageInfo.PreviousPage = &prev
	}
	for i, s := range sales {
		t := a.m.legacyTotals(s)
		first, last := a.m.legacyCustomerName(s)
		resp.SaleSummary[i] = legacySaleSummary{
			SaleID:        s.refNo(),
			DatePlaced:    s.placed.In(a.m.loc).Format(extract.DateLayout),
			CustomerName:  first + " " + last,
			Recurring:     legacyFlag(s.legacyRecurring()),
			USDTotal:      t.usd(t.charged),
			CustomerTotal: t.local(t.charged),
		}
	}
	return resp, nil
}

// searchSales returns the number of sales placed within [from, to] visible
// at now, test sales included, and those at positions [offset,
// offset+limit).
//
// Like the API 6.0 order search (orderResults), it sees the orders the faults have inserted, and may
// insert one after serving a page.
func (a *legacyAPI) searchSales(from, to civil.Date, offset, limit int, now time.Time) (count int, sales []*sale) {
	from, to = a.m.clamp(from, to, now)
	defer func() {
		if len(sales) > 0 {
			last := sales[len(sales)-1].placed.In(a.m.loc).Format(extract.DateLayout)
			a.m.afterOrderPage(from, last, now)
		}
	}()
	for d := from; !d.After(to); d = d.AddDays(1) {
		if day, ok := a.m.insertedDay(d, now); ok {
			count += len(day)
			if offset >= len(day) {
				offset -= len(day)
				continue
			}
			for _, s := range day[offset:] {
				if len(sales) == limit {
					break
				}
				sales = append(sales, s)
			}
			offset = 0
			continue
		}
		n := a.m.visibleCount(d, now)
		count += n
		if offset >= n {
			offset -= n
			continue
		}
		if len(sales) == limit {
			continue
		}
		p := a.plan(d)
		for i := offset; i < n && len(sales) < limit; i++ {
			sales = append(sales, a.m.sale(p, i))
		}
		offset = 0
	}
	return count, sales
}

type legacyCustomer struct {
	CustomerID   string `json:"customer_id"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	EmailAddress string `json:"email_address"`
	CountryCode  string `json:"country_code"`   // ISO 3166-1 alpha-3
	CountryCode2 string `json:"country_code_2"` // ISO 3166-1 alpha-2
}

type legacyLineitem struct {
	LineitemID      string  `json:"lineitem_id"`
	InvoiceID       string  `json:"invoice_id"`
	SaleID          string  `json:"sale_id"`
	Type            string  `json:"type"`
	Status          string  `json:"status"`
	ProductID       *string `json:"product_id"`
	VendorProductID string  `json:"vendor_product_id"`
	ProductName     string  `json:"product_name"`
	CustomerAmount  string  `json:"customer_amount"`
	VendorAmount    string  `json:"vendor_amount"`
	USDAmount       string  `json:"usd_amount"`
}

type legacyInvoice struct {
	InvoiceID     string           `json:"invoice_id"`
	SaleID        string           `json:"sale_id"`
	DatePlaced    string           `json:"date_placed"`
	Status        string           `json:"status"`
	Recurring     string           `json:"recurring"`
	VendorOrderID *string          `json:"vendor_order_id"`
	CustCurrency  string           `json:"cust_currency,omitempty"`
	CustomerTotal string           `json:"customer_total"`
	VendorTotal   string           `json:"vendor_total"`
	USDTotal      string           `json:"usd_total"`
	Fees2CO       string           `json:"fees_2co"`
	Lineitems     []legacyLineitem `json:"lineitems"`
}

type legacySale struct {
	SaleID     string          `json:"sale_id"`
	DatePlaced string          `json:"date_placed"`
	Customer   legacyCustomer  `json:"customer"`
	Invoices   []legacyInvoice `json:"invoices"`
}

type legacyDetailResponse struct {
	ResponseCode    string     `json:"response_code"`
	ResponseMessage string     `json:"response_message"`
	Sale            legacySale `json:"sale"`
}

func (a *legacyAPI) detailSale(q url.Values, now time.Time) (any, *legacyError) {
	if e := legacyCheckParams(q, "sale_id"); e != nil {
		return nil, e
	}
	if !q.Has("sale_id") {
		return nil, legacyMissing("sale_id")
	}
	id, err := strconv.ParseUint(q.Get("sale_id"), 10, 64)
	if err != nil || id == 0 {
		return nil, legacyInvalid("sale_id", "must be a positive integer")
	}
	s := a.lookup(id, now)
	if s == nil {
		return nil, &legacyError{Status: http.StatusNotFound, Code: CodeRecordNotFound, Message: "Unable to find record."}
	}
	return legacyDetailResponse{
		ResponseCode:    "OK",
		ResponseMessage: "Sale detail retrieved",
		Sale:            a.m.legacySale(s, now),
	}, nil
}

// lookup returns the sale whose sale_id (RefNo) is id, or nil if there is
// none at now.
func (a *legacyAPI) lookup(id uint64, now time.Time) *sale {
	ord, i := (id-1)/100000, int((id-1)%100000)
	if ord > uint64(civil.Date{Year: 9999, Month: time.December, Day: 31}.DaysSince(epoch)) {
		return nil
	}
	d := epoch.AddDays(int(ord))
	if d.Before(a.m.since) || d.After(a.m.today(now)) {
		return nil
	}
	if i >= a.m.dayCount(d) {
		// Inserted by the faults, if at all.
		day, _ := a.m.insertedDay(d, now)
		ref := strconv.FormatUint(id, 10)
		for _, s := range day {
			if s.refNo() == ref {
				return s
			}
		}
		return nil
	}
	if i >= a.m.visibleCount(d, now) {
		return nil
	}
	return a.m.sale(a.plan(d), i)
}
