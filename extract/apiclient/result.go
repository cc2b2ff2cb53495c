package apiclient

import (
	"bytes"
	"errors"

	"github.com/ledgerline/ledgerline/extract/apijson"
	"github.com/ledgerline/ledgerline/extract/transport"
)

// SearchResult is the result of an API 6.0 search, JSON-RPC or REST:
// {"Items":[...],"Pagination":{"Page","Limit","Count"}}.
type SearchResult[T any] struct {
	// Items is nil until decoded, so that a result without Items, or
	// with Items null, is told from an empty page.
	Items      *[]T `json:"Items"`
	Pagination struct {
		Page  int `json:"Page"`
		Limit int `json:"Limit"`
		Count int `json:"Count"`
	} `json:"Pagination"`
	// Bare says the result was a bare array, without Pagination (see
	// LooseResult).
	Bare bool `json:"-"`
}

// LooseResult is a SearchResult that may also come as a bare array of
// the page's items, as some accounts return subscriptions (dialect
// subscriptions-bare-array). Its decoding costs about half as much again
// as SearchResult's (the decoder hands it the raw value to decode again),
// so the clients use it for subscriptions only.
type LooseResult[T any] struct{ SearchResult[T] }

// UnmarshalJSON decodes either shape.
func (r *LooseResult[T]) UnmarshalJSON(data []byte) error {
	if b := bytes.TrimSpace(data); len(b) > 0 && b[0] == '[' {
		var items []T
		if err := apijson.Unmarshal(b, &items); err != nil {
			return err
		}
		r.Items, r.Bare = &items, true
		return nil
	}
	// SearchResult has no UnmarshalJSON: this does not recurse.
	return apijson.Unmarshal(data, &r.SearchResult)
}

// Reset readies r for decoding a page: decoding must not see the values of
// the last page, or of a failed attempt at this one.
func (r *SearchResult[T]) Reset() { *r = SearchResult[T]{} }

// Check fails a result without Items, or with Items null, as malformed:
// taken for an empty page, it would clear the day's committed rows.
func (r *SearchResult[T]) Check() error {
	if r.Items == nil {
		return transport.Retryable(errors.New("decoding response: the search result has no Items (missing or null)"))
	}
	return nil
}

// Page returns the page's items and the total the API reports: for a bare
// array, which has none, the number of items (which paging.Paginate takes
// for a page count).
func (r *SearchResult[T]) Page() ([]T, int) {
	if r.Bare {
		return *r.Items, len(*r.Items)
	}
	return *r.Items, r.Pagination.Count
}
