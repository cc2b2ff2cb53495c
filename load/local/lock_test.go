package local_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/local"
)

// TestBeginTakesTheAccountLock: a run holds its account's lock from Begin
// until it commits or aborts, so that what it reads of the account's
// state and what it commits are one serial step (issue 11, F9). Another
// run of the account waits at Begin, until its context is done; a run of
// another account does not wait.
func TestBeginTakesTheAccountLock(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	w := local.New(root)
	a, err := w.Begin(ctx, "M1", "a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := w.Begin(ctx, "M2", "other") // another account: no wait
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := w.Begin(short, "M1", "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Begin while the lock is held = %v, want context.DeadlineExceeded", err)
	}
	for _, end := range []string{"Commit", "Abort"} {
		type begun struct {
			d   load.Destination
			err error
		}
		began := make(chan begun, 1)
		go func() {
			b, err := local.New(root).Begin(ctx, "M1", "b-"+end)
			began <- begun{b, err}
		}()
		select {
		case b := <-began:
			t.Fatalf("Begin did not wait for the lock: %v", b.err)
		case <-time.After(200 * time.Millisecond):
		}
		var err error
		if end == "Commit" {
			_, err = a.Commit(ctx)
		} else {
			err = a.Abort(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-began:
			if b.err != nil {
				t.Fatal(b.err)
			}
			a = b.d
		case <-time.After(10 * time.Second):
			t.Fatalf("Begin still waits after the holder's %s", end)
		}
	}
	if err := a.Abort(ctx); err != nil {
		t.Fatal(err)
	}
}
