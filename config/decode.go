package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// A checker decodes a yaml.Node tree into the tagged structs of this
// package and records every problem it finds. It is yaml.v3's struct
// decoding with what operators need on top: a key path, line and column on
// every error; all errors at once; unknown keys (against the fields' yaml
// tags) with a did-you-mean hint; and no value quoted from a leaf that
// could hold a secret.
//
// It remembers where each field came from, by address, so that the
// validate methods of the structs name fields by pointer, not by key: a
// key is spelled once, in its yaml tag.
type checker struct {
	file string
	errs ErrorList
	// expandErrs are the scalars whose environment references failed;
	// their error is recorded where the decoder meets them.
	expandErrs map[*yaml.Node]error
	locs       map[addr]*loc
}

// validator is a struct that checks itself once decoded, and sets its
// defaults. It runs after the structs it holds have checked themselves.
type validator interface {
	validate(c *checker)
}

// addr identifies a decoded value: the address of a struct and of its
// first field are the same, their types are not.
type addr struct {
	p uintptr
	t reflect.Type
}

// loc is where a decoded value came from.
type loc struct {
	path string
	// parent is the mapping holding the key (for a list item, the item).
	parent *yaml.Node
	key    *yaml.Node // nil when absent or a list item
	val    *yaml.Node // nil when absent; the alias if the value is one
	bad    bool       // the value is wrong and its error is recorded
	tag    string     // the key, for a struct field
}

// errorAt records a problem at node n (nil: the whole file) and key path.
// A URL's userinfo in the path or message is redacted: in the arguments,
// before they are quoted, and in the message, for what the arguments'
// formatting shows.
func (c *checker) errorAt(n *yaml.Node, path, format string, args ...any) {
	msg := redactUserinfo(fmt.Sprintf(format, redactArgs(args)...), true)
	e := &Error{File: c.file, Path: redactUserinfo(path, false), Msg: msg}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	c.errs = append(c.errs, e)
}

// decode reads the value at l into the addressable value v.
func (c *checker) decode(v reflect.Value, l *loc) {
	c.locs[addr{v.Addr().Pointer(), v.Type()}] = l
	n := resolve(l.val)
	if u := leaf(v); u != nil {
		if s, ok := c.scalar(n, l, "a string"); ok && s != "" {
			if err := u.UnmarshalYAML(n); err != nil {
				c.fail(l, "%v", err)
			}
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if d, ok := v.Addr().Interface().(*Destination); ok {
			c.destination(d, n, l)
		} else {
			c.mapping(v, n, l)
		}
	case reflect.Slice:
		c.sequence(v, n, l)
	case reflect.String:
		if s, ok := c.scalar(n, l, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		s, ok := c.scalar(n, l, "an integer")
		if !ok || s == "" {
			return
		}
		i, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			c.fail(l, "want an integer, got %q", s)
			return
		}
		v.SetInt(i)
	default:
		panic(fmt.Sprintf("config: no decoding for %s at %s", v.Type(), l.path))
	}
}

// fail records a problem with the value at l.
func (c *checker) fail(l *loc, format string, args ...any) {
	l.bad = true
	c.errorAt(l.val, l.path, format, args...)
}

// scalar returns the expanded text of the scalar n, the value at l.
func (c *checker) scalar(n *yaml.Node, l *loc, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		c.fail(l, "want %s, got %s", want, describe(n))
		return "", false
	}
	if err := c.expandErrs[n]; err != nil {
		c.fail(l, "%v", err)
		return "", false
	}
	return n.Value, true
}

// field is a struct field that a key fills.
type field struct {
	key   string
	index int
}

// fields returns the keys of struct type t, in field order.
func fields(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key != "" && key != "-" {
			fs = append(fs, field{key, i})
		}
	}
	return fs
}

// slot is a key a mapping can hold and the struct field it fills.
type slot struct {
	key string
	v   reflect.Value // the field
	l   *loc
}

