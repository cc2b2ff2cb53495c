package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/extract/rest"
	"github.com/ledgerline/ledgerline/extract/sandbox"
	"github.com/ledgerline/ledgerline/extract/transport"
	"github.com/ledgerline/ledgerline/preflight"
	"golang.org/x/time/rate"
)

// check runs the read-only preflight checks against each named account
// (all when none is named): exit 0 with no FAIL, 1 with one.
func (c *cli) check(ctx context.Context, args []string) int {
	fs := c.flagSet("check")
	path := fs.String("c", "jobs.yaml", "configuration `file`")
	names, err := parse(fs, args)
	if err != nil {
		return usageError(err)
	}
	f, ok := c.load(ctx, *path)
	if !ok {
		return exitUsage
	}
	accounts := f.Accounts
	if len(names) > 0 {
		accounts = nil
		for _, n := range names {
			i := slices.IndexFunc(f.Accounts, func(a config.Account) bool { return a.Name == n })
			if i < 0 {
				fmt.Fprintf(c.stderr, "etl check: no account %q in %s\n", n, *path)
				return exitUsage
			}
			accounts = append(accounts, f.Accounts[i])
		}
	}
	code := exitOK
	for _, a := range accounts {
		rep, err := c.checkAccount(ctx, a)
		if err != nil {
			fmt.Fprintf(c.stderr, "etl check: %v\n", err)
			return exitFailed
		}
		printReport(c.stdout, rep)
		if rep.Failed() {
			code = exitFailed
		}
	}
	return code
}

// checkAccount checks account a over REST 6.0: its own endpoint, the REST
// endpoint beside a JSON-RPC one, or a sandbox started for the check.
func (c *cli) checkAccount(ctx context.Context, a config.Account) (*preflight.Report, error) {
	cfg := preflight.Config{Account: a.Name, Endpoint: a.Endpoint, MerchantCode: a.MerchantCode,
		SecretKey: a.SecretKey.Reveal(), HMAC: a.HMAC, Zone: a.SourceTimezone, Now: c.now,
		Transport: transport.Config{Timeout: a.Retry.Timeout, Policy: transport.Policy{MaxAttempts: a.Retry.Attempts,
			BaseDelay: a.Retry.BaseDelay, MaxDelay: a.Retry.MaxDelay, MaxRetryAfter: a.Retry.MaxRetryAfter}}}
	if a.RequestsPerSecond > 0 {
		cfg.Transport.Rate, cfg.Transport.Burst = rate.Limit(a.RequestsPerSecond), max(a.RequestsPerSecond/5, 1)
	}
	switch a.API {
	case config.APILegacy:
		return &preflight.Report{Account: a.Name, Findings: []preflight.Finding{{Name: "api", Level: preflight.Warn,
			Detail: "the legacy Admin API is not checked",
			Advice: "2Checkout replaces it with API 6.0: move the account to api: jsonrpc or rest, then run the check"}}}, nil
	case config.APIJSONRPC:
		// The REST API takes the JSON-RPC credentials.
		cfg.Endpoint = rest.DefaultEndpoint
		if a.Endpoint != "" {
			cfg.Endpoint = strings.Replace(a.Endpoint, sandbox.Path, sandbox.RESTPath, 1)
		}
	case config.APISandbox:
		m, err := sandbox.New(sandbox.Config{MerchantCode: a.MerchantCode, SecretKey: a.SecretKey.Reveal(),
			LegacyUser: sandbox.DefaultLegacyUser, Seed: a.Sandbox.Seed, OrdersPerDay: a.Sandbox.OrdersPerDay,
			Since: a.Sandbox.Since, Location: a.SourceTimezone, Now: c.now, Faults: a.Sandbox.Faults, Dialect: a.Sandbox.Dialect})
		if err != nil {
			return nil, fmt.Errorf("account %s: sandbox: %w", a.Name, err)
		}
		srv, err := sandbox.Serve(ctx, m, "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("account %s: sandbox: %w", a.Name, err)
		}
		defer srv.Close()
		cfg.Endpoint = srv.RESTURL()
		cfg.Transport.Rate = rate.Inf
	}
	return preflight.Run(ctx, cfg)
}

// printReport writes the findings, each with its advice, and the field
// coverage table.
func printReport(w io.Writer, r *preflight.Report) {
	fmt.Fprintf(w, "account %s\n", r.Account)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range r.Findings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Level, f.Name, f.Detail)
		if f.Advice != "" && f.Level != preflight.OK {
			fmt.Fprintf(tw, "  \t\t-> %s\n", f.Advice)
		}
	}
	tw.Flush()
	if len(r.Coverage) > 0 {
		fmt.Fprintln(w, "  field coverage:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, cv := range r.Coverage {
			pct := 0
			if cv.Of > 0 {
				pct = cv.Have * 100 / cv.Of
			}
			fmt.Fprintf(tw, "    %s\t%s\t%d/%d\t%d%%\t\n", cv.Stream, cv.Field, cv.Have, cv.Of, pct)
		}
		tw.Flush()
	}
	verdict := "no FAIL"
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "account %s: %s\n", r.Account, verdict)
}
