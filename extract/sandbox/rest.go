package sandbox

// The REST API 6.0, served under RESTPath:
//
//	GET /rest/6.0/orders/?StartDate=Y-m-d&EndDate=Y-m-d&IncludeTestOrders=YES&Page=N&Limit=N
//	GET /rest/6.0/subscriptions/?PurchasedAfter=Y-m-d&PurchasedBefore=Y-m-d&Page=N&Limit=N
//
// Both answer 200 with {"Items":[...],"Pagination":{"Page":N,"Limit":N,"Count":N}},
// the items being the same objects the JSON-RPC searches return, with the
// same filters, defaults and paging (Limit 1 to 200, default 10).
// The dialects (dialects.go) change them as they change JSON-RPC's, and
// rest-201 answers 201.
//
// Every request is authenticated on its own by the header
//
//	X-Avangate-Authentication: code="CODE" date="YYYY-MM-DD HH:MM:SS" hash="HEX" algo="sha256"
//
// where hash is extract.Sign(algo, secret, code, date), date is UTC within
// 15 minutes of the merchant's clock, and algo is sha256 or sha3-256, or
// absent for an MD5 signature (as MD5 clients of API 6.0 send it).
// Requests must accept
// application/json: the sandbox serves no other format.
//
// Errors are an HTTP status with a JSON body
//
//	{"error_code":"AUTHENTICATION_ERROR","message":"..."}
//
// in the order the sandbox checks them: 404 NOT_FOUND (no such resource),
// 405 METHOD_NOT_ALLOWED (anything but GET), 406 NOT_ACCEPTABLE (the Accept
// header does not list application/json), 401 AUTHENTICATION_ERROR (missing,
// malformed or wrong header, unknown merchant, skewed date), 400
// INVALID_PARAMETER (an unknown or repeated query parameter, a bad date,
// Page or Limit; the message names the parameter).

import (
	"bufio"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apijson"
)

// RESTPath is the path the REST API is served under.
const RESTPath = "/rest/6.0/"

// AuthHeader is the REST API's authentication header.
const AuthHeader = "X-Avangate-Authentication"

// Error codes of the REST API, besides CodeInvalidParameter.
const (
	CodeAuthenticationError = "AUTHENTICATION_ERROR"
	CodeNotFound            = "NOT_FOUND"
	CodeMethodNotAllowed    = "METHOD_NOT_ALLOWED"
	CodeNotAcceptable       = "NOT_ACCEPTABLE"
)

// RESTURL returns the REST endpoint, such as
// "http://127.0.0.1:41234/rest/6.0/".
func (s *Server) RESTURL() string { return strings.TrimSuffix(s.url, Path) + RESTPath }

// restError is the body of a REST error response.
type restError struct {
	Status  int    `json:"-"`
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func (m *Merchant) restHandler() http.Handler { return http.HandlerFunc(m.serveREST) }

func (m *Merchant) serveREST(w http.ResponseWriter, r *http.Request) {
	resource := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, RESTPath), "/")
	if resource != "orders" && resource != "subscriptions" {
		writeRESTError(w, &restError{http.StatusNotFound, CodeNotFound, "no resource at " + r.URL.Path})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeRESTError(w, &restError{http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method + " is not allowed on " + r.URL.Path})
		return
	}
	if !acceptsJSON(r.Header) {
		writeRESTError(w, &restError{http.StatusNotAcceptable, CodeNotAcceptable, "the Accept header must list application/json"})
		return
	}
	now := m.now()
	if msg := m.restAuthenticate(r.Header.Values(AuthHeader), now); msg != "" {
		writeRESTError(w, &restError{http.StatusUnauthorized, CodeAuthenticationError, "Authentication needed for this resource: " + msg})
		return
	}
	var e *rpcError
	switch resource {
	case "orders":
		e = m.serveRESTOrders(w, r.URL.Query(), now)
	case "subscriptions":
		e = m.serveRESTSubscriptions(w, r.URL.Query(), now)
	}
	if e != nil {
		writeRESTError(w, &restError{http.StatusBadRequest, fmt.Sprint(e.Code), e.Message})
	}
}

// acceptsJSON reports whether the Accept header lists application/json.
func acceptsJSON(h http.Header) bool {
	for _, v := range h.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
				return true
			}
		}
	}
	return false
}

