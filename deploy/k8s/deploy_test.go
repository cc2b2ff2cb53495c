// Package k8s holds the Kubernetes manifests of ledgerline, as kustomize
// directories: base/, overlays/ (local-warehouse, bigquery, schedule) and
// monitoring/. Its tests render every one with the kustomize binary,
// validate the output with kubeconform (offline, strict, against the
// schemas vendored in schemas/) and check what the schemas cannot: that
// the objects agree with each other, with jobs.yaml's rules and with the
// Dockerfile.
package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// kubernetesVersion is the Kubernetes version the manifests target; its
// schemas are in schemas/.
const kubernetesVersion = "1.34.0"

// The tools the tests run, at the versions .ci/run installs.
const (
	kubeconformInstall = "go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"
	kustomizeInstall   = "go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.1"
)

// tool returns the path of the binary name that .ci/run installs (with
// install). Without it the test is skipped, except under CI, where it
// fails: a CI that validates nothing must not pass.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(goEnv(t, "GOPATH"), "bin")} {
		if p := filepath.Join(dir, name); dir != "" && isFile(p) {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed, so deploy/k8s cannot be rendered or validated; .ci/run installs it (%s)", name, install)
	}
	t.Skipf("%s is not installed (%s)", name, install)
	return ""
}

func goEnv(t *testing.T, key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Logf("go env %s: %v", key, err)
		return ""
	}
	return strings.TrimSpace(string(out))
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// validate runs kubeconform, strict and offline, on files; kinds in skip
// (without a vendored schema) are counted as skipped, not validated.
func validate(t *testing.T, skip []string, files ...string) (string, error) {
	t.Helper()
	abs, err := filepath.Abs("schemas")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-strict", "-summary", "-kubernetes-version", kubernetesVersion,
		"-schema-location", abs + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"}
	if len(skip) > 0 {
		args = append(args, "-skip", strings.Join(skip, ","))
	}
	cmd := exec.Command(tool(t, "kubeconform", kubeconformInstall), append(args, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// kustomizations returns the directories holding a kustomization.yaml,
// relative to deploy/k8s: every one is rendered and validated, so a new
// overlay cannot escape the tests.
func kustomizations(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == "schemas" {
			return filepath.SkipDir
		}
		if d.Name() == "kustomization.yaml" && !isComponent(t, p) {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// isComponent says whether the kustomization file is a Component, which
// is not rendered alone but in the kustomizations that use it.
func isComponent(t *testing.T, file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^kind: Component$`).Match(b)
}

// renders caches kustomize's output per directory: several tests read the
// same render.
var renders sync.Map // dir -> []byte

// render returns `kustomize build dir`.
func render(t *testing.T, dir string) []byte {
	t.Helper()
	if b, ok := renders.Load(dir); ok {
		return b.([]byte)
	}
	cmd := exec.Command(tool(t, "kustomize", kustomizeInstall), "build", dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, errb.String())
	}
	renders.Store(dir, out.Bytes())
	return out.Bytes()
}

// objects decodes the documents of a render.
func objects(t *testing.T, what string, b []byte) []object {
	t.Helper()
	var out []object
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if m != nil {
			out = append(out, object(m))
		}
	}
}

// rendered returns the objects of dir's render.
func rendered(t *testing.T, dir string) []object {
	t.Helper()
	return objects(t, dir, render(t, dir))
}

func load(t *testing.T, file string) object {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, file, b)
	if len(objs) != 1 {
		t.Fatalf("%s holds %d objects, want 1", file, len(objs))
	}
	return objs[0]
}

// object is a decoded manifest.
type object map[string]any

// sub returns the object at path, or an empty one.
func (o object) sub(path ...any) object {
	m, _ := o.get(path...).(map[string]any)
	return object(m)
}

// get returns the value at path, keys and list indexes, or nil.
func (o object) get(path ...any) any {
	var v any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func (o object) str(path ...any) string {
	s, _ := o.get(path...).(string)
	return s
}

// list returns the list at path as objects (its maps).
func (o object) list(path ...any) []object {
	l, _ := o.get(path...).([]any)
	var out []object
	for _, v := range l {
		if m, ok := v.(map[string]any); ok {
			out = append(out, object(m))
		}
	}
	return out
}

func (o object) kind() string { return o.str("kind") }
func (o object) name() string { return o.str("metadata", "name") }

// find returns the object of kind and name in objs.
func find(objs []object, kind, name string) (object, bool) {
	for _, o := range objs {
		if o.kind() == kind && o.name() == name {
			return o, true
		}
	}
	return nil, false
}

func ofKind(objs []object, kind string) []object {
	var out []object
	for _, o := range objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// TestEveryKustomizationRendersAndValidates renders every kustomize
// directory and validates the output strictly. PrometheusRule has no
// vendored schema (it is a CRD): kubeconform skips it and
// TestPrometheusRule checks it.
func TestEveryKustomizationRendersAndValidates(t *testing.T) {
	dirs := kustomizations(t)
	for _, want := range []string{"base", "overlays/local-warehouse", "overlays/bigquery", "overlays/schedule", "monitoring"} {
		if !slices.Contains(dirs, want) {
			t.Errorf("no kustomization in %s (have %v)", want, dirs)
		}
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			objs := rendered(t, dir)
			skipped := len(ofKind(objs, "PrometheusRule"))
			file := filepath.Join(t.TempDir(), "render.yaml")
			if err := os.WriteFile(file, render(t, dir), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := validate(t, []string{"PrometheusRule"}, file)
			if err != nil {
				t.Fatalf("kubeconform: %v\n%s", err, out)
			}
			want := fmt.Sprintf("%s found in 1 file - Valid: %d, Invalid: 0, Errors: 0, Skipped: %d", plural(len(objs), "resource"), len(objs)-skipped, skipped)
			if !strings.Contains(out, want) {
				t.Errorf("kubeconform: %s, want %q", out, want)
			}
		})
	}
}

// TestSecretExampleIsValid: the example Secret is a valid manifest (it is
// only kept out of every kustomization).
func TestSecretExampleIsValid(t *testing.T) {
	out, err := validate(t, nil, "secret.example.yaml")
	if err != nil || !strings.Contains(out, "Valid: 1, Invalid: 0, Errors: 0, Skipped: 0") {
		t.Errorf("kubeconform: %v\n%s", err, out)
	}
}

// TestKubeconformCatchesMistakes makes sure the validation has teeth:
// misspelt and mistyped fields, and a kind without a vendored schema, fail.
func TestKubeconformCatchesMistakes(t *testing.T) {
	cronjob, err := os.ReadFile("base/cronjob-nightly.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown field", "concurrencyPolicy: Forbid", "concurrencypolicy: Forbid", "additional properties 'concurrencypolicy' not allowed"},
		{"wrong type", "backoffLimit: 2 ", `backoffLimit: "two" `, "backoffLimit"},
		{"unknown kind", "kind: CronJob", "kind: CronTab", "could not find schema for CronTab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(cronjob, []byte(tt.old)) {
				t.Fatalf("cronjob-nightly.yaml has no %q", tt.old)
			}
			bad := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(bad, bytes.Replace(cronjob, []byte(tt.old), []byte(tt.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := validate(t, nil, bad)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("kubeconform: %v\n%s\nwant a failure with %q", err, out, tt.want)
			}
		})
	}
}

// TestDockerfile checks the image against the rules the manifests rely on
// (docker cannot run here): a static build at go.mod's Go version, a
// non-root user, and a binary without cgo dependencies.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(string(gomod))
	for _, want := range []string{
		"ARG GO_VERSION=" + goLine[1] + "\n",
		"FROM golang:${GO_VERSION} AS build",
		"CGO_ENABLED=0",
		"-trimpath",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532",
		`ENTRYPOINT ["/usr/local/bin/etl"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// Every package of the binary builds without cgo (DuckDB's driver is
	// for tests only): with CGO_ENABLED=0 none is missing or broken.
	cmd := exec.Command("go", "list", "-deps", "-e", "-f", "{{.ImportPath}}{{with .Error}} ERROR: {{.Err}}{{end}}", "../../cmd/etl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, " ERROR: ") || strings.Contains(line, "duckdb") {
			t.Errorf("without cgo: %s", line)
		}
	}
}

// plural is kubeconform's: "1 resource", "2 resources".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
