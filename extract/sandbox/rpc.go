package sandbox

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apijson"
)

// Error codes the sandbox returns. The API's own codes are strings;
// protocol errors use the numeric JSON-RPC 2.0 codes.
const (
	CodeAuthenticationFailed = "AUTHENTICATION_FAILED"
	CodeInvalidSession       = "INVALID_SESSION"
	CodeInvalidParameter     = "INVALID_PARAMETER"

	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
)

// Paging limits of the search methods.
const (
	defaultLimit = 10
	maxLimit     = 200
)

// maxClockSkew is how far a login's date may be from the merchant's clock.
const maxClockSkew = 15 * time.Minute

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    any    `json:"code"` // string or int
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprint(e.Code) + ": " + e.Message }

func authFailed(msg string) *rpcError {
	return &rpcError{CodeAuthenticationFailed, msg}
}

func invalidParameter(format string, args ...any) *rpcError {
	return &rpcError{CodeInvalidParameter, fmt.Sprintf(format, args...)}
}

type request struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

// Handler returns the HTTP handler of the merchant's APIs: JSON-RPC (POST
// on Path), REST (under RESTPath) and the legacy Admin API (under
// LegacyPath), with the merchant's Faults.
func (m *Merchant) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path+"{$}", m.serveRPC)
	mux.HandleFunc("POST "+strings.TrimSuffix(Path, "/"), m.serveRPC)
	mux.Handle(RESTPath, m.restHandler())
	mux.Handle(LegacyPath, m.legacyHandler())
	return m.withFaults(mux)
}

func (m *Merchant) serveRPC(w http.ResponseWriter, r *http.Request) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		writeError(w, nil, &rpcError{codeParseError, "parse error: " + err.Error()})
		return
	}
	if req.Method == "" {
		writeError(w, req.ID, &rpcError{codeInvalidRequest, "invalid request: no method"})
		return
	}
	now := m.now()
	switch req.Method {
	case "login":
		sid, err := m.login(req.Params, now)
		if err != nil {
			writeError(w, req.ID, err)
			return
		}
		writeResult(w, req.ID, sid)
	case "searchOrders":
		m.serveSearchOrders(w, req, now)
	case "searchSubscriptions":
		m.serveSearchSubscriptions(w, req, now)
	default:
		writeError(w, req.ID, &rpcError{codeMethodNotFound, "method not found: " + req.Method})
	}
}

func (m *Merchant) login(params []json.RawMessage, now time.Time) (string, *rpcError) {
	if len(params) != 3 && len(params) != 4 {
		return "", invalidParameter("login takes 3 or 4 parameters (merchantCode, date, hash, algorithm), not %d", len(params))
	}
	var args [4]string
	args[3] = "sha256"
	for i, p := range params {
		if err := json.Unmarshal(p, &args[i]); err != nil {
			return "", invalidParameter("login parameter %d must be a string", i+1)
		}
	}
	code, date, hash, algo := args[0], args[1], args[2], args[3]
	if code != m.code {
		return "", authFailed("authentication failed: unknown merchant code")
	}
	t, err := time.ParseInLocation(extract.DateLayout, date, time.UTC)
	if err != nil {
		return "", authFailed("authentication failed: date must be UTC " + extract.DateLayout)
	}
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return "", authFailed("authentication failed: date is more than 15 minutes from the server time")
	}
	want, err := extract.Sign(algo, m.secret, code, date)
	if err != nil {
		return "", authFailed("authentication failed: unsupported hash algorithm")
	}
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(hash))) {
		return "", authFailed("authentication failed: hash does not match")
	}

	sid := rand.Text()
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, exp := range m.sessions {
		if !now.Before(exp) {
			delete(m.sessions, id)
		}
	}
	m.sessions[sid] = now.Add(m.ttl)
	return sid, nil
}

// session checks the session id, the first parameter of every call but
// login.
func (m *Merchant) session(params []json.RawMessage, now time.Time) *rpcError {
	invalid := &rpcError{CodeInvalidSession, "session expired or invalid"}
	if len(params) == 0 {
		return invalid
	}
	var sid string
	if err := json.Unmarshal(params[0], &sid); err != nil {
		return invalid
	}
	m.mu.Lock()
	exp, ok := m.sessions[sid]
	m.mu.Unlock()
	if !ok || !now.Before(exp) {
		return invalid
	}
	return nil
}

// options is the search options object, the second parameter of the search
// methods.
type options map[string]json.RawMessage

func parseOptions(params []json.RawMessage, allowed ...string) (options, *rpcError) {
	if len(params) > 2 {
		return nil, invalidParameter("too many parameters: %d", len(params))
	}
	opts := options{}
	if len(params) == 2 && !bytes.Equal(bytes.TrimSpace(params[1]), []byte("null")) {
		if err := json.Unmarshal(params[1], &opts); err != nil {
			return nil, invalidParameter("search options must be an object")
		}
	}
	for k := range opts {
		if !slices.Contains(allowed, k) {
			return nil, invalidParameter("unsupported search option %s", k)
		}
	}
	return opts, nil
}

