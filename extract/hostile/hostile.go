// Package hostile is a 2Checkout merchant that misbehaves on purpose, for
// tests: an httptest server on loopback that answers the JSON-RPC and REST
// order searches of API 6.0 with well-formed orders, except for the named
// Behaviour it is given (a null result, a missing amount, the same RefNo
// on two days, an understated Count, an oversized body, a stalled body).
//
// Its orders are simple and predictable: Config.PerDay orders on every API
// day, RefNo yyyymmddNNN, placed at 10:00 source time, in USD, with every
// amount present and one item each. A test states what a correct client
// and pipeline make of them.
package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/extract"
	json "github.com/ledgerline/ledgerline/extract/apijson"
)

// Behaviour names the way a Server misbehaves.
type Behaviour string

// The behaviours. Each applies to every order search the server answers.
const (
	// Honest answers every search correctly.
	Honest Behaviour = "honest"
	// NullResult answers a JSON-RPC search with "result": null and a REST
	// search with the body null.
	NullResult Behaviour = "null-result"
	// MissingResult answers a JSON-RPC search with neither result nor
	// error, and a REST search with {}.
	MissingResult Behaviour = "missing-result"
	// NullItems answers with "Items": null and the true Count.
	NullItems Behaviour = "null-items"
	// MissingItems answers without an Items member, with the true Count.
	MissingItems Behaviour = "missing-items"
	// MissingNetPrice leaves NetPrice out of the first order of each day.
	MissingNetPrice Behaviour = "missing-netprice"
	// NoItems leaves Items out of the first order of each day.
	NoItems Behaviour = "no-items"
	// DuplicateAcrossDays returns the first order of each day on the
	// next day's search too, after that day's own orders; Count counts
	// distinct orders.
	DuplicateAcrossDays Behaviour = "duplicate-across-days"
	// RedatedAcrossDays is DuplicateAcrossDays with the copy dated on the
	// next day: the same RefNo with another OrderDate.
	RedatedAcrossDays Behaviour = "redated-across-days"
	// UnderstatedCount reports a Count of 4/5 of the orders a search has.
	UnderstatedCount Behaviour = "understated-count"
	// HugeBody pads every search response with Config.Size bytes of
	// whitespace before its end.
	HugeBody Behaviour = "huge-body"
	// LongString gives the first order of each day an ExternalReference
	// of Config.Size characters.
	LongString Behaviour = "long-string"
	// Throttle answers every other search 429 Too Many Requests, with
	// Retry-After: 1.
	Throttle Behaviour = "throttle"
	// Created answers every search 201 Created, with a correct body: the
	// REST 6.0 OpenAPI lists 201 for some successful reads.
	Created Behaviour = "created-201"
	// SlowLoris sends the headers of every search response at once, then
	// its body one byte every Config.Interval.
	SlowLoris Behaviour = "slow-loris"
)

// Config configures a Server.
type Config struct {
	Behaviour Behaviour
	// PerDay is how many orders each API day has; zero means 5.
	PerDay int
	// Size is the padding of HugeBody and the string length of
	// LongString; zero means 1 MiB.
	Size int
	// Interval is the pause between bytes of SlowLoris; zero means 1s.
	Interval time.Duration
}

// A Server is a hostile merchant on loopback.
type Server struct {
	cfg    Config
	srv    *httptest.Server
	hits   atomic.Int64
	writes atomic.Int64
}

