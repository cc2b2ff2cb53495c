// Package k8s holds the Kubernetes manifests of ledgerline; its tests
// validate them (with kubeconform, offline, against the schemas vendored in
// schemas/) and check that they agree with each other, with jobs.yaml's
// rules and with the Dockerfile.
package k8s

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ledgerline/ledgerline/config"
	"gopkg.in/yaml.v3"
)

// kubernetesVersion is the Kubernetes version the manifests target; its
// schemas are in schemas/.
const kubernetesVersion = "1.34.0"

var manifests = []string{"configmap.yaml", "secret.yaml", "pvc.yaml", "cronjob.yaml"}

// kubeconform returns the path of the kubeconform binary that .ci/run
// installs; the test is skipped without it, except under CI.
func kubeconform(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("kubeconform"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(goEnv(t, "GOPATH"), "bin")} {
		if p := filepath.Join(dir, "kubeconform"); dir != "" && isFile(p) {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("kubeconform is not installed; .ci/run installs it")
	}
	t.Skip("kubeconform is not installed (go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0)")
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

// validate runs kubeconform, strict and offline, on files.
func validate(t *testing.T, files ...string) (string, error) {
	t.Helper()
	abs, err := filepath.Abs("schemas")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-strict", "-summary", "-kubernetes-version", kubernetesVersion,
		"-schema-location", abs + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"}
	cmd := exec.Command(kubeconform(t), append(args, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

func TestManifestsAreValid(t *testing.T) {
	out, err := validate(t, manifests...)
	if err != nil {
		t.Fatalf("kubeconform: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("%d resources found in %d files - Valid: %d, Invalid: 0, Errors: 0, Skipped: 0", len(manifests), len(manifests), len(manifests)); !strings.Contains(out, want) {
		t.Errorf("kubeconform: %s, want %q", out, want)
	}
}

// TestKubeconformCatchesMistakes makes sure the validation has teeth:
// misspelt and mistyped fields, and a kind without a vendored schema, fail.
func TestKubeconformCatchesMistakes(t *testing.T) {
	cronjob, err := os.ReadFile("cronjob.yaml")
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
				t.Fatalf("cronjob.yaml has no %q", tt.old)
			}
			bad := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(bad, bytes.Replace(cronjob, []byte(tt.old), []byte(tt.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := validate(t, bad)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("kubeconform: %v\n%s\nwant a failure with %q", err, out, tt.want)
			}
		})
	}
}

// object is a decoded manifest.
type object map[string]any

func load(t *testing.T, file string) object {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return object(m)
}

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

// TestCronJobRunsTheJobSafely checks what the schemas cannot: the
// CronJob's policies, and that it agrees with the ConfigMap, the Secret,
// the volume claim and jobs.yaml.
func TestCronJobRunsTheJobSafely(t *testing.T) {
	cj, cm, secret, pvc := load(t, "cronjob.yaml"), load(t, "configmap.yaml"), load(t, "secret.yaml"), load(t, "pvc.yaml")
	spec := cj.sub("spec")
	job := spec.sub("jobTemplate", "spec")
	pod := job.sub("template", "spec")

	checks := []struct {
		what string
		got  any
		want any
	}{
		{"concurrencyPolicy", spec.get("concurrencyPolicy"), "Forbid"},
		{"restartPolicy (podFailurePolicy needs Never)", pod.get("restartPolicy"), "Never"},
		{"first podFailurePolicy rule", job.get("podFailurePolicy", "rules", 0, "action"), "FailJob"},
		{"its container", job.get("podFailurePolicy", "rules", 0, "onExitCodes", "containerName"), pod.get("containers", 0, "name")},
		{"its operator", job.get("podFailurePolicy", "rules", 0, "onExitCodes", "operator"), "In"},
		{"runAsNonRoot", pod.get("securityContext", "runAsNonRoot"), true},
		{"runAsUser (distroless nonroot)", pod.get("securityContext", "runAsUser"), 65532},
		{"secret of envFrom", pod.get("containers", 0, "envFrom", 0, "secretRef", "name"), secret.get("metadata", "name")},
		{"configMap volume", pod.get("volumes", 0, "configMap", "name"), cm.get("metadata", "name")},
		{"claim of the warehouse volume", pod.get("volumes", 1, "persistentVolumeClaim", "claimName"), pvc.get("metadata", "name")},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, key := range []string{"startingDeadlineSeconds"} {
		if n, ok := spec.get(key).(int); !ok || n <= 0 {
			t.Errorf("spec.%s = %v, want a positive number", key, spec.get(key))
		}
	}
	for _, key := range []string{"backoffLimit", "activeDeadlineSeconds"} {
		if n, ok := job.get(key).(int); !ok || n <= 0 {
			t.Errorf("jobTemplate.spec.%s = %v, want a positive number", key, job.get(key))
		}
	}
	codes, _ := job.get("podFailurePolicy", "rules", 0, "onExitCodes", "values").([]any)
	if !slices.Contains(codes, any(2)) || slices.Contains(codes, any(1)) {
		t.Errorf("FailJob exit codes = %v: want 2 (bad configuration or usage) and never 1 (a failed run, worth a retry)", codes)
	}

	// The container runs a job of the ConfigMap's jobs.yaml, whose every
	// ${VAR} the Secret provides, on the job's schedule in its time zone.
	args, _ := pod.get("containers", 0, "args").([]any)
	if len(args) < 4 || args[0] != "run" || args[2] != "-c" {
		t.Fatalf("container args = %v, want run JOB -c FILE", args)
	}
	mount := pod.str("containers", 0, "volumeMounts", 0, "mountPath")
	if want := mount + "/jobs.yaml"; args[3] != want {
		t.Errorf("-c %v, want %s (the ConfigMap's mount)", args[3], want)
	}
	env := map[string]string{}
	for k, v := range secret.sub("stringData") {
		env[k] = fmt.Sprint(v)
	}
	f, err := config.Parse("configmap.yaml:jobs.yaml", []byte(cm.str("data", "jobs.yaml")), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("the ConfigMap's jobs.yaml with the Secret's variables:\n%v", err)
	}
	j, ok := f.Job(fmt.Sprint(args[1]))
	if !ok {
		t.Fatalf("the CronJob runs job %v, which jobs.yaml lacks", args[1])
	}
	if spec.str("schedule") != j.Schedule || spec.str("timeZone") != j.Timezone.String() {
		t.Errorf("CronJob runs at %q in %s, the job's schedule is %q in %s",
			spec.str("schedule"), spec.str("timeZone"), j.Schedule, j.Timezone)
	}
	if d := j.Destination; d.Type == config.DestinationLocal {
		mounted := false
		for i := range 3 {
			if p := pod.str("containers", 0, "volumeMounts", i, "mountPath"); p != "" && strings.HasPrefix(d.Local.Path, p+"/") {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("the warehouse %s is on no mounted volume", d.Local.Path)
		}
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
