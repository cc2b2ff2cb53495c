package config

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// readFile reads the file at path until ctx is done. A FIFO given as the
// configuration (etl -c /path/to/fifo) is what this is for: opening one
// waits for a writer, and reading it waits for data, for as long as none
// comes, and a signal that cancels ctx must end the wait.
//
// The file is opened with O_NONBLOCK, which does not wait for a writer
// (and changes nothing for a regular file); reads of a FIFO, a pipe or a
// terminal then wait in Go's poller, which a read deadline, set when ctx
// is done, interrupts.
func readFile(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// For a regular file, which is not in the poller, SetReadDeadline
	// fails with os.ErrNoDeadline: its reads do not wait.
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	if info.Mode()&fs.ModeNamedPipe != 0 {
		err = waitForWriter(f)
	}
	var data []byte
	if err == nil {
		data, err = io.ReadAll(f)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: ctx.Err()}
	}
	return data, err
}

// waitForWriter waits until the FIFO f, open for reading without
// blocking, has data, or had a writer that has gone. Until a writer comes,
// a read would report the end of the file, as a FIFO with no writer does;
// poll reports nothing then, and Linux reports a hang-up only once a
// writer has come and gone.
func waitForWriter(f *os.File) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var pollErr error
	err = conn.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		switch {
		case errors.Is(err, unix.EINTR):
			return false
		case err != nil:
			pollErr = err
			return true
		}
		return n > 0 // data, a hang-up or an error: the read tells which
	})
	if err != nil {
		return err
	}
	if pollErr != nil {
		return &fs.PathError{Op: "poll", Path: f.Name(), Err: pollErr}
	}
	return nil
}
