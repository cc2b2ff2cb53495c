package config

import (
	"fmt"
	"strings"
)

// An Error is one problem in a configuration file.
type Error struct {
	// File is the file's name as given to Load or Parse.
	File string
	// Line and Column locate the problem, from 1; Line is 0 for a problem
	// with the file as a whole.
	Line, Column int
	// Path is the key path, such as "jobs[0].destination.type"; empty for
	// the document itself.
	Path string
	// Msg says what is wrong. It never contains a secret's value.
	Msg string
}

// Error formats e as "file:line: path: msg".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem Load or Parse found in a file, sorted by
// position, so that an operator can fix the file in one go.
type ErrorList []*Error

// Error formats the list one problem per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the individual errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}