// slots returns the slots of the fields of struct v, in field order, for
// the mapping n at l.
func slots(v reflect.Value, n *yaml.Node, l *loc) []slot {
	fs := fields(v.Type())
	ss := make([]slot, len(fs))
	for i, f := range fs {
		ss[i] = slot{f.key, v.Field(f.index), &loc{path: join(l.path, f.key), parent: n, tag: f.key}}
	}
	return ss
}

// register records where the fields of ss come from, so that validate
// methods can name them by pointer.
func (c *checker) register(ss []slot) {
	for _, s := range ss {
		c.locs[addr{s.v.Addr().Pointer(), s.v.Type()}] = s.l
	}
}

// mapping reads the mapping n into struct v: every key must be one of the
// struct's, once. Then the struct validates itself.
func (c *checker) mapping(v reflect.Value, n *yaml.Node, l *loc) {
	if n.Kind != yaml.MappingNode {
		c.fail(l, "want a mapping, got %s", describe(n))
		return
	}
	ss := slots(v, n, l)
	c.register(ss)
	for _, s := range c.keys(n, l, ss) {
		c.decode(s.v, s.l)
	}
	c.validate(v)
}

// validate lets the struct v check itself, if it can.
func (c *checker) validate(v reflect.Value) {
	if val, ok := v.Addr().Interface().(validator); ok {
		val.validate(c)
	}
}

// keys reads the keys of the mapping n at l against the slots ss. It
// records keys that are not names, merge keys, unknown keys (with a
// did-you-mean hint) and duplicates; it sets the key and value of the
// slots of the keys present (every slot of a key two structs share) and
// returns those slots in file order, the first of each key.
func (c *checker) keys(n *yaml.Node, l *loc, ss []slot) []slot {
	var known []string
	for _, s := range ss {
		if !slices.Contains(known, s.key) {
			known = append(known, s.key)
		}
	}
	var present []slot
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorAt(k, l.path, "want a key name, got %s", describe(resolve(k)))
			continue
		}
		kp := join(l.path, k.Value)
		first := slices.IndexFunc(ss, func(s slot) bool { return s.key == k.Value })
		switch {
		case k.Value == "<<":
			c.errorAt(k, kp, "merge keys are not supported (an alias can stand for a whole value)")
		case first < 0:
			if s := suggest(k.Value, known); s != "" {
				c.errorAt(k, kp, "unknown key (did you mean %s?)", s)
			} else {
				c.errorAt(k, kp, "unknown key (want %s)", oneOf(known))
			}
		case ss[first].l.key != nil:
			c.errorAt(k, kp, "duplicate key (first at line %d)", ss[first].l.key.Line)
		default:
			for _, s := range ss {
				if s.key == k.Value {
					s.l.key, s.l.val = k, val
				}
			}
			present = append(present, ss[first])
		}
	}
	return present
}

