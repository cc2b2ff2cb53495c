package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ledgerline/ledgerline/extract/apijson"
)

// DecodeJSON reads a JSON response body whole and decodes it into v with
// apijson, the library the sandbox encodes with. A body that is cut short,
// not JSON, or fails to be read makes an error marked Retryable; a value
// of the wrong type does not, since another attempt would only repeat it.
func DecodeJSON(body io.Reader, v any) error {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBody {
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(body); err != nil {
		if _, ok := errors.AsType[*BodyTooLargeError](err); ok {
			return fmt.Errorf("reading response: %w", err)
		}
		return Retryable(fmt.Errorf("decoding response: %w", err))
	}
	return UnmarshalJSON(buf.Bytes(), v)
}

// bodyBuffers are the buffers DecodeJSON reads bodies into: a page of 200
// orders is about 220 KB, which growing a buffer from nothing for every
// page would copy several times over. Decoded values hold no reference to
// a buffer.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer DecodeJSON keeps for reuse.
const maxPooledBody = 4 << 20

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
