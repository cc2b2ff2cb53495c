package local

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockSlice takes an exclusive lock on slice's commits under root, waiting
// for it, and returns the function that releases it. Runs of different jobs
// on one account hold it from reading what they append to (etl_runs) until
// their commit, so that neither loses the other's row. The kernel releases
// it if the process dies.
func LockSlice(root, slice string) (unlock func(), err error) {
	if !slicePattern.MatchString(slice) {
		return nil, fmt.Errorf("local: invalid slice name %q", slice)
	}
	dir := filepath.Join(root, ".locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, slice+".commit.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("local: lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