// Start starts a server on 127.0.0.1; Close stops it.
func Start(cfg Config) *Server {
	if cfg.PerDay == 0 {
		cfg.PerDay = 5
	}
	if cfg.Size == 0 {
		cfg.Size = 1 << 20
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	s := &Server{cfg: cfg}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server, ending requests in progress.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the JSON-RPC endpoint.
func (s *Server) URL() string { return s.srv.URL + "/rpc/6.0/" }

// RESTURL is the REST base URL.
func (s *Server) RESTURL() string { return s.srv.URL + "/rest/6.0/" }

// Requests is how many requests the server has received.
func (s *Server) Requests() int64 { return s.hits.Load() }

// Orders returns the orders of API day d as an honest server sends them.
func (s *Server) Orders(d civil.Date) []extract.Order {
	noDispute := "NONE"
	out := make([]extract.Order, s.cfg.PerDay)
	for i := range out {
		ref := fmt.Sprintf("%04d%02d%02d%03d", d.Year, d.Month, d.Day, i+1)
		price := extract.ItemPrice{Currency: "USD", NetPrice: "10", GrossPrice: "12", NetDiscountedPrice: "10",
			GrossDiscountedPrice: "12", Discount: "0", VAT: "2", AffiliateCommission: "0", UnitNetPrice: "10",
			UnitGrossPrice: "12", UnitVAT: "2", UnitDiscount: "0", UnitNetDiscountedPrice: "10",
			UnitGrossDiscountedPrice: "12", UnitAffiliateCommission: "0"}
		out[i] = extract.Order{RefNo: ref, OrderNo: json.Number(strconv.Itoa(i + 1)), Status: "COMPLETE",
			ApproveStatus: "OK", OrderDate: d.String() + " 10:00:00", Currency: "USD", BillingDetails: extract.BillingDetails{CountryCode: "us"},
			ChargebackResolution: &noDispute, ChargebackReasonCode: new(string),
			NetPrice: "10", GrossPrice: "12", NetDiscountedPrice: "10", GrossDiscountedPrice: "12", Discount: "0",
			VAT: "2", AffiliateCommission: "0", AvangateCommission: "0.59",
			Items: []extract.OrderItem{{Code: "P1", ProductDetails: extract.ProductDetails{Name: "Plan"}, Quantity: "1", Price: price}}}
	}
	return out
}

// search returns the orders the server sends for the window [from, to].
func (s *Server) search(from, to civil.Date) []extract.Order {
	var all []extract.Order
	for d := from; !d.After(to); d = d.AddDays(1) {
		day := s.Orders(d)
		switch s.cfg.Behaviour {
		case NoItems:
			day[0].Items = nil
		case LongString:
			day[0].ExternalReference = strings.Repeat("x", s.cfg.Size)
		case DuplicateAcrossDays, RedatedAcrossDays:
			prev := s.Orders(d.AddDays(-1))[0]
			if s.cfg.Behaviour == RedatedAcrossDays {
				prev.OrderDate = d.String() + prev.OrderDate[len("2006-01-02"):]
			}
			day = append(day, prev)
		}
		all = append(all, day...)
	}
	return all
}

// distinct counts the distinct RefNos of orders: the API counts orders,
// not the times it lists one.
func distinct(orders []extract.Order) int {
	refs := map[string]bool{}
	for i := range orders {
		refs[orders[i].RefNo] = true
	}
	return len(refs)
}

// page is one page of a search, as the wire carries it.
type page struct {
	Items      *[]json.RawMessage `json:"Items,omitempty"`
	Pagination struct {
		Page  int `json:"Page"`
		Limit int `json:"Limit"`
		Count int `json:"Count"`
	} `json:"Pagination"`
}

// result returns the search result for a page of the window, as JSON.
func (s *Server) result(from, to civil.Date, n, limit int) []byte {
	switch s.cfg.Behaviour {
	case NullResult:
		return []byte("null")
	case MissingResult:
		return nil
	}
	all := s.search(from, to)
	var p page
	p.Pagination.Page, p.Pagination.Limit, p.Pagination.Count = n, limit, distinct(all)
	if s.cfg.Behaviour == UnderstatedCount {
		p.Pagination.Count = len(all) * 4 / 5
	}
	lo, hi := min((n-1)*limit, len(all)), min(n*limit, len(all))
	items := all[lo:hi]
	switch s.cfg.Behaviour {
	case NullItems:
		b, _ := json.Marshal(p)
		return []byte(`{"Items":null,` + string(b[1:]))
	case MissingItems:
	default:
		raw := make([]json.RawMessage, len(items))
		for i := range items {
			b, err := json.Marshal(&items[i])
			if err != nil {
				panic(err)
			}
			if s.cfg.Behaviour == MissingNetPrice && strings.HasSuffix(items[i].RefNo, "001") {
				// An empty json.Number encodes as 0: leave the member out.
				b = bytes.Replace(b, []byte(`"NetPrice":10,`), nil, 1)
			}
			raw[i] = b
		}
		p.Items = &raw
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	switch {
	case strings.HasPrefix(r.URL.Path, "/rpc/"):
		s.serveRPC(w, r)
	case strings.HasPrefix(r.URL.Path, "/rest/6.0/orders"):
		q := r.URL.Query()
		from, _ := civil.ParseDate(q.Get("StartDate"))
		to, _ := civil.ParseDate(q.Get("EndDate"))
		n, _ := strconv.Atoi(q.Get("Page"))
		limit, _ := strconv.Atoi(q.Get("Limit"))
		body := s.result(from, to, max(n, 1), max(limit, 1))
		if body == nil {
			body = []byte("{}")
		}
		s.write(r.Context(), w, body)
	case strings.HasPrefix(r.URL.Path, "/rest/6.0/subscriptions"):
		s.write(r.Context(), w, []byte(`{"Items":[],"Pagination":{"Page":1,"Limit":200,"Count":0}}`))
	default:
		http.NotFound(w, r)
	}
}

// rpcRequest is a JSON-RPC request.
type rpcRequest struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

type orderSearch struct {
	StartDate, EndDate string
	Pagination         struct{ Page, Limit int }
}

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	var req rpcRequest
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	reply := func(result []byte) {
		out := `{"jsonrpc":"2.0","id":` + string(req.ID)
		if result != nil {
			out += `,"result":` + string(result)
		}
		s.write(r.Context(), w, []byte(out+"}"))
	}
	switch req.Method {
	case "login":
		// Logins are answered honestly: the behaviours are the searches'.
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":"hostile-session"}`))
	case "searchSubscriptions":
		reply([]byte(`{"Items":[],"Pagination":{"Page":1,"Limit":200,"Count":0}}`))
	case "searchOrders":
		var o orderSearch
		if len(req.Params) > 1 {
			_ = json.Unmarshal(req.Params[1], &o)
		}
		from, _ := civil.ParseDate(o.StartDate)
		to, _ := civil.ParseDate(o.EndDate)
		reply(s.result(from, to, max(o.Pagination.Page, 1), max(o.Pagination.Limit, 1)))
	default:
		http.Error(w, "unknown method", http.StatusBadRequest)
	}
}

// write sends a 200 response with body, padded, dribbled or sent as 201
// as the behaviour says.
func (s *Server) write(ctx context.Context, w http.ResponseWriter, body []byte) {
	if s.cfg.Behaviour == Throttle && s.writes.Add(1)%2 == 1 {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch s.cfg.Behaviour {
	case HugeBody:
		pad := strings.Repeat(" ", s.cfg.Size)
		body = append(body[:len(body)-1:len(body)-1], pad+"}"...)
	case SlowLoris:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		f, _ := w.(http.Flusher)
		if f != nil {
			f.Flush() // the headers now, the body later
		}
		for i := range body {
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.cfg.Interval):
			}
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			if f != nil {
				f.Flush()
			}
		}
		return
	case Created:
		w.WriteHeader(http.StatusCreated)
	}
	w.Write(body)
}
