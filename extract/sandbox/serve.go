package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// A Server serves a Merchant's API over HTTP.
type Server struct {
	srv  *http.Server
	url  string
	stop func() bool
	done chan struct{}
	err  error // set before done is closed
}

// Serve starts serving m's API on addr (such as "127.0.0.1:0") and returns
// once it is listening. It stops when ctx is done or Close is called.
func Serve(ctx context.Context, m *Merchant, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s := &Server{
		srv:  &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second},
		url:  "http://" + ln.Addr().String() + Path,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = fmt.Errorf("sandbox: %w", err)
		}
	}()
	s.stop = context.AfterFunc(ctx, func() { s.srv.Close() })
	return s, nil
}

// URL returns the JSON-RPC endpoint, such as
// "http://127.0.0.1:41234/rpc/6.0/".
func (s *Server) URL() string { return s.url }

// Close stops the server, closing its connections, and returns the error
// that ended serving, if it was not Close.
func (s *Server) Close() error {
	s.stop()
	s.srv.Close()
	<-s.done
	return s.err
}
