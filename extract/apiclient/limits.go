package apiclient

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// FieldTooLongError says that a string of a record the API sent is longer
// than the account's transport.Config.MaxString allows. The client's
// *extract.RequestError around it names the account, stream, call and
// page.
type FieldTooLongError struct {
	Record int    // position of the record in its page, from 1
	Key    string // the record's key, such as its RefNo
	Field  string // the field's JSON path, such as Items[0].ProductDetails.Name
	Len    int    // its length in bytes
	Limit  int
}

func (e *FieldTooLongError) Error() string {
	return fmt.Sprintf("record %d (%s), field %s: a string of %d bytes, longer than the limit of %d (max_string)",
		e.Record, e.Key, e.Field, e.Len, e.Limit)
}

// CheckStrings fails the first record of items whose strings (json.Number
// included) are longer than limit bytes, in fields and nested fields, with
// a *FieldTooLongError; key names a record. A limit of zero or less checks
// nothing. It allocates nothing per record unless a string is too long.
func CheckStrings[T any](items []T, limit int, key func(*T) string) error {
	if limit <= 0 || len(items) == 0 {
		return nil
	}
	// The check is planned once per page from T's type, so that a record
	// costs a walk over its string fields only: walking every field by
	// reflection cost 40% of decoding the page (BenchmarkCheckStrings).
	check := checkers{}.of(reflect.TypeFor[T]())
	if check == nil {
		return nil
	}
	for i := range items {
		if field, n, ok := check(reflect.ValueOf(&items[i]).Elem(), limit); ok {
			return &FieldTooLongError{Record: i + 1, Key: key(&items[i]), Field: strings.TrimPrefix(field, "."), Len: n, Limit: limit}
		}
	}
	return nil
}

// stringCheck finds a string longer than limit in v, a value of the type it
// was planned for, and returns its path below v.
type stringCheck func(v reflect.Value, limit int) (path string, n int, found bool)

// checkers plans a stringCheck per type; a nil check means the type holds
// no string.
type checkers map[reflect.Type]stringCheck

func (c checkers) of(t reflect.Type) stringCheck {
	if f, ok := c[t]; ok {
		return f
	}
	// A type that contains itself finds its own plan through this
	// indirection while the plan is being built.
	var f stringCheck
	c[t] = func(v reflect.Value, limit int) (string, int, bool) { return f(v, limit) }
	f = c.plan(t)
	c[t] = f
	return f
}

func (c checkers) plan(t reflect.Type) stringCheck {
	switch t.Kind() {
	case reflect.String:
		return func(v reflect.Value, limit int) (string, int, bool) { return "", v.Len(), v.Len() > limit }
	case reflect.Interface, reflect.Map:
		return longString // their contents' types are known only per value
	case reflect.Pointer:
		elem := c.of(t.Elem())
		if elem == nil {
			return nil
		}
		return func(v reflect.Value, limit int) (string, int, bool) {
			if v.IsNil() {
				return "", 0, false
			}
			return elem(v.Elem(), limit)
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(v reflect.Value, limit int) (string, int, bool) { return "", v.Len(), v.Len() > limit }
		}
		elem := c.of(t.Elem())
		if elem == nil {
			return nil
		}
		return func(v reflect.Value, limit int) (string, int, bool) {
			for i := range v.Len() {
				if p, n, ok := elem(v.Index(i), limit); ok {
					return "[" + strconv.Itoa(i) + "]" + p, n, true
				}
			}
			return "", 0, false
		}
	case reflect.Struct:
		return c.planStruct(t)
	}
	return nil
}

func (c checkers) planStruct(t reflect.Type) stringCheck {
	type field struct {
		index int
		name  string
		check stringCheck
	}
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		if check := c.of(sf.Type); check != nil {
			fields = append(fields, field{i, "." + jsonName(sf), check})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return func(v reflect.Value, limit int) (string, int, bool) {
		for _, f := range fields {
			if p, n, ok := f.check(v.Field(f.index), limit); ok {
				return f.name + p, n, true
			}
		}
		return "", 0, false
	}
}

// longString finds a string longer than limit in v, whatever its type, and
// returns its path below v: the check of interfaces and maps.
func longString(v reflect.Value, limit int) (path string, n int, found bool) {
	switch v.Kind() {
	case reflect.String:
		return "", v.Len(), v.Len() > limit
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return longString(v.Elem(), limit)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", v.Len(), v.Len() > limit
		}
		for i := range v.Len() {
			if p, n, ok := longString(v.Index(i), limit); ok {
				return "[" + strconv.Itoa(i) + "]" + p, n, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p, n, ok := longString(it.Key(), limit); ok {
				return "[key]" + p, n, true
			}
			if p, n, ok := longString(it.Value(), limit); ok {
				return "[" + fmt.Sprint(it.Key().Interface()) + "]" + p, n, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			if p, n, ok := longString(v.Field(i), limit); ok {
				return "." + jsonName(sf) + p, n, true
			}
		}
	}
	return "", 0, false
}

// jsonName is the name of a struct field in JSON.
func jsonName(sf reflect.StructField) string {
	if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag != "" && tag != "-" {
		return tag
	}
	return sf.Name
}
