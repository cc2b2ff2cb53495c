package transport_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// TestMaxBody is F7 at the transport: a body that declares more than
// MaxBody fails before it is read, one that runs past it fails when it
// does, neither is retried, and a body of exactly MaxBody is read whole.
func TestMaxBody(t *testing.T) {
	for _, tt := range []struct {
		name     string
		size     int
		declare  bool
		declared int64 // in the error; 0 for no error
	}{
		{"declared too large", 1001, true, 1001},
		{"runs past the limit", 5000, false, -1},
		{"exactly the limit", 1000, false, 0},
		{"exactly the limit, declared", 1000, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if tt.declare {
					w.Header().Set("Content-Length", strconv.Itoa(tt.size))
				} else {
					w.(http.Flusher).Flush() // chunked: no Content-Length
				}
				io.WriteString(w, strings.Repeat("x", tt.size))
			}))
			defer srv.Close()
			tr, err := transport.New(transport.Config{MaxBody: 1000, Rate: rate.Inf})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if hits.Load() != 1 {
				t.Errorf("%d requests, want 1", hits.Load())
			}
			var large *transport.BodyTooLargeError
			if tt.declared == 0 {
				if err != nil || len(body) != tt.size {
					t.Fatalf("error %v, %d bytes; want %d", err, len(body), tt.size)
				}
				return
			}
			if !errors.As(err, &large) || large.Limit != 1000 || large.Declared != tt.declared {
				t.Fatalf("error %v, want a BodyTooLargeError of limit 1000, declared %d", err, tt.declared)
			}
		})
	}
}
