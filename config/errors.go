package config

import (
	"fmt"
	"strings"
	"unicode"
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
	// Msg says what is wrong. It never contains a secret's value, nor
	// the userinfo of a URL (shown as REDACTED).
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

// redactUserinfo replaces the userinfo of the URLs in s, which can hold a
// credential, with REDACTED: "http://user:token@host/x" becomes
// "http://REDACTED@host/x". The userinfo of a URL runs from "//" to the
// last "@" before the host; as a mistyped URL can have a "/" or a space in
// its password, it is taken here to run to the last "@" before the end of
// s, or with stopAtSpace before the next white space. That can hide more
// than the userinfo, never less.
func redactUserinfo(s string, stopAtSpace bool) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "//")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+2])
		s = s[i+2:]
		end := len(s)
		if j := strings.IndexFunc(s, unicode.IsSpace); stopAtSpace && j >= 0 {
			end = j
		}
		if at := strings.LastIndexByte(s[:end], '@'); at >= 0 {
			b.WriteString("REDACTED")
			s = s[at:]
		}
	}
}

// redactArgs returns args with the userinfo of URLs in strings and errors
// redacted (see redactUserinfo), before they are formatted into a message.
func redactArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = redactUserinfo(v, false)
		case error:
			out[i] = redactUserinfo(v.Error(), false)
		default:
			out[i] = a
		}
	}
	return out
}
