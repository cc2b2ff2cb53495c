package k8s

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
	"github.com/ledgerline/ledgerline/reportjob"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/scheduler"
	"github.com/prometheus/client_golang/prometheus"
)

// The overlays that run the jobs as CronJobs, and every overlay.
var (
	cronOverlays = []string{"overlays/local-warehouse", "overlays/bigquery"}
	allOverlays  = []string{"overlays/local-warehouse", "overlays/bigquery", "overlays/schedule"}
)

// The CronJobs, by the job of jobs.yaml each runs.
var cronJobs = map[string]string{"nightly": "ledgerline-nightly", "monthly-accounting": "ledgerline-monthly-accounting"}

const secretName = "ledgerline-credentials"

// workload is a pod template of a render: a CronJob's or a Deployment's.
type workload struct {
	name string // kind/name
	pod  object // the pod spec
}

func workloads(objs []object) []workload {
	var out []workload
	for _, o := range objs {
		switch o.kind() {
		case "CronJob":
			out = append(out, workload{"CronJob/" + o.name(), o.sub("spec", "jobTemplate", "spec", "template", "spec")})
		case "Deployment":
			out = append(out, workload{"Deployment/" + o.name(), o.sub("spec", "template", "spec")})
		}
	}
	return out
}

// etl returns the pod's etl container.
func (w workload) etl(t *testing.T) object {
	t.Helper()
	for _, c := range w.pod.list("containers") {
		if c.str("name") == "etl" {
			return c
		}
	}
	t.Fatalf("%s has no container etl", w.name)
	return nil
}

