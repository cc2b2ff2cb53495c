package local

import (
	"errors"
	"io/fs"
	"os"
)

// fileSystem is the steps of a commit that change what survives a crash:
// renames, removals and syncs. The warehouse goes through it so that a test
// can make the process "die" after any one of them.
type fileSystem interface {
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// Sync makes the contents of f durable.
	Sync(f *os.File) error
	// SyncDir makes the entries of directory dir durable.
	SyncDir(dir string) error
}

// osFS is the real file system.
type osFS struct{}

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) Sync(f *os.File) error                { return f.Sync() }

func (osFS) SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeIfExists removes name through fsys; a file already gone is no error.
func removeIfExists(fsys fileSystem, name string) error {
	if err := fsys.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
