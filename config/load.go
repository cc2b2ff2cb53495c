package config

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and validates the configuration file at path; see Parse. It
// waits as long as reading the file takes: a command that must stop on a
// signal uses LoadContext.
func Load(path string, getenv func(string) (string, bool)) (*File, error) {
	return LoadContext(context.Background(), path, getenv)
}

// LoadContext is Load, giving up when ctx is done: a read that waits (the
// file is a FIFO or a pipe with no writer, or one that writes nothing)
// then returns an *fs.PathError wrapping ctx.Err().
func LoadContext(ctx context.Context, path string, getenv func(string) (string, bool)) (*File, error) {
	data, err := readFile(ctx, path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, getenv)
}

// Parse validates the configuration in data, read from the file called
// name (used in error messages and as File.Path). References to
// environment variables in scalars, ${VAR} and ${VAR:-default}, are looked
// up with getenv; nil means os.LookupEnv.
//
// Parse reports every problem it finds, not just the first: the error is
// an ErrorList of *Error, sorted by line, each naming the file, line and
// key path. Use errors.As to get at them.
//
// Relative paths (a local destination's path, a report's outbox) are kept
// as written and so are relative to the working directory of the process.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*File, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	c := &checker{file: name, locs: map[addr]*loc{}}
	f := &File{}
	if root := c.document(data); root != nil {
		c.expandErrs = expandTree(root, getenv)
		c.decode(reflect.ValueOf(f).Elem(), &loc{parent: root, val: root})
	}
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool {
			a, b := c.errs[i], c.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, c.errs
	}
	f.Path = name
	return f, nil
}

// document parses data and returns its root node, or nil after recording
// why there is none.
func (c *checker) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.errorAt(nil, "", "empty file (want accounts and jobs)")
		} else {
			c.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		n := &extra
		if len(extra.Content) > 0 {
			n = extra.Content[0]
		}
		c.errorAt(n, "", "more than one YAML document (want one)")
	case !errors.Is(err, io.EOF):
		c.yamlError(err)
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		c.errorAt(nil, "", "empty file (want accounts and jobs)")
		return nil
	}
	return doc.Content[0]
}

// yamlError records a yaml.v3 syntax error, "yaml: line N: msg".
func (c *checker) yamlError(err error) {
	msg := redactUserinfo(strings.TrimPrefix(err.Error(), "yaml: "), false)
	e := &Error{File: c.file, Msg: "invalid YAML: " + msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, m, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				e.Line, e.Msg = line, "invalid YAML: "+m
			}
		}
	}
	c.errs = append(c.errs, e)
}
