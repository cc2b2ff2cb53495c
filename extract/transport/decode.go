package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ledgerline/ledgerline/extract/apijson"
)

// DecodeJSON reads a JSON response body whole and decodes it into v with
// apijson, the library the sandbox encodes with. A body that is cut short,
// not JSON, or fails to be read makes an error marked Retryable; a value
// of the wrong type does not, since another attempt would only repeat it.
func DecodeJSON(body io.Reader, v any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return Retryable(fmt.Errorf("decoding response: %w", err))
	}
	return UnmarshalJSON(data, v)
}

// UnmarshalJSON decodes a whole response body, data, into v, marking the
// errors Retryable as DecodeJSON does.
func UnmarshalJSON(data []byte, v any) error {
	if len(data) == 0 {
		return Retryable(fmt.Errorf("decoding response: %w", io.ErrUnexpectedEOF))
	}
	err := apijson.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); errors.Is(err, io.EOF) || ok && se.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))) {
		// The body ends before its value does.
		err = io.ErrUnexpectedEOF
	}
	err = fmt.Errorf("decoding response: %w", err)
	if apijson.IsSyntaxError(err) || !apijson.IsTypeError(err) && errors.Is(err, io.ErrUnexpectedEOF) {
		return Retryable(err)
	}
	return err
}