// sequence reads the list n into slice v. A string in a list must not be
// empty.
func (c *checker) sequence(v reflect.Value, n *yaml.Node, l *loc) {
	if n.Kind != yaml.SequenceNode {
		c.fail(l, "want a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return // nil, as when absent: an empty list means none
	}
	v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
	for i, item := range n.Content {
		il := &loc{path: index(l.path, i), parent: item, val: item}
		e := v.Index(i)
		c.decode(e, il)
		if e.Kind() == reflect.String && e.String() == "" && !il.bad {
			c.fail(il, "must not be empty")
		}
	}
}

// at returns where the decoded value *ptr came from.
func (c *checker) at(ptr any) *loc {
	v := reflect.ValueOf(ptr)
	if l := c.locs[addr{v.Pointer(), v.Type().Elem()}]; l != nil {
		return l
	}
	// Not decoded: a field of a value that was not a mapping, reported
	// already. It counts as absent and wrong, so that nothing more is
	// said of it.
	return &loc{bad: true}
}

// errorf records a problem with the value *ptr: at its value, or at the
// mapping that lacks it.
func (c *checker) errorf(ptr any, format string, args ...any) {
	l := c.at(ptr)
	n := l.val
	if n == nil {
		n = l.parent
	}
	c.errorAt(n, l.path, format, args...)
}

// keyErrorf records a problem with the key of *ptr, at the key.
func (c *checker) keyErrorf(ptr any, format string, args ...any) {
	l := c.at(ptr)
	c.errorAt(l.key, l.path, format, args...)
}

// has reports whether the key of *ptr is in the file.
func (c *checker) has(ptr any) bool { return c.at(ptr).val != nil }

// set reports whether *ptr holds a value from the file: its key is there
// with a value that is not empty and has no error. A key set to an empty
// string (as ${VAR:-} can give) takes its default.
func (c *checker) set(ptr any) bool {
	l := c.at(ptr)
	if l.val == nil || l.bad {
		return false
	}
	n := resolve(l.val)
	return n.Kind != yaml.ScalarNode || n.Value != ""
}

// good reports whether *ptr's key is absent or its value has no error.
func (c *checker) good(ptr any) bool { return !c.at(ptr).bad }

// key returns the key of the field *ptr.
func (c *checker) key(ptr any) string { return c.at(ptr).tag }

// line returns the line of the value *ptr.
func (c *checker) line(ptr any) int { return c.at(ptr).val.Line }

// text returns the value *ptr as written, after expansion.
func (c *checker) text(ptr any) string { return resolve(c.at(ptr).val).Value }

// required records every field in ptrs that is missing or empty.
func (c *checker) required(ptrs ...any) {
	for _, p := range ptrs {
		if !c.missing(p) {
			c.nonEmpty(p)
		}
	}
}

// missing records that the key of *ptr is missing, if it is, and reports
// whether it is.
func (c *checker) missing(ptr any) bool {
	if c.has(ptr) {
		return false
	}
	c.errorf(ptr, "required key is missing")
	return true
}

// nonEmpty records that *ptr, if present, is an empty string or list.
func (c *checker) nonEmpty(ptr any) {
	l := c.at(ptr)
	if l.val == nil || l.bad {
		return
	}
	n := resolve(l.val)
	if n.Kind == yaml.ScalarNode && n.Value == "" || n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		c.fail(l, "must not be empty")
	}
}

// oneOf checks that *s, if not empty, is one of options; noun names it.
// It reports whether *s is a valid, non-empty value.
func (c *checker) oneOf(s *string, noun string, options ...string) bool {
	if *s == "" {
		return false
	}
	for _, o := range options {
		if *s == o {
			return true
		}
	}
	if hint := suggest(*s, options); hint != "" {
		c.errorf(s, "unknown %s %q (did you mean %s?)", noun, *s, hint)
	} else {
		c.errorf(s, "unknown %s %q (want %s)", noun, *s, oneOf(options))
	}
	c.at(s).bad = true
	return false
}

// only records that *ptr's key, if present, is only allowed with cond.
func (c *checker) only(ptr any, cond string) {
	if c.has(ptr) {
		c.keyErrorf(ptr, "only allowed with %s", cond)
	}
}

// intRange checks that *i, if set, lies within [lo, hi].
func (c *checker) intRange(i *int, lo, hi int) {
	if c.set(i) && (*i < lo || *i > hi) {
		c.errorf(i, "%d is out of range (want %d to %d)", *i, lo, hi)
	}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe names what n is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// oneOf formats options as "a, b or c".
func oneOf(options []string) string {
	switch len(options) {
	case 0:
		return "nothing"
	case 1:
		return options[0]
	}
	return strings.Join(options[:len(options)-1], ", ") + " or " + options[len(options)-1]
}

// suggest returns the known key that key is most likely a misspelling of,
// or "".
func suggest(key string, known []string) string {
	squash := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	best, bestDist := "", 3
	for _, k := range known {
		if squash(k) == squash(key) {
			return k
		}
		if d := distance(key, k); d < bestDist && d < len(key) {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
