//go:build !unix

package local

import (
	"errors"
	"os"
)

// tryLock fails: the account lock needs flock(2), which this system lacks.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("the account lock needs flock(2), which this system lacks")
}

// lockShared does nothing: without flock(2) no run can begin, so no
// commit runs while a reader reads.
func lockShared(*os.File) error { return nil }

func lockExclusive(*os.File) error {
	return errors.New("the commit lock needs flock(2), which this system lacks")
}
