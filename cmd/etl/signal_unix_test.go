//go:build unix

package main

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCommandsStopReadingConfigOnSignal: with a FIFO that nobody writes as
// -c, every command that reads the configuration ends soon after its
// context (SIGTERM, SIGINT in main) is cancelled, saying so, instead of
// blocking forever (issue 11, F11).
func TestCommandsStopReadingConfigOnSignal(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, args := range [][]string{
		{"validate", "-c", fifo},
		{"run", "nightly", "-c", fifo},
		{"backfill", "nightly", "--from", "2025-03-01", "--to", "2025-03-02", "-c", fifo},
		{"report", "accounting", "--month", "2025-03", "-c", fifo},
		{"schedule", "-c", fifo},
	} {
		t.Run(args[0], func(t *testing.T) {
			c, _, errb := newCLI(nil)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			done := make(chan int, 1)
			go func() { done <- c.main(ctx, args) }()
			select {
			case code := <-done:
				if code == exitOK {
					t.Errorf("exit %d, want a failure", code)
				}
				if !strings.Contains(errb.String(), "interrupted while reading") {
					t.Errorf("stderr %q does not say the read was interrupted", errb)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still reading the FIFO 5s after the context ended")
			}
		})
	}
}
