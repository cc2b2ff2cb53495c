package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeJSON reads a JSON response body into v. A body that is cut short,
// not JSON, or fails to be read makes an error marked Retryable; a value of
// the wrong type does not, since another attempt would only repeat it.
func DecodeJSON(body io.Reader, v any) error {
	r := &readErrors{r: body}
	err := json.NewDecoder(r).Decode(v)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	err = fmt.Errorf("decoding response: %w", err)
	if _, syntax := errors.AsType[*json.SyntaxError](err); syntax || r.err != nil || errors.Is(err, io.ErrUnexpectedEOF) {
		return Retryable(err)
	}
	return err
}

// readErrors records whether reading failed other than at the end.
type readErrors struct {
	r   io.Reader
	err error
}

func (r *readErrors) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}
