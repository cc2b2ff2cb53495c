package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract"
	"github.com/ledgerline/ledgerline/extract/apis"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"golang.org/x/time/rate"
)

// OpenSource returns the source that reads account a, and a function that
// releases it.
//
// For api sandbox it starts the simulated merchant in-process on an
// ephemeral loopback port and reads it through the real client of the
// sandbox's protocol (JSON-RPC unless configured otherwise). The sandbox's
// clock starts at 02:00 on the day after the business date, in the job's
// time zone (when the nightly run is scheduled), and then runs in real time,
// so that a run of a given date sees the same merchant whenever it runs.
func OpenSource(ctx context.Context, a config.Account, date civil.Date, jobTZ *time.Location, log *slog.Logger) (extract.Source, func() error, error) {
	tc := transportConfig(a)
	api, endpoint := a.API, a.Endpoint
	now := time.Now
	closeFn := func() error { return nil }
	if a.API == config.APISandbox {
		base := date.AddDays(1).In(jobTZ).Add(2 * time.Hour)
		start := time.Now()
		now = func() time.Time { return base.Add(time.Since(start)) }
		m, err := sandbox.New(sandbox.Config{
			MerchantCode: a.MerchantCode,
			SecretKey:    a.SecretKey.Reveal(),
			LegacyUser:   sandbox.DefaultLegacyUser,
			Seed:         a.Sandbox.Seed,
			OrdersPerDay: a.Sandbox.OrdersPerDay,
			Since:        a.Sandbox.Since,
			Location:     a.SourceTimezone,
			Now:          now,
			Faults:       a.Sandbox.Faults,
			Dialect:      a.Sandbox.Dialect,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: sandbox: %w", a.Name, err)
		}
		srv, err := sandbox.Serve(ctx, m, "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: sandbox: %w", a.Name, err)
		}
		closeFn = srv.Close
		api = a.Sandbox.Protocol
		switch api {
		case config.APIREST:
			endpoint = srv.RESTURL()
		case config.APILegacy:
			endpoint = srv.LegacyURL()
		default:
			api, endpoint = config.APIJSONRPC, srv.URL()
		}
		// A loopback merchant needs no politeness limit.
		tc.Rate = rate.Inf
		log.Info("sandbox merchant started", "account", a.Name, "api", api, "endpoint", endpoint,
			"clock", base.UTC().Format(time.RFC3339), "faults", a.Sandbox.Faults.String(), "dialect", a.Sandbox.Dialect.String())
	}
	src, err := newClient(a, api, endpoint, tc, now, log)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return src, closeFn, nil
}

// newClient opens a client of api for account a from the API table.
func newClient(a config.Account, api, endpoint string, tc transport.Config, now func() time.Time, log *slog.Logger) (extract.Source, error) {
	user := a.LegacyUser
	if a.API == config.APISandbox {
		user = sandbox.DefaultLegacyUser
	}
	src, err := apis.Open(api, apis.Config{Account: a.Name, Endpoint: endpoint,
		MerchantCode: a.MerchantCode, SecretKey: a.SecretKey.Reveal(), HMAC: a.HMAC,
		User: user, Password: a.SecretKey.Reveal(), Currency: a.Currency, Concurrency: a.Concurrency,
		Transport: tc, Now: now, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", a.Name, err)
	}
	return src, nil
}

// transportConfig returns the retry, timeout, rate and concurrency settings
// of account a's requests.
func transportConfig(a config.Account) transport.Config {
	tc := transport.Config{
		Timeout:       a.Retry.Timeout,
		MaxConcurrent: a.Concurrency,
		Policy: transport.Policy{
			MaxAttempts:   a.Retry.Attempts,
			BaseDelay:     a.Retry.BaseDelay,
			MaxDelay:      a.Retry.MaxDelay,
			MaxRetryAfter: a.Retry.MaxRetryAfter,
		},
	}
	if a.RequestsPerSecond > 0 {
		tc.Rate = rate.Limit(a.RequestsPerSecond)
		tc.Burst = max(a.RequestsPerSecond/5, 1)
	}
	return tc
}
