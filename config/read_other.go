//go:build !linux

package config

import (
	"context"
	"io/fs"
	"os"
)

// readFile reads the file at path until ctx is done. Where the file's
// open or read cannot be interrupted (a FIFO without a writer), it is left
// to finish in the background: the process is about to give up.
func readFile(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := os.ReadFile(path)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, &fs.PathError{Op: "read", Path: path, Err: ctx.Err()}
	}
}