func (w workload) args(t *testing.T) []string {
	var out []string
	for _, a := range w.etl(t).get("args").([]any) {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

// flag returns the value of --name (or -name) in args, or "".
func flag(args []string, name string) string {
	for i, a := range args {
		if (a == "--"+name || a == "-"+name) && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// exampleEnv is the environment the example Secret gives the pods.
func exampleEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range load(t, "secret.example.yaml").sub("stringData") {
		env[k] = fmt.Sprint(v)
	}
	return env
}

// jobsFile loads the jobs.yaml of the render's ConfigMap, with the
// example Secret's variables, and returns it with the ConfigMap's name.
func jobsFile(t *testing.T, dir string, objs []object) (*config.File, string) {
	t.Helper()
	cms := ofKind(objs, "ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("%s renders %d ConfigMaps, want 1", dir, len(cms))
	}
	env := exampleEnv(t)
	f, err := config.Parse(dir+":jobs.yaml", []byte(cms[0].str("data", "jobs.yaml")), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("%s: the ConfigMap's jobs.yaml with the example Secret's variables:\n%v", dir, err)
	}
	return f, cms[0].name()
}

// TestCronJobsRunTheJobs: the local-warehouse and bigquery overlays have
// both CronJobs, each running its job of the ConfigMap's jobs.yaml on the
// job's schedule in its time zone, with the safe policies; the monthly one
// sends the accounting report.
func TestCronJobsRunTheJobs(t *testing.T) {
	for _, dir := range cronOverlays {
		t.Run(dir, func(t *testing.T) {
			objs := rendered(t, dir)
			f, _ := jobsFile(t, dir, objs)
			if n := len(ofKind(objs, "CronJob")); n != len(cronJobs) {
				t.Errorf("%d CronJobs, want %d", n, len(cronJobs))
			}
			for jobName, name := range cronJobs {
				cj, ok := find(objs, "CronJob", name)
				if !ok {
					t.Errorf("no CronJob %s", name)
					continue
				}
				checkCronJob(t, cj, f, jobName)
			}
			monthly, _ := f.Job("monthly-accounting")
			if r := reportjob.Accounting(monthly); len(r) == 0 || len(r[0].To) == 0 {
				t.Errorf("job monthly-accounting has no accounting report with recipients: %+v", monthly.Reports)
			}
		})
	}
}

func checkCronJob(t *testing.T, cj object, f *config.File, jobName string) {
	t.Helper()
	spec := cj.sub("spec")
	job := spec.sub("jobTemplate", "spec")
	w := workload{"CronJob/" + cj.name(), job.sub("template", "spec")}
	pod := w.pod
	checks := []struct {
		what      string
		got, want any
	}{
		{"concurrencyPolicy", spec.get("concurrencyPolicy"), "Forbid"},
		{"restartPolicy (podFailurePolicy needs Never)", pod.get("restartPolicy"), "Never"},
		{"first podFailurePolicy rule", job.get("podFailurePolicy", "rules", 0, "action"), "FailJob"},
		{"its container", job.get("podFailurePolicy", "rules", 0, "onExitCodes", "containerName"), "etl"},
		{"its operator", job.get("podFailurePolicy", "rules", 0, "onExitCodes", "operator"), "In"},
		{"runAsNonRoot", pod.get("securityContext", "runAsNonRoot"), true},
		{"runAsUser (distroless nonroot)", pod.get("securityContext", "runAsUser"), 65532},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %s = %v, want %v", cj.name(), c.what, c.got, c.want)
		}
	}
	if n, ok := spec.get("startingDeadlineSeconds").(int); !ok || n <= 0 {
		t.Errorf("%s: startingDeadlineSeconds = %v, want a positive number", cj.name(), spec.get("startingDeadlineSeconds"))
	}
	for _, key := range []string{"backoffLimit", "activeDeadlineSeconds"} {
		if n, ok := job.get(key).(int); !ok || n <= 0 {
			t.Errorf("%s: jobTemplate.spec.%s = %v, want a positive number", cj.name(), key, job.get(key))
		}
	}
	codes, _ := job.get("podFailurePolicy", "rules", 0, "onExitCodes", "values").([]any)
	if !slices.Contains(codes, any(2)) || slices.Contains(codes, any(1)) {
		t.Errorf("%s: FailJob exit codes = %v: want 2 (bad configuration or usage) and never 1 (a failed run, worth a retry)", cj.name(), codes)
	}
	args := w.args(t)
	if len(args) < 4 || args[0] != "run" || args[1] != jobName || args[2] != "-c" || args[3] != "/etc/ledgerline/jobs.yaml" {
		t.Fatalf("%s: args = %v, want run %s -c /etc/ledgerline/jobs.yaml", cj.name(), args, jobName)
	}
	j, ok := f.Job(jobName)
	if !ok {
		t.Fatalf("%s runs job %s, which jobs.yaml lacks", cj.name(), jobName)
	}
	if spec.str("schedule") != j.Schedule || spec.str("timeZone") != j.Timezone.String() {
		t.Errorf("%s runs at %q in %s, the job's schedule is %q in %s",
			cj.name(), spec.str("schedule"), spec.str("timeZone"), j.Schedule, j.Timezone)
	}
}

// TestWorkloadsReferenceWhatIsRendered: every pod reads the Secret by
// envFrom, mounts jobs.yaml where -c reads it, and uses a ServiceAccount
// and volume claims of the same render.
func TestWorkloadsReferenceWhatIsRendered(t *testing.T) {
	for _, dir := range allOverlays {
		t.Run(dir, func(t *testing.T) {
			objs := rendered(t, dir)
			_, cmName := jobsFile(t, dir, objs)
			ws := workloads(objs)
			if len(ws) == 0 {
				t.Fatal("no workload")
			}
			for _, w := range ws {
				c := w.etl(t)
				if got := c.str("envFrom", 0, "secretRef", "name"); got != secretName {
					t.Errorf("%s: envFrom secret %q, want %s", w.name, got, secretName)
				}
				if sa := w.pod.str("serviceAccountName"); sa == "" {
					t.Errorf("%s: no serviceAccountName", w.name)
				} else if _, ok := find(objs, "ServiceAccount", sa); !ok {
					t.Errorf("%s: ServiceAccount %s is not rendered", w.name, sa)
				}
				mounts := mountsOf(t, w)
				m, ok := mounts.at(flag(w.args(t), "c"))
				if !ok || m.volume.str("configMap", "name") != cmName {
					t.Errorf("%s: -c %s is not on the ConfigMap %s's volume", w.name, flag(w.args(t), "c"), cmName)
				}
				for _, v := range w.pod.list("volumes") {
					if claim := v.str("persistentVolumeClaim", "claimName"); claim != "" {
						if _, ok := find(objs, "PersistentVolumeClaim", claim); !ok {
							t.Errorf("%s: volume %s claims %s, which is not rendered", w.name, v.str("name"), claim)
						}
					}
				}
			}
		})
	}
}

// mount is a volumeMount with its volume.
type mount struct {
	path     string
	readOnly bool
	volume   object
}

type mounts []mount

func mountsOf(t *testing.T, w workload) mounts {
	t.Helper()
	vols := map[string]object{}
	for _, v := range w.pod.list("volumes") {
		vols[v.str("name")] = v
	}
	var out mounts
	for _, m := range w.etl(t).list("volumeMounts") {
		v, ok := vols[m.str("name")]
		if !ok {
			t.Errorf("%s: mount %s of no volume %s", w.name, m.str("mountPath"), m.str("name"))
			continue
		}
		ro, _ := m.get("readOnly").(bool)
		out = append(out, mount{m.str("mountPath"), ro, v})
	}
	return out
}

// at returns the mount p is on: the deepest mount path that is p or a
// parent of it.
func (ms mounts) at(p string) (mount, bool) {
	var best mount
	found := false
	for _, m := range ms {
		if (p == m.path || strings.HasPrefix(p, strings.TrimSuffix(m.path, "/")+"/")) && len(m.path) >= len(best.path) {
			best, found = m, true
		}
	}
	return best, found
}

// writable says why p cannot be written under a read-only root filesystem
// ("" if it can): it must be absolute and on a writable mount of an
// emptyDir, or (lasting, to outlive the pod) of a volume claim.
func (ms mounts) writable(p string, lasting bool) string {
	if !path.IsAbs(p) {
		return "not an absolute path (relative to the image's working directory, on the read-only root)"
	}
	m, ok := ms.at(p)
	switch {
	case !ok:
		return "on no mounted volume, so on the read-only root filesystem"
	case m.readOnly:
		return "on " + m.path + ", mounted read-only"
	case m.volume.get("persistentVolumeClaim") != nil:
		return ""
	case m.volume.get("emptyDir") != nil && !lasting:
		return ""
	case m.volume.get("emptyDir") != nil:
		return "on " + m.path + ", an emptyDir, lost with the pod"
	}
	return "on " + m.path + ", neither a volume claim nor an emptyDir"
}

// TestWritesGoToWritableVolumes: the root filesystem is read-only in every
// workload, and everything a run writes is on a writable mount: the
// reports folder (reports_dir, or --reports-dir) and the outbox on a
// volume claim, the local warehouse on one, and the run locks.
func TestWritesGoToWritableVolumes(t *testing.T) {
	for _, dir := range allOverlays {
		t.Run(dir, func(t *testing.T) {
			objs := rendered(t, dir)
			f, _ := jobsFile(t, dir, objs)
			for _, w := range workloads(objs) {
				c := w.etl(t)
				if ro := c.get("securityContext", "readOnlyRootFilesystem"); ro != true {
					t.Errorf("%s: readOnlyRootFilesystem = %v, want true", w.name, ro)
				}
				ms := mountsOf(t, w)
				args := w.args(t)
				check := func(what, p string, lasting bool) {
					if why := ms.writable(p, lasting); why != "" {
						t.Errorf("%s: %s %s is %s", w.name, what, p, why)
					}
				}
				check("the reports folder", reportjob.Dir(flag(args, "reports-dir"), f), true)
				for _, j := range jobsOf(t, w, f) {
					for _, r := range reportjob.Accounting(j) {
						check("job "+j.Name+"'s outbox", r.Outbox, true)
					}
					lockDir := f.LockDir
					if d := j.Destination; d.Type == config.DestinationLocal {
						check("job "+j.Name+"'s warehouse", d.Local.Path, true)
						if lockDir == "" {
							lockDir = path.Join(d.Local.Path, ".locks")
						}
					}
					if lockDir == "" {
						lockDir = os.TempDir()
					}
					check("job "+j.Name+"'s run locks", lockDir, false)
				}
			}
		})
	}
}

// jobsOf returns the jobs of f that w runs: etl run's job, or etl
// schedule's (--job, else all).
func jobsOf(t *testing.T, w workload, f *config.File) []config.Job {
	t.Helper()
	args := w.args(t)
	var names []string
	switch args[0] {
	case "run":
		names = []string{args[1]}
	case "schedule":
		for i, a := range args {
			if a == "--job" && i+1 < len(args) {
				names = append(names, args[i+1])
			}
		}
		if len(names) == 0 {
			return f.Jobs
		}
	default:
		t.Fatalf("%s runs etl %s, want run or schedule", w.name, args[0])
	}
	var out []config.Job
	for _, n := range names {
		j, ok := f.Job(n)
		if !ok {
			t.Fatalf("%s runs job %s, which jobs.yaml lacks", w.name, n)
		}
		out = append(out, j)
	}
	return out
}

// TestNoSecretIsApplied: no render holds a Secret and no manifest of a
// kustomize directory is one; the one Secret is secret.example.yaml, which
// names every variable the pods need (the ${VAR}s of each jobs.yaml, which
// jobsFile loads with it, and the SMTP settings) and no other.
func TestNoSecretIsApplied(t *testing.T) {
	for _, dir := range kustomizations(t) {
		for _, o := range rendered(t, dir) {
			if o.kind() == "Secret" {
				t.Errorf("%s renders Secret %s: secrets are created out of band, never applied from here", dir, o.name())
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if b, err := os.ReadFile(path.Join(dir, e.Name())); err == nil && regexp.MustCompile(`(?m)^kind: *Secret\s*$`).Match(b) {
				t.Errorf("%s/%s is a Secret, in a kustomize directory", dir, e.Name())
			}
		}
	}
	for _, dir := range allOverlays {
		jobsFile(t, dir, rendered(t, dir))
	}
	s := load(t, "secret.example.yaml")
	if s.kind() != "Secret" || s.name() != secretName {
		t.Errorf("secret.example.yaml is %s %s, want Secret %s", s.kind(), s.name(), secretName)
	}
	var keys []string
	for k := range s.sub("stringData") {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"TWOCHECKOUT_MERCHANT_CODE", "TWOCHECKOUT_SECRET_KEY", reports.EnvSMTPHost, reports.EnvSMTPPort,
		reports.EnvSMTPUser, reports.EnvSMTPPassword, reports.EnvSMTPFrom, reports.EnvSMTPSecurity}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("secret.example.yaml's keys are %v, want %v", keys, want)
	}
}

// TestImagePinned: every container runs the project's image at a version
// tag (never latest), pulled only if absent.
func TestImagePinned(t *testing.T) {
	tag := regexp.MustCompile(`^ghcr\.io/ledgerline/etl:v?\d+\.\d+\.\d+$`)
	for _, dir := range allOverlays {
		for _, w := range workloads(rendered(t, dir)) {
			c := w.etl(t)
			if img := c.str("image"); !tag.MatchString(img) {
				t.Errorf("%s %s: image %q, want ghcr.io/ledgerline/etl:VERSION", dir, w.name, img)
			}
			if p := c.str("imagePullPolicy"); p != "IfNotPresent" {
				t.Errorf("%s %s: imagePullPolicy %q, want IfNotPresent (the tag is pinned)", dir, w.name, p)
			}
		}
	}
}

// TestBigQueryOverlay: the jobs load BigQuery as the ServiceAccount's
// Google service account (workload identity), without a warehouse volume.
func TestBigQueryOverlay(t *testing.T) {
	const dir = "overlays/bigquery"
	objs := rendered(t, dir)
	f, _ := jobsFile(t, dir, objs)
	for _, j := range f.Jobs {
		if j.Destination.Type != config.DestinationBigQuery {
			t.Errorf("job %s loads %s, want bigquery", j.Name, j.Destination.Type)
		}
	}
	sa, ok := find(objs, "ServiceAccount", "ledgerline")
	gsa := sa.str("metadata", "annotations", "iam.gke.io/gcp-service-account")
	if !ok || !regexp.MustCompile(`^[a-z][-a-z0-9]*@[-a-z0-9]+\.iam\.gserviceaccount\.com$`).MatchString(gsa) {
		t.Errorf("ServiceAccount ledgerline: iam.gke.io/gcp-service-account = %q, want a Google service account", gsa)
	}
	if _, ok := find(objs, "PersistentVolumeClaim", "ledgerline-warehouse"); ok {
		t.Error("the warehouse volume claim is rendered")
	}
	if _, ok := find(objs, "PersistentVolumeClaim", "ledgerline-reports"); !ok {
		t.Error("no reports volume claim: the outbox would not outlive the pod")
	}
	for _, w := range workloads(objs) {
		for _, m := range mountsOf(t, w) {
			if m.path == "/data" || m.volume.str("persistentVolumeClaim", "claimName") == "ledgerline-warehouse" {
				t.Errorf("%s mounts the warehouse volume at %s", w.name, m.path)
			}
		}
	}
}

// TestScheduleOverlay: etl schedule runs as one Deployment, replaced (not
// rolled) on update, probed on /healthz and scraped on the port it serves;
// the CronJobs are gone, so no job runs from two places.
func TestScheduleOverlay(t *testing.T) {
	const dir = "overlays/schedule"
	objs := rendered(t, dir)
	if cjs := ofKind(objs, "CronJob"); len(cjs) != 0 {
		t.Errorf("%d CronJobs rendered beside etl schedule", len(cjs))
	}
	deps := ofKind(objs, "Deployment")
	if len(deps) != 1 {
		t.Fatalf("%d Deployments, want 1", len(deps))
	}
	d := deps[0]
	if r := d.get("spec", "replicas"); r != 1 {
		t.Errorf("replicas = %v, want 1", r)
	}
	if s := d.str("spec", "strategy", "type"); s != "Recreate" {
		t.Errorf("strategy = %q, want Recreate", s)
	}
	w := workloads(objs)[0]
	c, args := w.etl(t), w.args(t)
	if args[0] != "schedule" {
		t.Fatalf("args = %v, want schedule ...", args)
	}
	addr := flag(args, "addr")
	var port any
	for _, p := range c.list("ports") {
		if p.str("name") == "metrics" {
			port = p.get("containerPort")
		}
	}
	if addr == "" || fmt.Sprint(":", port) != addr {
		t.Errorf("--addr %q, metrics containerPort %v: want the same port", addr, port)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if p, pt := c.str(probe, "httpGet", "path"), c.get(probe, "httpGet", "port"); p != "/healthz" || pt != "metrics" {
			t.Errorf("%s: GET %v on port %v, want /healthz on metrics", probe, p, pt)
		}
	}
	grace, _ := w.pod.get("terminationGracePeriodSeconds").(int)
	if g, err := time.ParseDuration(flag(args, "grace")); err != nil || time.Duration(grace)*time.Second <= g {
		t.Errorf("terminationGracePeriodSeconds %d is not above --grace %s: the kubelet would kill running jobs", grace, flag(args, "grace"))
	}
	svcs := ofKind(objs, "Service")
	if len(svcs) != 1 {
		t.Fatalf("%d Services, want 1", len(svcs))
	}
	labels := d.sub("spec", "template", "metadata", "labels")
	for k, v := range svcs[0].sub("spec", "selector") {
		if labels[k] != v {
			t.Errorf("Service selects %s=%v, the pods have %v", k, v, labels[k])
		}
	}
	if tp := svcs[0].get("spec", "ports", 0, "targetPort"); tp != "metrics" {
		t.Errorf("Service targetPort %v, want metrics", tp)
	}
}

// TestPrometheusRule checks the alert rules (no schema is vendored for the
// CRD): their structure, and that every metric and label they use is one
// ledgerline exports.
func TestPrometheusRule(t *testing.T) {
	objs := rendered(t, "monitoring")
	if len(objs) != 1 || objs[0].kind() != "PrometheusRule" || objs[0].str("apiVersion") != "monitoring.coreos.com/v1" {
		t.Fatalf("monitoring renders %v, want one monitoring.coreos.com/v1 PrometheusRule", objs)
	}
	exported := exportedMetrics(t)
	alerts := map[string]object{}
	for _, g := range objs[0].list("spec", "groups") {
		for _, r := range g.list("rules") {
			name, expr := r.str("alert"), r.str("expr")
			alerts[name] = r
			if name == "" || expr == "" || r.str("labels", "severity") == "" || r.str("annotations", "summary") == "" {
				t.Errorf("rule %q: want alert, expr, labels.severity and annotations.summary: %v", name, r)
			}
			for _, m := range regexp.MustCompile(`ledgerline_[a-z_]+`).FindAllString(expr, -1) {
				if !slices.Contains(exported, m) {
					t.Errorf("alert %s uses %s, which ledgerline does not export (it exports %v)", name, m, exported)
				}
			}
			for _, l := range regexp.MustCompile(`\$labels\.([a-z_]+)`).FindAllStringSubmatch(r.str("annotations", "summary"), -1) {
				if l[1] != progress.LabelJob && l[1] != progress.LabelAccount {
					t.Errorf("alert %s: label %s is not one of the metrics'", name, l[1])
				}
			}
		}
	}
	if r, ok := alerts["LedgerlineNoRecentSuccess"]; !ok || !strings.Contains(r.str("expr"), "ledgerline_last_success_timestamp_seconds") || !strings.Contains(r.str("expr"), "> 26 * 3600") {
		t.Errorf("no alert LedgerlineNoRecentSuccess on the last success older than 26 hours: %v", r)
	}
	if r, ok := alerts["LedgerlineRunFailed"]; !ok || !strings.Contains(r.str("expr"), `status="failed"`) {
		t.Errorf("no alert LedgerlineRunFailed on a failed run: %v", r)
	}
}

// exportedMetrics returns the names of the metrics of a run (package
// progress) and of etl schedule (package scheduler), as a registry
// gathers them after a failed and a successful run.
func exportedMetrics(t *testing.T) []string {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := progress.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC)
	m.RunDone("nightly", "acme", pipeline.Summary{Tables: []pipeline.TableSummary{{Table: "orders", Rows: 1}}}, nil, end)
	m.RunDone("nightly", "acme", pipeline.Summary{}, errors.New("failed"), end)
	m.Observer("nightly").Page("acme", "orders", 1)
	if _, err := scheduler.New(scheduler.Config{Jobs: []config.Job{{Name: "nightly", Schedule: "@daily", Timezone: time.UTC}}, Registry: reg,
		Run: func(context.Context, config.Job, string, civil.Date) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}
