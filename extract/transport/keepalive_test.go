package transport_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// TestDefaultBaseKeepsConnections checks that a transport without a Base
// keeps a connection for each of its concurrent requests, rather than the
// two to a host http.DefaultTransport keeps.
func TestDefaultBaseKeepsConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // so that the requests overlap
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const n = 6
	tr, err := transport.New(transport.Config{Rate: rate.Inf, MaxConcurrent: n})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	for range 3 {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	if got := conns.Load(); got > n {
		t.Errorf("3 rounds of %d concurrent requests opened %d connections, want at most %d", n, got, n)
	}
}
