//go:build !unix

package runlock

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("run locks need flock(2), which this system lacks")

func tryLock(f *os.File) (bool, error) { return false, errUnsupported }

func unlock(f *os.File) error { return errUnsupported }
