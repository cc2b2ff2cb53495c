package config

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// expand interpolates environment variables into a scalar:
//
//	${VAR}          the value of VAR; an error if VAR is unset
//	${VAR:-default} the value of VAR, or default when VAR is unset or empty
//	$$              a literal $
//
// Any other $ is an error, so that a mistyped $VAR is not taken literally.
// The default is literal text up to the first "}". Values are not expanded
// again. Error messages name variables but never contain values.
func expand(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		switch {
		case strings.HasPrefix(s, "$"):
			b.WriteByte('$')
			s = s[1:]
		case strings.HasPrefix(s, "{"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", errors.New(`unterminated "${" (want ${VAR} or ${VAR:-default})`)
			}
			ref := s[1:end]
			s = s[end+1:]
			name, def, hasDef := strings.Cut(ref, ":-")
			if !validVarName(name) {
				return "", errors.New(`invalid variable reference (want ${VAR} or ${VAR:-default}, VAR of letters, digits and _)`)
			}
			v, ok := getenv(name)
			switch {
			case hasDef && v == "":
				v = def
			case !ok:
				return "", fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(v)
		default:
			return "", errors.New(`"$" must start ${VAR} or ${VAR:-default} (write $$ for a literal $)`)
		}
	}
}

// validVarName reports whether name is a shell-style variable name.
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// expandTree expands the environment references in every scalar value of
// the tree at n, in place, before the tree is decoded; keys are kept as
// written. A scalar shared through aliases is expanded once. It returns the
// scalars that could not be expanded, with why; the decoder reports them
// where it meets them, with their key path, and ignores those under unknown
// keys as it ignores the keys.
func expandTree(n *yaml.Node, getenv func(string) (string, bool)) map[*yaml.Node]error {
	errs := map[*yaml.Node]error{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			v, err := expand(n.Value, getenv)
			if err != nil {
				errs[n] = err
				return
			}
			n.Value = v
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.SequenceNode, yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return errs
}
