package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/jsonrpc"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// DefaultJSONRPCEndpoint is the public JSON-RPC 6.0 endpoint.
const DefaultJSONRPCEndpoint = "https://api.2checkout.com/rpc/6.0/"

// OpenSource returns the source that reads account a. For api sandbox it
// starts the simulated merchant in-process on an ephemeral loopback port and
// reads it with the real JSON-RPC client; close stops it.
//
// The sandbox's clock starts at 02:00 on the day after the business date, in
// the job's time zone (when the nightly run is scheduled), and then runs in
// real time, so that a run of a given date sees the same merchant whenever
// it runs.
func OpenSource(ctx context.Context, a config.Account, date civil.Date, jobTZ *time.Location, log *slog.Logger) (src extract.Source, closeFn func() error, err error) {
	cfg := jsonrpc.Config{
		Account:      a.Name,
		Endpoint:     a.Endpoint,
		MerchantCode: a.MerchantCode,
		SecretKey:    a.SecretKey.Reveal(),
		HMAC:         a.HMAC,
		Transport:    transportConfig(a),
		Logger:       log,
	}
	switch a.API {
	case config.APISandbox:
		base := date.AddDays(1).In(jobTZ).Add(2 * time.Hour)
		start := time.Now()
		now := func() time.Time { return base.Add(time.Since(start)) }
		m, err := sandbox.New(sandbox.Config{
			MerchantCode: a.MerchantCode,
			SecretKey:    a.SecretKey.Reveal(),
			Seed:         a.Sandbox.Seed,
			OrdersPerDay: a.Sandbox.OrdersPerDay,
			Since:        a.Sandbox.Since,
			Location:     a.SourceTimezone,
			Now:          now,
			Faults:       a.Sandbox.Faults,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: sandbox: %w", a.Name, err)
		}
		srv, err := sandbox.Serve(ctx, m, "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: sandbox: %w", a.Name, err)
		}
		cfg.Endpoint = srv.URL()
		cfg.Now = now
		// A loopback merchant needs no politeness limit.
		cfg.Transport.Rate = rate.Inf
		c, err := jsonrpc.New(cfg)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		log.Info("sandbox merchant started", "account", a.Name, "endpoint", srv.URL(), "clock", base.UTC().Format(time.RFC3339))
		return c, srv.Close, nil
	case config.APIJSONRPC:
		if cfg.Endpoint == "" {
			cfg.Endpoint = DefaultJSONRPCEndpoint
		}
		c, err := jsonrpc.New(cfg)
		if err != nil {
			return nil, nil, err
		}
		return c, func() error { return nil }, nil
	default:
		return nil, nil, fmt.Errorf("account %s: api %s is not supported by this version of ledgerline (use jsonrpc)", a.Name, a.API)
	}
}

// transportConfig returns the retry, timeout and concurrency settings of
// account a's requests.
func transportConfig(a config.Account) transport.Config {
	return transport.Config{
		Timeout:       a.Retry.Timeout,
		MaxConcurrent: a.Concurrency,
		Policy: transport.Policy{
			MaxAttempts:   a.Retry.Attempts,
			BaseDelay:     a.Retry.BaseDelay,
			MaxDelay:      a.Retry.MaxDelay,
			MaxRetryAfter: a.Retry.MaxRetryAfter,
		},
	}
}
