// Command gen writes the JSON schemas that kubeconform validates the
// manifests of deploy/k8s with, offline: standalone (every $ref inlined)
// and strict (no property the API does not define), in kubeconform's file
// layout, from the OpenAPI v2 document of the Kubernetes API.
//
// The document ships in the k8s.io/kubernetes Go module, so the schemas
// can be regenerated without reaching anything but the module proxy:
//
//	dir=$(go mod download -json k8s.io/kubernetes@v1.34.0 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
//	go run ./deploy/k8s/schemas/gen -spec "$dir/api/openapi-spec/swagger.json" \
//	    -out deploy/k8s/schemas/v1.34.0-standalone-strict \
//	    batch/v1/CronJob v1/ConfigMap v1/Secret v1/PersistentVolumeClaim \
//	    v1/Namespace v1/ServiceAccount apps/v1/Deployment v1/Service
//
// The conversion follows kubeconform's openapi2jsonschema: int-or-string
// values accept a string or an integer, quantities a string or a number,
// and objects with properties get additionalProperties: false.
// Descriptions are dropped to keep the files small.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	spec := flag.String("spec", "", "the Kubernetes OpenAPI v2 `file` (api/openapi-spec/swagger.json)")
	out := flag.String("out", "", "output `directory`")
	flag.Parse()
	if *spec == "" || *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -spec swagger.json -out DIR GROUP/VERSION/KIND...")
		os.Exit(2)
	}
	if err := run(*spec, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(specPath, out string, kinds []string) error {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, gvk := range kinds {
		i := strings.LastIndex(gvk, "/")
		if i < 0 {
			return fmt.Errorf("%q: want GROUP/VERSION/KIND or VERSION/KIND", gvk)
		}
		gv, kind := gvk[:i], gvk[i+1:]
		group, version := "", gv
		if j := strings.Index(gv, "/"); j >= 0 {
			group, version = gv[:j], gv[j+1:]
		}
		name, def, err := find(doc.Definitions, group, version, kind)
		if err != nil {
			return err
		}
		schema, err := convert(doc.Definitions, def, []string{name})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		file := strings.ToLower(kind)
		if group != "" {
			file += "-" + strings.Split(group, ".")[0]
		}
		file += "-" + version + ".json"
		data, err := json.MarshalIndent(schema, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, file), append(data, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %s (%d bytes)\n", file, name, len(data))
	}
	return nil
}

// find returns the definition of group/version kind.
func find(defs map[string]map[string]any, group, version, kind string) (string, map[string]any, error) {
	for name, def := range defs {
		gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
		for _, x := range gvks {
			m, _ := x.(map[string]any)
			if m["group"] == group && m["version"] == version && m["kind"] == kind {
				return name, def, nil
			}
		}
	}
	return "", nil, fmt.Errorf("no definition of %s/%s %s", group, version, kind)
}

// convert returns def as a standalone, strict JSON schema; stack holds the
// definitions being inlined, to refuse recursive types.
func convert(defs map[string]map[string]any, def map[string]any, stack []string) (map[string]any, error) {
	out := map[string]any{}
	switch def["format"] {
	case "int-or-string":
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}, nil
	}
	if ref, ok := def["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		target, ok := defs[name]
		if !ok {
			return nil, fmt.Errorf("unknown $ref %s", ref)
		}
		if slices.Contains(stack, name) {
			return nil, fmt.Errorf("recursive type %s", strings.Join(append(stack, name), " -> "))
		}
		if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}, nil
		}
		return convert(defs, target, append(stack, name))
	}
	for k, v := range def {
		switch {
		case k == "description" || k == "format" || strings.HasPrefix(k, "x-kubernetes-"):
			// Dropped: documentation, formats kubeconform does not assert,
			// and Kubernetes extensions.
		case k == "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				c, err := convert(defs, p.(map[string]any), stack)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				props[name] = c
			}
			out[k] = props
		case k == "items" || k == "additionalProperties":
			if m, ok := v.(map[string]any); ok {
				c, err := convert(defs, m, stack)
				if err != nil {
					return nil, err
				}
				out[k] = c
			} else {
				out[k] = v
			}
		default:
			out[k] = v
		}
	}
	if _, ok := out["properties"]; ok {
		if _, ok := out["additionalProperties"]; !ok {
			out["additionalProperties"] = false
		}
	}
	return out, nil
}
