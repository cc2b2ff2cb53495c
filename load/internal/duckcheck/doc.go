// Package duckcheck holds only tests: it reads the Parquet files of the
// local destination back with DuckDB, a reader independent of Arrow Go. It
// is a package of its own so that only its test binary links DuckDB's cgo
// library.
package duckcheck
