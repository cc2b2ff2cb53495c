//go:build bqemulator

// The BigQuery emulator compiles GoogleSQL from Go source, which takes about
// 15 minutes the first time on two cores: its tests run with
// 'make test-bigquery' (go test -tags bqemulator), which CI runs after
// 'make test'.

// Command bqemulator serves the BigQuery emulator
// (github.com/goccy/bigquery-emulator, the version in go.mod) on loopback,
// for running jobs with a bigquery destination without a Google Cloud
// project:
//
//	go run ./load/bigquery/cmd/bqemulator -project ledgerline-dev -dataset ledgerline -database /tmp/bq.db
//
// and in jobs.yaml:
//
//	destination:
//	  type: bigquery
//	  project: ledgerline-dev
//	  dataset: ledgerline
//	  endpoint: http://127.0.0.1:9050
//
// Without -database the data is lost when the emulator stops. The emulator
// has known gaps (DESIGN.md section 5): among them, it reads Parquet
// decimals through float64, so an amount beyond about 4.5 million comes
// back inexact, and the destination's reader refuses it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/goccy/bigquery-emulator/server"
	"github.com/goccy/bigquery-emulator/types"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bqemulator:", err)
		os.Exit(1)
	}
}

func run() error {
	project := flag.String("project", "ledgerline-dev", "project `id`")
	datasets := flag.String("dataset", "ledgerline", "comma-separated `datasets` to create")
	host := flag.String("host", "127.0.0.1", "`address` to listen on")
	port := flag.Int("port", 9050, "REST API `port`")
	grpcPort := flag.Int("grpc-port", 9060, "storage API `port`")
	database := flag.String("database", "", "`file` that keeps the data across restarts; in a temporary file when empty")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	storage := server.TempStorage
	if *database != "" {
		storage = server.Storage("file:" + *database + "?cache=shared")
	}
	srv, err := server.New(storage)
	if err != nil {
		return err
	}
	p := types.NewProject(*project)
	for _, name := range strings.Split(*datasets, ",") {
		if name = strings.TrimSpace(name); name != "" {
			p.Datasets = append(p.Datasets, types.NewDataset(name))
		}
	}
	if err := srv.SetProject(p.ID); err != nil {
		return err
	}
	if err := srv.Load(server.StructSource(p)); err != nil {
		return err
	}
	srv.SetListenCallback(func(httpAddr, grpcAddr string) {
		fmt.Printf("bqemulator: project %s, REST API at http://%s, storage API at %s\n", p.ID, httpAddr, grpcAddr)
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(ctx, fmt.Sprintf("%s:%d", *host, *port), fmt.Sprintf("%s:%d", *host, *grpcPort))
	}()
	select {
	case err := <-done:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	if err := srv.Stop(context.Background()); err != nil {
		return err
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
