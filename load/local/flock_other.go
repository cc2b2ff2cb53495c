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
