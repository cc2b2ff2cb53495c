// Package runlock keeps two runs of the same job on the same account from
// running at once, on one machine.
//
// A lock is an advisory flock(2) on a file named after the job and the
// account in a lock directory. Acquire never waits: when another process
// holds the lock it fails at once with a [*HeldError] that names the holder
// (its pid, run id, host and start time, which the holder writes into the
// file). The kernel releases a flock when its file is closed, so a process
// that exits or crashes releases its locks. Lock files are never removed:
// removing a lock file while another process waits to open it would let two
// processes hold "the" lock on two different files.
package runlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrHeld is matched (with errors.Is) by the error of Acquire when another
// open of the lock file holds the lock.
var ErrHeld = errors.New("run lock held by another run")

// Holder describes the run holding a lock; it is written into the lock file
// for the error message of the run that finds the lock taken.
type Holder struct {
	PID   int       `json:"pid"`
	RunID string    `json:"run_id,omitempty"`
	Host  string    `json:"host,omitempty"`
	Since time.Time `json:"since"`
	// Command is what holds the lock, e.g. "etl run nightly".
	Command string `json:"command,omitempty"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process (it has not said which yet)"
	}
	s := fmt.Sprintf("pid %d", h.PID)
	if h.Host != "" {
		s += " on " + h.Host
	}
	if h.Command != "" {
		s += fmt.Sprintf(" (%s)", h.Command)
	}
	if h.RunID != "" {
		s += ", run " + h.RunID
	}
	if !h.Since.IsZero() {
		s += ", since " + h.Since.UTC().Format(time.RFC3339)
	}
	return s
}

// HeldError is the error of Acquire when the lock is taken.
type HeldError struct {
	Job, Account string
	// Path is the lock file.
	Path   string
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("job %s, account %s is already running: held by %s (lock %s)", e.Job, e.Account, e.Holder, e.Path)
}

// Is reports whether target is ErrHeld.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Lock is a held run lock.
type Lock struct {
	f    *os.File
	path string
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Path returns the lock file of job and account in dir.
func Path(dir, job, account string) string {
	return filepath.Join(dir, job+"."+account+".lock")
}

// Acquire takes the lock of job and account in dir, creating dir if needed,
// and records h in it (with the caller's pid when h.PID is 0). It does not
// wait: if the lock is held it returns a *HeldError. Release the lock with
// Release; the kernel releases it if the process dies first.
//
// The lock is per open file: two Acquire calls in one process exclude each
// other just as two processes do.
func Acquire(dir, job, account string, h Holder) (*Lock, error) {
	for _, n := range []string{job, account} {
		if !namePattern.MatchString(n) || strings.HasPrefix(n, ".") {
			return nil, fmt.Errorf("runlock: invalid name %q", n)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runlock: %w", err)
	}
	path := Path(dir, job, account)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlock: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("runlock: %s: %w", path, err)
	}
	if held {
		holder := readHolder(f)
		f.Close()
		return nil, &HeldError{Job: job, Account: account, Path: path, Holder: holder}
	}
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Since.IsZero() {
		h.Since = time.Now()
	}
	if err := writeHolder(f, h); err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("runlock: %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Path returns the lock's file.
func (l *Lock) Path() string { return l.path }

// Release empties the lock file and releases the lock. It is safe to call
// more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	err := f.Truncate(0)
	if uerr := unlock(f); err == nil {
		err = uerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("runlock: release %s: %w", l.path, err)
	}
	return nil
}

func writeHolder(f *os.File, h Holder) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
		return err
	}
	return nil
}

// readHolder reads what the holder wrote; the zero Holder if it has not
// written yet.
func readHolder(f *os.File) Holder {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 64<<10))
	var h Holder
	if err != nil || json.Unmarshal(b, &h) != nil {
		return Holder{}
	}
	return h
}
