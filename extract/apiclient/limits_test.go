package apiclient_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/extract/apiclient"
)

type limitsNode struct {
	Name     string            `json:"Name"`
	Count    int               // holds no string: not walked
	Tags     []string          `json:"Tags,omitempty"`
	Extra    map[string]string `json:"Extra"`
	Any      any               `json:"Any"`
	Raw      []byte            `json:"Raw"`
	Children []limitsNode      `json:"Children"` // the type contains itself
	Next     *limitsNode       `json:"Next"`
	hidden   string
}

// TestCheckStrings finds the first over-long string of a page wherever it
// is nested, and names its record and JSON path.
func TestCheckStrings(t *testing.T) {
	long := strings.Repeat("x", 11)
	tests := []struct {
		name  string
		items []limitsNode
		field string // "" when no error
	}{
		{"all short", []limitsNode{{Name: "a", Tags: []string{"b"}, Children: []limitsNode{{Name: "c"}}}}, ""},
		{"unexported ignored", []limitsNode{{hidden: long}}, ""},
		{"top field", []limitsNode{{Name: "ok"}, {Name: long}}, "Name"},
		{"slice element", []limitsNode{{Tags: []string{"a", long}}}, "Tags[1]"},
		{"map value", []limitsNode{{Extra: map[string]string{"k": long}}}, "Extra[k]"},
		{"map key", []limitsNode{{Extra: map[string]string{long: "v"}}}, "Extra[key]"},
		{"interface", []limitsNode{{Any: map[string]any{"a": []any{long}}}}, "Any[a][0]"},
		{"bytes", []limitsNode{{Raw: []byte(long)}}, "Raw"},
		{"self nested", []limitsNode{{Children: []limitsNode{{}, {Children: []limitsNode{{Name: long}}}}}}, "Children[1].Children[0].Name"},
		{"pointer chain", []limitsNode{{Next: &limitsNode{Next: &limitsNode{Tags: []string{long}}}}}, "Next.Next.Tags[0]"},
		{"nil pointer", []limitsNode{{Next: nil}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apiclient.CheckStrings(tt.items, 10, func(n *limitsNode) string { return "key" })
			if tt.field == "" {
				if err != nil {
					t.Fatalf("CheckStrings: %v, want nil", err)
				}
				return
			}
			var fe *apiclient.FieldTooLongError
			if !errors.As(err, &fe) {
				t.Fatalf("CheckStrings: %v, want a *FieldTooLongError", err)
			}
			if fe.Field != tt.field || fe.Len != 11 || fe.Limit != 10 || fe.Key != "key" {
				t.Errorf("got field %q len %d limit %d key %q; want %q 11 10 key", fe.Field, fe.Len, fe.Limit, fe.Key, tt.field)
			}
		})
	}
}