// restAuthenticate checks the authentication header and returns why it is
// refused, or "" if it is good.
func (m *Merchant) restAuthenticate(values []string, now time.Time) string {
	if len(values) != 1 {
		return AuthHeader + " header missing or repeated"
	}
	f, ok := restAuthFields(values[0])
	if !ok {
		return AuthHeader + ` header is not of the form code="..." date="..." hash="..." algo="..."`
	}
	for k := range f {
		if !slices.Contains([]string{"code", "date", "hash", "algo"}, k) {
			return "unknown field " + k + " in the " + AuthHeader + " header"
		}
	}
	// As API 6.0 does: the algo field names sha256 or sha3-256, and a
	// header without it is an MD5 signature (what MD5 clients send).
	algo := f["algo"]
	switch algo {
	case "":
		algo = "md5"
	case "sha256", "sha3-256":
	default:
		return "unsupported hash algorithm " + strconv.Quote(algo) + " (algo is sha256 or sha3-256; an MD5 signature is sent without algo)"
	}
	code, date, hash := f["code"], f["date"], f["hash"]
	if code != m.code {
		return "unknown merchant code"
	}
	t, err := time.ParseInLocation(extract.DateLayout, date, time.UTC)
	if err != nil {
		return "date must be UTC " + extract.DateLayout
	}
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return "date is more than 15 minutes from the server time"
	}
	want, err := extract.Sign(algo, m.secret, code, date)
	if err != nil {
		return "unsupported hash algorithm"
	}
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(hash))) {
		return "hash does not match"
	}
	return ""
}

// restAuthFields parses key="value" pairs separated by spaces or commas.
// Values are quoted and contain no quotes; keys must not repeat.
func restAuthFields(s string) (map[string]string, bool) {
	f := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return f, len(f) > 0
		}
		key, rest, ok := strings.Cut(s, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t,\"") || !strings.HasPrefix(rest, `"`) {
			return nil, false
		}
		val, rest, ok := strings.Cut(rest[1:], `"`)
		if !ok {
			return nil, false
		}
		if _, dup := f[key]; dup {
			return nil, false
		}
		f[key] = val
		s = rest
	}
}

// restQueryOptions turns query parameters into search options, each value a
// JSON string, so that the JSON-RPC option parsing applies to them.
func restQueryOptions(q url.Values, allowed ...string) (options, *rpcError) {
	opts := options{}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, k) {
			return nil, invalidParameter("unsupported parameter %s", k)
		}
		if len(q[k]) != 1 {
			return nil, invalidParameter("parameter %s given %d times", k, len(q[k]))
		}
		v, err := json.Marshal(q[k][0])
		if err != nil {
			return nil, invalidParameter("parameter %s is not valid text", k)
		}
		opts[k] = v
	}
	return opts, nil
}

func (m *Merchant) serveRESTOrders(w http.ResponseWriter, q url.Values, now time.Time) *rpcError {
	opts, err := restQueryOptions(q, "StartDate", "EndDate", "IncludeTestOrders", "Page", "Limit")
	if err != nil {
		return err
	}
	page, limit, err := opts.paging()
	if err != nil {
		return err
	}
	f, err := m.orderFilterOf(opts, now)
	if err != nil {
		return err
	}
	pg := getOrderPage()
	defer putOrderPage(pg)
	count, orders := m.orderResults(f, page, limit, now, pg)
	writeRESTItems(w, m.restStatus(), page, limit, count, orders)
	return nil
}

func (m *Merchant) serveRESTSubscriptions(w http.ResponseWriter, q url.Values, now time.Time) *rpcError {
	opts, err := restQueryOptions(q, "PurchasedAfter", "PurchasedBefore", "ModifiedAfter", "Page", "Limit")
	if err != nil {
		return err
	}
	page, limit, err := opts.paging()
	if err != nil {
		return err
	}
	from, to := m.since, m.today(now)
	if opts.has("PurchasedAfter") {
		if from, err = opts.date("PurchasedAfter"); err != nil {
			return err
		}
	}
	if opts.has("PurchasedBefore") {
		if to, err = opts.date("PurchasedBefore"); err != nil {
			return err
		}
	}
	count, items, err := m.subscriptionResults(opts, from, to, page, limit, now)
	if err != nil {
		return err
	}
	m.writeRESTSubscriptions(w, page, limit, count, items)
	return nil
}

func writeRESTError(w http.ResponseWriter, e *restError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	apijson.NewEncoder(w).Encode(e)
}

// writeRESTItems streams a REST search result with status, encoding one
// item at a time.
func writeRESTItems[T any](w http.ResponseWriter, status, page, limit, count int, items []T) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"Items":`)
	if !encodeItems(bw, items) {
		bw.Flush()
		return
	}
	fmt.Fprintf(bw, `,"Pagination":{"Page":%d,"Limit":%d,"Count":%d}}`+"\n", page, limit, count)
	bw.Flush()
}
