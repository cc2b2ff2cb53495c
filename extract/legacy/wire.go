package legacy

// The legacy API's response bodies, and the JSON types of its loosely
// typed values.

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ledgerline/ledgerline/extract"
)

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

// exception is the other error body 2Checkout's SDKs read,
// {"exception":{"errorMsg":"Unauthorized","errorCode":"300"}}.
type exception struct {
	ErrorMsg  text `json:"errorMsg"`
	ErrorCode text `json:"errorCode"`
}

// envelope holds the members every response has.
type envelope struct {
	ResponseCode    string     `json:"response_code"`
	ResponseMessage string     `json:"response_message"`
	Errors          []apiError `json:"errors"`
	Exception       *exception `json:"exception"`
}

// authCodes are the codes for refused credentials that mean
// extract.ErrAuthentication whatever the HTTP status: 300 ("Unauthorized")
// in an exception. FORBIDDEN in errors[] also denies access to one record,
// so it means authentication only with a 401 or 403 (see bodyError).
var authCodes = [...]string{"300"}

// err returns the error the body reports: its first errors[] entry, its
// exception, or a response_code other than OK. Refused credentials wrap
// extract.ErrAuthentication.
func (e *envelope) err() error {
	err := e.apiErr()
	if apiErr, ok := errors.AsType[*extract.APIError](err); ok && slices.Contains(authCodes[:], apiErr.Code) {
		return fmt.Errorf("%w: %w", extract.ErrAuthentication, err)
	}
	return err
}

// apiErr is err without the authentication check.
func (e *envelope) apiErr() error {
	if e.Exception != nil && (e.Exception.ErrorCode != "" || e.Exception.ErrorMsg != "") {
		return &extract.APIError{Code: string(e.Exception.ErrorCode), Message: string(e.Exception.ErrorMsg)}
	}
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
	CustomerID   number `json:"customer_id"`
	CountryCode  string `json:"country_code"`   // ISO 3166-1 alpha-3 in recorded responses
	CountryCode2 string `json:"country_code_2"` // ISO 3166-1 alpha-2
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
