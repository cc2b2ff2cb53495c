// Package apijson is the JSON library of the 2Checkout API records: the
// clients decode responses and the sandbox encodes them with it, so both
// ends agree on every field of the record types in package extract.
//
// It is github.com/goccy/go-json, chosen by BenchmarkDecodeOrders in
// package extract: it decodes a page of orders about four times faster
// than encoding/json, as fast as the hand-written decoder it replaced,
// and takes the same struct tags and json.Number. Numbers stay exact:
// the record types hold them as json.Number, never float64.
//
// A body goccy/go-json fails to decode is decoded again by encoding/json,
// whose errors are the ones reported: goccy's neither name the field of a
// value of the wrong type nor tell a body cut short from one that is not
// JSON, and the clients retry the latter and not the former. Failures are
// rare, so the second decoding costs nothing in the common case.
package apijson

import (
	stdjson "encoding/json"
	"errors"
	"io"

	json "github.com/goccy/go-json"
)

// Types shared with encoding/json.
type (
	Number     = stdjson.Number
	RawMessage = stdjson.RawMessage
)

// Marshal returns the JSON encoding of v.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes data into v. Its errors are encoding/json's.
func Unmarshal(data []byte, v any) error {
	if json.Unmarshal(data, v) == nil {
		return nil
	}
	return stdjson.Unmarshal(data, v)
}

// An Encoder writes JSON values to a stream, each followed by a newline.
type Encoder = json.Encoder

// NewEncoder returns an encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder { return json.NewEncoder(w) }

// IsSyntaxError reports whether err says that the input is not JSON, or
// ends before the value does.
func IsSyntaxError(err error) bool {
	_, ok := errors.AsType[*stdjson.SyntaxError](err)
	return ok || errors.Is(err, io.ErrUnexpectedEOF)
}

// IsTypeError reports whether err says that a JSON value does not fit the
// Go value it was decoded into.
func IsTypeError(err error) bool {
	_, ok := errors.AsType[*stdjson.UnmarshalTypeError](err)
	return ok
}