func (o options) has(name string) bool {
	v, ok := o[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

func (o options) date(name string) (civil.Date, *rpcError) {
	var s string
	if err := json.Unmarshal(o[name], &s); err != nil {
		return civil.Date{}, invalidParameter("%s must be a date in Y-m-d format", name)
	}
	d, err := civil.ParseDate(s)
	if err != nil {
		return civil.Date{}, invalidParameter("%s must be a date in Y-m-d format, not %q", name, s)
	}
	return d, nil
}

// paging reads Page and Limit from the Pagination object or, failing that,
// the options themselves.
func (o options) paging() (page, limit int, e *rpcError) {
	src := o
	if o.has("Pagination") {
		src = options{}
		if err := json.Unmarshal(o["Pagination"], &src); err != nil {
			return 0, 0, invalidParameter("Pagination must be an object")
		}
	}
	page, limit = 1, defaultLimit
	for _, p := range []struct {
		name string
		v    *int
	}{{"Page", &page}, {"Limit", &limit}} {
		if !src.has(p.name) {
			continue
		}
		raw := strings.Trim(string(bytes.TrimSpace(src[p.name])), `"`)
		n, err := strconv.Atoi(raw)
		if err != nil {
			return 0, 0, invalidParameter("%s must be an integer", p.name)
		}
		*p.v = n
	}
	switch {
	case page < 1:
		return 0, 0, invalidParameter("Page must be at least 1")
	case limit < 1:
		return 0, 0, invalidParameter("Limit must be at least 1")
	case limit > maxLimit:
		return 0, 0, invalidParameter("Limit must be at most %d", maxLimit)
	case page > 1<<40/limit:
		return 0, 0, invalidParameter("Page is too large")
	}
	return page, limit, nil
}

func (m *Merchant) serveSearchOrders(w http.ResponseWriter, req request, now time.Time) {
	if err := m.session(req.Params, now); err != nil {
		writeError(w, req.ID, err)
		return
	}
	opts, err := parseOptions(req.Params, "StartDate", "EndDate", "IncludeTestOrders", "Pagination", "Page", "Limit")
	if err != nil {
		writeError(w, req.ID, err)
		return
	}
	page, limit, err := opts.paging()
	if err != nil {
		writeError(w, req.ID, err)
		return
	}
	f, err := m.orderFilterOf(opts, now)
	if err != nil {
		writeError(w, req.ID, err)
		return
	}
	pg := getOrderPage()
	defer putOrderPage(pg)
	count, orders := m.orderResults(f, page, limit, now, pg)
	writePage(w, req.ID, page, limit, count, orders)
}

func (m *Merchant) serveSearchSubscriptions(w http.ResponseWriter, req request, now time.Time) {
	if err := m.session(req.Params, now); err != nil {
		writeError(w, req.ID, err)
		return
	}
	opts, err := parseOptions(req.Params, "PurchasedAfter", "PurchasedBefore", "ModifiedAfter", "Pagination", "Page", "Limit")
	if err != nil {
		writeError(w, req.ID, err)
		return
	}
	page, limit, err := opts.paging()
	if err != nil {
		writeError(w, req.ID, err)
		return
	}
	from, to := m.since, m.today(now)
	if opts.has("PurchasedAfter") {
		if from, err = opts.date("PurchasedAfter"); err != nil {
			writeError(w, req.ID, err)
			return
		}
	}
	if opts.has("PurchasedBefore") {
		if to, err = opts.date("PurchasedBefore"); err != nil {
			writeError(w, req.ID, err)
			return
		}
	}
	count, items, err := m.subscriptionResults(opts, from, to, page, limit, now)
	if err != nil {
		writeError(w, req.ID, err)
		return
	}
	m.writeSubscriptions(w, req.ID, page, limit, count, items)
}

// subscriptionResults runs a subscription search of purchases within
// [from, to], filtered by the options' ModifiedAfter when given.
func (m *Merchant) subscriptionResults(opts options, from, to civil.Date, page, limit int, now time.Time) (int, []wireSubscription, *rpcError) {
	if !opts.has("ModifiedAfter") {
		count, items := m.searchSubscriptions(from, to, (page-1)*limit, limit, now)
		return count, items, nil
	}
	after, err := opts.date("ModifiedAfter")
	if err != nil {
		return 0, nil, err
	}
	count, items := m.searchModifiedSubscriptions(from, to, after, (page-1)*limit, limit, now)
	return count, items, nil
}

func idOrNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}

func writeError(w http.ResponseWriter, id json.RawMessage, e *rpcError) {
	w.Header().Set("Content-Type", "application/json")
	apijson.NewEncoder(w).Encode(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *rpcError       `json:"error"`
	}{"2.0", idOrNull(id), e})
}

func writeResult(w http.ResponseWriter, id json.RawMessage, result any) {
	w.Header().Set("Content-Type", "application/json")
	apijson.NewEncoder(w).Encode(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  any             `json:"result"`
	}{"2.0", idOrNull(id), result})
}

// writePage streams a search result, encoding one item at a time.
func writePage[T any](w http.ResponseWriter, id json.RawMessage, page, limit, count int, items []T) {
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 32<<10)
	fmt.Fprintf(bw, `{"jsonrpc":"2.0","id":%s,"result":{"Items":`, idOrNull(id))
	if !encodeItems(bw, items) {
		bw.Flush()
		return
	}
	fmt.Fprintf(bw, `,"Pagination":{"Page":%d,"Limit":%d,"Count":%d}}}`+"\n", page, limit, count)
	bw.Flush()
}
