# ledgerline: make run (the nightly job on the built-in sandbox), make test.
GO ?= go
ETL := $(GO) run ./cmd/etl
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test run bench lint validate sandbox clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/etl ./cmd/etl

# The whole test suite: vet, then every package's tests.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 12m ./...

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

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin out
