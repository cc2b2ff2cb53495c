//go:build unix

package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fifo makes a named pipe in a temporary directory. Cleanup opens it
// without blocking for reading and for writing, so that a writer or a
// reader the test left waiting on it is let go.
func fifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer r.Close()
			if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
		}
	})
	return path
}

// loadAsync runs LoadContext and returns its error on a channel.
func loadAsync(ctx context.Context, path string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := LoadContext(ctx, path, env(nil))
		done <- err
	}()
	return done
}

// waitErr returns the error on done, failing the test if it takes more
// than a few seconds.
func waitErr(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("LoadContext did not return within 5s")
		return nil
	}
}

// TestLoadContextCancelled: a read of a FIFO that no one writes, or whose
// writer writes nothing, ends when the context is cancelled or its
// deadline passes, with the context's error (F11: etl blocked on a FIFO
// ignored SIGTERM).
func TestLoadContextCancelled(t *testing.T) {
	tests := []struct {
		name   string
		writer bool // a writer opens the FIFO and writes nothing
		ctx    func() (context.Context, context.CancelFunc)
		want   error
	}{
		{"no writer, cancelled", false, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		{"silent writer, cancelled", true, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		{"no writer, deadline", false, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fifo(t)
			writer := make(chan *os.File, 1)
			if tt.writer {
				go func() {
					// Opens once LoadContext has opened the FIFO
					// for reading (or the cleanup has).
					w, err := os.OpenFile(path, os.O_WRONLY, 0)
					if err != nil {
						w = nil
					}
					writer <- w
				}()
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			done := loadAsync(ctx, path)
			if tt.writer {
				select {
				case w := <-writer:
					defer w.Close()
				case <-time.After(5 * time.Second):
					t.Fatal("LoadContext did not open the FIFO within 5s")
				}
			}
			time.Sleep(300 * time.Millisecond) // LoadContext is blocked
			cancel()
			err := waitErr(t, done)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var pe *os.PathError
			if !errors.As(err, &pe) || pe.Path != path {
				t.Errorf("err = %#v, want a *os.PathError naming %s", err, path)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("LoadContext returned after %s", d)
			}
		})
	}
}

// TestLoadContextFIFO: a FIFO whose writer comes after LoadContext opened
// it is read whole: a FIFO with no writer yet is not an empty file.
func TestLoadContextFIFO(t *testing.T) {
	path := fifo(t)
	done := make(chan *File, 1)
	go func() {
		f, err := LoadContext(context.Background(), path, env(nil))
		if err != nil {
			t.Error(err)
		}
		done <- f
	}()
	time.Sleep(200 * time.Millisecond) // LoadContext waits for a writer
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	half := len(base) / 2
	if _, err := w.WriteString(base[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // LoadContext has read half
	if _, err := w.WriteString(base[half:]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case f := <-done:
		if f == nil || len(f.Jobs) != 1 || f.Jobs[0].Name != "j" || f.Path != path {
			t.Errorf("LoadContext = %+v, want base's job j", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadContext did not return within 5s")
	}
}

// TestLoadContextEmptyFIFO: a writer that closes without writing gives an
// empty file.
func TestLoadContextEmptyFIFO(t *testing.T) {
	path := fifo(t)
	done := loadAsync(context.Background(), path)
	time.Sleep(200 * time.Millisecond)
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := waitErr(t, done); err == nil || err.Error() != path+": empty file (want accounts and jobs)" {
		t.Errorf("err = %v, want the empty file error", err)
	}
}

// TestLoadContextDone: a context already done reads nothing.
func TestLoadContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadContext(ctx, "../jobs.yaml", env(nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
