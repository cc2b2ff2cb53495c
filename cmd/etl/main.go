// Command etl is ledgerline's command line: it validates jobs.yaml, runs
// jobs, and serves the built-in 2Checkout sandbox.
//
// Exit codes: 0 success, 1 run failed, 2 bad usage or configuration, 3
// another run of the job and account is in progress.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	// exitLocked: the run did not start because another run of the same
	// job and account holds the run lock.
	exitLocked = 3
)

func main() {
	setMemoryLimit(os.LookupEnv)
	stopProfiles, err := startProfiles(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etl:", err)
		os.Exit(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := (&cli{stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv}).main(ctx, os.Args[1:])
	stop()
	stopProfiles()
	os.Exit(code)
}
