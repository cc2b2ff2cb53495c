# ledgerline: make run (the nightly job on the built-in sandbox), make test.
GO ?= go
ETL := $(GO) run ./cmd/etl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test test-bigquery run bench bench-bigquery lint validate sandbox bqemulator clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/etl ./cmd/etl

# The whole test suite: vet, then every package's tests.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 12m ./...

# The BigQuery destination against the in-process emulator. Kept out of
# 'make test' because the emulator's first compile takes about 15 minutes on
# two cores; CI runs it after 'make test'.
test-bigquery:
	$(GO) test -count=1 -tags bqemulator -timeout 60m ./load/bigquery/... ./pipeline/...

# A BigQuery emulator on 127.0.0.1:9050 for jobs with a bigquery destination
# (project ledgerline-dev, dataset ledgerline, data kept in out/bigquery.db).
bqemulator:
	mkdir -p out
	$(GO) run -tags bqemulator ./load/bigquery/cmd/bqemulator -project ledgerline-dev -dataset ledgerline -database out/bigquery.db

# The nightly job from jobs.yaml for yesterday, against the built-in sandbox.
# Output: ./out/warehouse.  Pass DATE=YYYY-MM-DD for another business date.
run:
	$(ETL) run nightly -c jobs.yaml $(if $(DATE),--date $(DATE))

validate:
	$(ETL) validate -c jobs.yaml

sandbox:
	$(ETL) sandbox serve

# Every benchmark of the project, once each (they size themselves).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

# The BigQuery benchmarks against the in-process emulator: the second
# nightly run's cost against the first's.
bench-bigquery:
	$(GO) test -run '^$$' -bench BigQuery -benchtime 1x -tags bqemulator -timeout 30m ./pipeline/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin out
