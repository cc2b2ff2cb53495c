# ledgerline's etl command as a small, static, non-root image.
#
#   docker build -t ledgerline/etl --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -v "$PWD/jobs.yaml:/etc/ledgerline/jobs.yaml:ro" ledgerline/etl validate -c /etc/ledgerline/jobs.yaml
#
# The binary is built without cgo: DuckDB, the only cgo dependency, is used by
# tests alone. The time zone database is compiled in (config imports
# time/tzdata), and distroless/static carries the CA certificates for HTTPS.

# Keep GO_VERSION at go.mod's go line (the golang image does not switch
# toolchains: GOTOOLCHAIN=local).
ARG GO_VERSION=1.26.8
FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Dependencies first, so that they stay cached while the code changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/etl ./cmd/etl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/etl /usr/local/bin/etl
# distroless's nonroot user (65532); the Kubernetes manifests run as it too.
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/etl"]
CMD ["--help"]
