package deploy_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	// The application's modules declare their settings sections.
	_ "github.com/acme/monolith/cmd/app/modules"
	"github.com/acme/monolith/deploy"
	"github.com/acme/monolith/migrations"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/jobs"
)

// rendered is one overlay, every object decoded strictly into its
// Kubernetes API type.
type rendered struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	accounts    []*corev1.ServiceAccount
	configMaps  []*corev1.ConfigMap
	secrets     []*corev1.Secret
	jobs        []*batchv1.Job
	cronJobs    []*batchv1.CronJob
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pdbs        []*policyv1.PodDisruptionBudget
	policies    []*networkingv1.NetworkPolicy
}

// decodeStrict fails on any field the API type does not have: a typo in a
// manifest is silently dropped by the API server otherwise.
func decodeStrict(t *testing.T, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("strict decode into %T: %v\n%s", into, err, doc)
	}
}

func render(t *testing.T, dir string) *rendered {
	t.Helper()
	m, err := deploy.Render(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &rendered{}
	for _, res := range m.Resources() {
		doc, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		switch gvk := res.GetGvk(); gvk.ApiVersion() + "/" + gvk.Kind {
		case "apps/v1/Deployment":
			r.deployments = append(r.deployments, into[appsv1.Deployment](t, doc))
		case "v1/Service":
			r.services = append(r.services, into[corev1.Service](t, doc))
		case "v1/ServiceAccount":
			r.accounts = append(r.accounts, into[corev1.ServiceAccount](t, doc))
		case "v1/ConfigMap":
			r.configMaps = append(r.configMaps, into[corev1.ConfigMap](t, doc))
		case "v1/Secret":
			r.secrets = append(r.secrets, into[corev1.Secret](t, doc))
		case "batch/v1/Job":
			r.jobs = append(r.jobs, into[batchv1.Job](t, doc))
		case "batch/v1/CronJob":
			r.cronJobs = append(r.cronJobs, into[batchv1.CronJob](t, doc))
		case "autoscaling/v2/HorizontalPodAutoscaler":
			r.hpas = append(r.hpas, into[autoscalingv2.HorizontalPodAutoscaler](t, doc))
		case "policy/v1/PodDisruptionBudget":
			r.pdbs = append(r.pdbs, into[policyv1.PodDisruptionBudget](t, doc))
		case "networking.k8s.io/v1/NetworkPolicy":
			r.policies = append(r.policies, into[networkingv1.NetworkPolicy](t, doc))
		default:
			t.Fatalf("%s renders %s %s, which this test does not know how to check", dir, gvk, res.GetName())
		}
	}
	return r
}

func into[T any](t *testing.T, doc []byte) *T {
	t.Helper()
	v := new(T)
	decodeStrict(t, doc, v)
	return v
}

func one[T any](t *testing.T, what string, xs []*T) *T {
	t.Helper()
	if len(xs) != 1 {
		t.Fatalf("want exactly one %s, got %d", what, len(xs))
	}
	return xs[0]
}

// appConfig is what the container gets: the ConfigMap, plus stand-ins for
// the values that come from the Secret, loaded by the application's own
// config loader (so an invalid or unknown variable fails here).
func appConfig(t *testing.T, cm *corev1.ConfigMap) config.Config {
	t.Helper()
	sections, err := config.Registered()
	if err != nil {
		t.Fatal(err)
	}
	var known []string
	for _, sec := range sections {
		for _, v := range sec.Vars {
			known = append(known, v.Name)
		}
	}
	for k := range cm.Data {
		if !slices.Contains(known, k) {
			t.Errorf("ConfigMap sets %s, which the application does not read", k)
		}
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	secrets := map[string]string{
		// As in docs/operations.md: production refuses a remote Postgres
		// without sslmode=require or stronger.
		"DATABASE_URL":           "postgres://app:s3cr3t-value@db:5432/app?sslmode=require",
		"JWT_PRIVATE_KEY":        "-----BEGIN PRIVATE KEY-----\nstand-in\n-----END PRIVATE KEY-----",
		"JWT_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(kek),
	}
	env := map[string]string{}
	for k, v := range cm.Data {
		env[k] = v
	}
	for k, v := range secrets {
		env[k] = v
	}
	// Every section, the modules' too, as serve checks them.
	if err := config.Check(config.SourceFrom(env)); err != nil {
		t.Fatalf("the ConfigMap is not a valid configuration: %v", err)
	}
	cfg, err := config.FromSource(config.SourceFrom(env))
	if err != nil {
		t.Fatalf("the ConfigMap is not a valid configuration: %v", err)
	}
	return cfg
}

// migrationConfig loads the migration Job's environment (the ConfigMap and
// a stand-in for its one secret) as `migrate up` does: the database
// section only.
func migrationConfig(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	secrets := map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-value@db:5432/app?sslmode=require"}
	_, err := config.LoadSectionsFrom(func(k string) (string, bool) {
		if v, ok := secrets[k]; ok {
			return v, true
		}
		v, ok := cm.Data[k]
		return v, ok
	}, config.DatabaseSection)
	if err != nil {
		t.Fatalf("the migration Job's environment is not enough for migrate up: %v", err)
	}
}

func port(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

func namedPort(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named %q", c.Name, name)
	return 0
}

// Secret variables must come from a Secret, never a ConfigMap or a literal.
var secretVars = []string{"DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE", "JWT_KEY_ENCRYPTION_KEY", "FIRST_SUPERUSER_PASSWORD", "SMTP_PASSWORD"}

// requiredSecrets are what production `serve` and `keys rotate` refuse to
// start without.
var requiredSecrets = []string{"DATABASE_URL", "JWT_PRIVATE_KEY", "JWT_KEY_ENCRYPTION_KEY"}

// workerSecrets are all the worker Deployment may hold: the database, the
// key-encryption key (it opens the sealed emails) and the SMTP password
// (workers send the emails).
var workerSecrets = []string{"DATABASE_URL", "DATABASE_DIRECT_URL", "JWT_KEY_ENCRYPTION_KEY", "SMTP_PASSWORD"}

// migrationSecrets are all the migration Job may hold: `migrate up`
// validates the database section only (appcmd migrateUses).
var migrationSecrets = []string{"DATABASE_URL", "DATABASE_DIRECT_URL"}

// secretRefs lists the variables a container takes from a Secret.
func secretRefs(c corev1.Container) []string {
	var names []string
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			names = append(names, e.Name)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			names = append(names, "all of Secret "+ef.SecretRef.Name)
		}
	}
	return names
}

func TestBaseUsesThePlaceholderImage(t *testing.T) {
	r := render(t, "base")
	if len(r.deployments) != 2 {
		t.Fatalf("%d Deployments, want the API's and the workers'", len(r.deployments))
	}
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Image != "app" {
				t.Errorf("%s: base image = %q, want the placeholder that overlays replace", d.Name, c.Image)
			}
		}
	}
}

// component picks the one object whose app.kubernetes.io/component label
// is want.
func component[T any](t *testing.T, what, want string, xs []*T, labelsOf func(*T) map[string]string) *T {
	t.Helper()
	var found []*T
	for _, x := range xs {
		if labelsOf(x)["app.kubernetes.io/component"] == want {
			found = append(found, x)
		}
	}
	return one(t, want+" "+what, found)
}

func deploymentOf(t *testing.T, r *rendered, want string) *appsv1.Deployment {
	t.Helper()
	return component(t, "Deployment", want, r.deployments, func(d *appsv1.Deployment) map[string]string { return d.Labels })
}

// named picks the one object named name.
func named[T any](t *testing.T, what, name string, xs []*T, nameOf func(*T) string) *T {
	t.Helper()
	var found []*T
	for _, x := range xs {
		if nameOf(x) == name {
			found = append(found, x)
		}
	}
	return one(t, what+" "+name, found)
}

func TestOverlays(t *testing.T) {
	for _, name := range deploy.Overlays {
		t.Run(name, func(t *testing.T) {
			r := render(t, filepath.Join("overlays", name))
			checkOverlay(t, r)
		})
	}
}

func checkOverlay(t *testing.T, r *rendered) {
	dep := deploymentOf(t, r, "api")
	job := one(t, "migration Job", r.jobs)
	cm := one(t, "ConfigMap", r.configMaps)
	sa := one(t, "ServiceAccount", r.accounts)
	hpaName := func(h *autoscalingv2.HorizontalPodAutoscaler) string { return h.Spec.ScaleTargetRef.Name }
	hpa := named(t, "HorizontalPodAutoscaler targeting", dep.Name, r.hpas, hpaName)
	pdbName := func(p *policyv1.PodDisruptionBudget) string { return p.Name }
	pdb := named(t, "PodDisruptionBudget", dep.Name, r.pdbs, pdbName)
	svc := one(t, "Service", r.services)
	cfg := appConfig(t, cm)
	rotate := one(t, "key-rotation CronJob", r.cronJobs)
	worker := deploymentOf(t, r, "worker")
	pods := map[string]corev1.PodSpec{"Deployment": dep.Spec.Template.Spec, "Job": job.Spec.Template.Spec, "CronJob": rotate.Spec.JobTemplate.Spec.Template.Spec,
		"worker Deployment": worker.Spec.Template.Spec}
	if got := rotate.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"keys", "rotate"}) {
		t.Errorf("key-rotation CronJob args = %v", got)
	}
	if rotate.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Error("key rotations must not overlap: concurrencyPolicy Forbid")
	}
	app := dep.Spec.Template.Spec.Containers[0]

	// 2. Overlays set the image; no :latest, no untagged image.
	for kind, pod := range pods {
		for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
			if c.Image == "app" || strings.HasSuffix(c.Image, ":latest") || !strings.ContainsAny(c.Image, ":@") {
				t.Errorf("%s container %s: image %q must be set by the overlay with a tag or digest, not latest", kind, c.Name, c.Image)
			}
		}
	}

	// 4. Migrations: a Job running `migrate up`; the app never migrates.
	if got := job.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"migrate", "up"}) {
		t.Errorf("migration Job args = %v", got)
	}
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || job.Spec.BackoffLimit == nil || job.Spec.ActiveDeadlineSeconds == nil {
		t.Error("migration Job needs restartPolicy Never, backoffLimit and activeDeadlineSeconds")
	}
	if len(dep.Spec.Template.Spec.InitContainers) != 0 {
		t.Error("the Deployment has init containers: migrations must not race across replicas")
	}
	if cfg.Database.MigrateOnStart {
		t.Error("MIGRATE_ON_START is true: production pods must not migrate on start")
	}
	if !slices.Equal(app.Args, []string{"serve"}) {
		t.Errorf("app args = %v", app.Args)
	}
	if jobsSettings(t, cm, app).Work {
		t.Error("the API Deployment works jobs: JOBS_WORK=false, the worker Deployment works them")
	}

	// 5. The migration's DB URL comes from a Secret, and with the
	// ConfigMap it is a valid configuration for what `migrate up` reads;
	// atlas.sum ships with the embedded directory the Job applies.
	migrationConfig(t, cm)
	if _, err := fs.Stat(migrations.FS, "postgres/atlas.sum"); err != nil {
		t.Errorf("the embedded migration directory lacks atlas.sum: %v", err)
	}

	// 6 and 7. Probes: different paths, named ports matching HTTP_ADDR.
	live, ready := app.LivenessProbe, app.ReadinessProbe
	if live == nil || ready == nil || live.HTTPGet == nil || ready.HTTPGet == nil {
		t.Fatal("liveness and readiness must be HTTP probes")
	}
	if live.HTTPGet.Path == ready.HTTPGet.Path {
		t.Error("liveness and readiness share a path")
	}
	for _, p := range []*corev1.Probe{live, ready, app.StartupProbe} {
		if p == nil {
			continue
		}
		if p.HTTPGet.Port.StrVal == "" {
			t.Errorf("probe %s targets port %v: use a named port", p.HTTPGet.Path, p.HTTPGet.Port)
		}
		if got, want := namedPort(t, app, p.HTTPGet.Port.StrVal), port(t, cfg.HTTP.Addr); got != want {
			t.Errorf("probe %s port %d, but HTTP_ADDR listens on %d", p.HTTPGet.Path, got, want)
		}
	}
	if live.HTTPGet.Path != probeLive || ready.HTTPGet.Path != probeReady {
		t.Errorf("probe paths %s, %s are not the routes TestProbePathsAreRealRoutes checks", live.HTTPGet.Path, ready.HTTPGet.Path)
	}
	// The app's readiness check gives the database 2 s; the kubelet must
	// wait longer than that to read the 503.
	if ready.TimeoutSeconds <= 2 {
		t.Errorf("readiness timeoutSeconds %d must exceed the app's 2 s database check", ready.TimeoutSeconds)
	}
	if got, want := namedPort(t, app, "metrics"), port(t, cfg.Telemetry.MetricsAddr); got != want {
		t.Errorf("metrics containerPort %d, METRICS_ADDR port %d", got, want)
	}
	if host, _, _ := net.SplitHostPort(cfg.HTTP.Addr); host != "0.0.0.0" && host != "" {
		t.Errorf("HTTP_ADDR %s is not reachable from outside the pod", cfg.HTTP.Addr)
	}

	// 9. preStop sleep + shutdown delay + shutdown timeout < grace period.
	if app.Lifecycle == nil || app.Lifecycle.PreStop == nil || app.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("the app container needs a preStop sleep")
	}
	budget := time.Duration(app.Lifecycle.PreStop.Sleep.Seconds)*time.Second + cfg.HTTP.ShutdownDelay + cfg.HTTP.ShutdownTimeout
	grace := dep.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil {
		t.Fatal("terminationGracePeriodSeconds is not set")
	}
	if budget >= time.Duration(*grace)*time.Second {
		t.Errorf("preStop + HTTP_SHUTDOWN_DELAY + HTTP_SHUTDOWN_TIMEOUT = %s, not below terminationGracePeriodSeconds %d", budget, *grace)
	}

	for kind, pod := range pods {
		// 10. Pod security context.
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
			psc.RunAsGroup == nil || *psc.RunAsGroup == 0 || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s pod securityContext %+v", kind, psc)
		}
		// 12. Dedicated ServiceAccount without a token.
		if pod.ServiceAccountName != sa.Name || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken ||
			pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s pod: service account %q must be the dedicated one, with no token mounted", kind, pod.ServiceAccountName)
		}
		for _, c := range pod.Containers {
			// 11. Container security context.
			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Privileged == nil || *sc.Privileged ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("%s container %s securityContext %+v", kind, c.Name, sc)
			}
			if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" }) {
				t.Errorf("%s container %s: a read-only root needs an emptyDir on /tmp", kind, c.Name)
			}
			// 13. Requests, a memory limit, GOMEMLIMIT from it.
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s container %s: resources %+v", kind, c.Name, c.Resources)
			}
			gomem := envVar(c, "GOMEMLIMIT")
			if gomem == nil || gomem.ValueFrom == nil || gomem.ValueFrom.ResourceFieldRef == nil || gomem.ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
				t.Errorf("%s container %s: GOMEMLIMIT must come from limits.memory", kind, c.Name)
			}
			// 18. Secrets only through secretKeyRef; config from the generated ConfigMap.
			for _, name := range secretVars {
				if e := envVar(c, name); e != nil && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					t.Errorf("%s container %s: %s must come from a secretKeyRef", kind, c.Name, name)
				}
			}
			if kind == "Job" {
				// Least privilege: the migration gets the database URL
				// and nothing else from the Secret.
				if got := secretRefs(c); !slices.Equal(got, migrationSecrets) {
					t.Errorf("migration Job container %s takes %v from the Secret; it needs only %v", c.Name, got, migrationSecrets)
				}
				continue
			}
			if kind == "worker Deployment" {
				// Least privilege: `app worker` builds no API, so no
				// signing key; TestWorkerNeedsOnlyTheDatabase runs it so.
				for _, name := range secretRefs(c) {
					if !slices.Contains(workerSecrets, name) {
						t.Errorf("worker container %s takes %s from the Secret; it needs only %v", c.Name, name, workerSecrets)
					}
				}
				for _, name := range []string{"DATABASE_URL", "JWT_KEY_ENCRYPTION_KEY"} {
					if v := envVar(c, name); v == nil || v.ValueFrom == nil || v.ValueFrom.SecretKeyRef == nil || (v.ValueFrom.SecretKeyRef.Optional != nil && *v.ValueFrom.SecretKeyRef.Optional) {
						t.Errorf("worker container %s does not require %s from the Secret", c.Name, name)
					}
				}
			}
			if kind != "Deployment" && kind != "CronJob" {
				continue
			}
			for _, name := range requiredSecrets {
				if e := envVar(c, name); e == nil {
					t.Errorf("%s container %s: %s missing (production refuses to start without it)", kind, c.Name, name)
				}
			}
			if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != cm.Name {
				t.Errorf("%s container %s must take its config from the generated ConfigMap %s", kind, c.Name, cm.Name)
			}
		}
	}

	// 14. HPA owns the replica count.
	if dep.Spec.Replicas != nil {
		t.Error("the Deployment sets spec.replicas: it would fight the HPA on every apply")
	}
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != dep.Name || hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 {
		t.Errorf("HPA %+v must target %s with minReplicas >= 2", hpa.Spec, dep.Name)
	}

	// 15. The PDB covers the app pods, not the migration pods.
	podLabels := labels.Set(dep.Spec.Template.Labels)
	jobLabels := labels.Set(job.Spec.Template.Labels)
	rotateLabels := labels.Set(rotate.Spec.JobTemplate.Spec.Template.Labels)
	if sel := selector(t, pdb.Spec.Selector); !sel.Matches(podLabels) || sel.Matches(jobLabels) {
		t.Errorf("PDB selector %v must match the app pods only", sel)
	}
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		t.Error("PDB sets no budget")
	}
	if sel := selector(t, dep.Spec.Selector); !sel.Matches(podLabels) || sel.Matches(jobLabels) {
		t.Errorf("Deployment selector %v", sel)
	}
	if sel := labels.SelectorFromSet(svc.Spec.Selector); !sel.Matches(podLabels) || sel.Matches(jobLabels) {
		t.Errorf("Service selector %v must select the app pods only", sel)
	}
	for _, p := range svc.Spec.Ports {
		namedPort(t, app, p.TargetPort.StrVal)
	}

	// 16. Rollout.
	s := dep.Spec.Strategy
	if s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil ||
		s.RollingUpdate.MaxUnavailable.IntValue() != 0 || dep.Spec.MinReadySeconds <= 0 || dep.Spec.ProgressDeadlineSeconds == nil || dep.Spec.RevisionHistoryLimit == nil {
		t.Errorf("rollout: strategy %+v minReadySeconds %d", s, dep.Spec.MinReadySeconds)
	}

	// 17. Network policies.
	checkNetworkPolicies(t, r.policies, podLabels, jobLabels)
	checkNetworkPolicies(t, r.policies, podLabels, rotateLabels)
	if selector(t, pdb.Spec.Selector).Matches(rotateLabels) || labels.SelectorFromSet(svc.Spec.Selector).Matches(rotateLabels) {
		t.Error("the PDB or Service selects the key-rotation pods")
	}

	// 18. No secret values are committed; the ConfigMap holds none and is
	// generated (its hash suffix rolls the pods).
	checkWorker(t, r, worker, dep, cm, cfg, podLabels, jobLabels)
	if len(r.secrets) != 0 {
		t.Error("a Secret is rendered: secret values must not live in the repository")
	}
	for _, name := range secretVars {
		if _, ok := cm.Data[name]; ok {
			t.Errorf("the ConfigMap holds %s", name)
		}
	}
	if !strings.HasPrefix(cm.Name, buildinfo.Service+"-config-") {
		t.Errorf("ConfigMap %s is not from the generator", cm.Name)
	}
	if !cfg.IsProduction() {
		t.Error("APP_ENV is not production")
	}
}

// jobsSettings are the job settings a container gets: the ConfigMap and
// its own literal variables, read by the jobs section's own parser.
func jobsSettings(t *testing.T, cm *corev1.ConfigMap, c corev1.Container) jobs.Settings {
	t.Helper()
	env := map[string]string{}
	for k, v := range cm.Data {
		env[k] = v
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	s, err := config.Parse[jobs.Settings](config.SourceFrom(env))
	if err != nil {
		t.Fatalf("container %s: job settings: %v", c.Name, err)
	}
	return s
}

// checkWorker: the worker Deployment runs `app worker` from the same
// image, with probes on its metrics port, its own HPA and PDB, a stop
// budget within its grace period, and no Service or PDB of the API
// selecting it.
func checkWorker(t *testing.T, r *rendered, worker, api *appsv1.Deployment, cm *corev1.ConfigMap, cfg config.Config, apiPods, jobPods labels.Set) {
	t.Helper()
	pod := worker.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("worker pod has %d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Args, []string{"worker"}) {
		t.Errorf("worker args = %v, want [worker]", c.Args)
	}
	if img := api.Spec.Template.Spec.Containers[0].Image; c.Image != img {
		t.Errorf("worker image %s, API image %s: one image for both", c.Image, img)
	}
	if slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "http" }) {
		t.Error("the worker exposes an http port: it serves no API")
	}
	// Probes: liveness and readiness apart, on the metrics listener,
	// where `app worker` answers them.
	live, ready := c.LivenessProbe, c.ReadinessProbe
	if live == nil || ready == nil || live.HTTPGet == nil || ready.HTTPGet == nil {
		t.Fatal("the worker needs HTTP liveness and readiness probes")
	}
	if live.HTTPGet.Path != probeLive || ready.HTTPGet.Path != probeReady {
		t.Errorf("worker probe paths %s, %s", live.HTTPGet.Path, ready.HTTPGet.Path)
	}
	for _, p := range []*corev1.Probe{live, ready, c.StartupProbe} {
		if p == nil {
			continue
		}
		if p.HTTPGet.Port.StrVal != "metrics" {
			t.Errorf("worker probe %s targets port %v, want the named port metrics", p.HTTPGet.Path, p.HTTPGet.Port)
		}
	}
	if got, want := namedPort(t, c, "metrics"), port(t, cfg.Telemetry.MetricsAddr); got != want {
		t.Errorf("worker metrics containerPort %d, METRICS_ADDR port %d", got, want)
	}
	if ready.TimeoutSeconds <= 2 {
		t.Errorf("worker readiness timeoutSeconds %d must exceed the app's 2 s database check", ready.TimeoutSeconds)
	}
	// The stop: running jobs get JOBS_SHUTDOWN_TIMEOUT, the pool 5 s more.
	js := jobsSettings(t, cm, c)
	grace := pod.TerminationGracePeriodSeconds
	if grace == nil || js.ShutdownTimeout+5*time.Second >= time.Duration(*grace)*time.Second {
		t.Errorf("JOBS_SHUTDOWN_TIMEOUT %s + 5 s must stay below the worker's terminationGracePeriodSeconds %v", js.ShutdownTimeout, grace)
	}
	// Scaling and disruptions: its own HPA and PDB.
	if worker.Spec.Replicas != nil {
		t.Error("the worker Deployment sets spec.replicas: it would fight its HPA")
	}
	hpa := named(t, "HorizontalPodAutoscaler targeting", worker.Name, r.hpas, func(h *autoscalingv2.HorizontalPodAutoscaler) string { return h.Spec.ScaleTargetRef.Name })
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 {
		t.Errorf("worker HPA %+v: minReplicas >= 2", hpa.Spec)
	}
	workerPods := labels.Set(worker.Spec.Template.Labels)
	pdb := named(t, "PodDisruptionBudget", worker.Name, r.pdbs, func(p *policyv1.PodDisruptionBudget) string { return p.Name })
	if sel := selector(t, pdb.Spec.Selector); !sel.Matches(workerPods) || sel.Matches(apiPods) || sel.Matches(jobPods) {
		t.Errorf("worker PDB selector %v must match the worker pods only", sel)
	}
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		t.Error("worker PDB sets no budget")
	}
	for _, p := range r.pdbs {
		if p != pdb && selector(t, p.Spec.Selector).Matches(workerPods) {
			t.Errorf("PDB %s selects the worker pods too", p.Name)
		}
	}
	if sel := selector(t, worker.Spec.Selector); !sel.Matches(workerPods) || sel.Matches(apiPods) {
		t.Errorf("worker Deployment selector %v", sel)
	}
	if selector(t, api.Spec.Selector).Matches(workerPods) {
		t.Error("the API Deployment's selector matches the worker pods")
	}
	// No traffic: no Service selects a worker.
	for _, svc := range r.services {
		if labels.SelectorFromSet(svc.Spec.Selector).Matches(workerPods) {
			t.Errorf("Service %s selects the worker pods", svc.Name)
		}
	}
	s := worker.Spec.Strategy
	if s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 0 ||
		worker.Spec.MinReadySeconds <= 0 || worker.Spec.ProgressDeadlineSeconds == nil || worker.Spec.RevisionHistoryLimit == nil {
		t.Errorf("worker rollout: strategy %+v minReadySeconds %d", s, worker.Spec.MinReadySeconds)
	}
	checkNetworkPolicies(t, r.policies, workerPods, jobPods)
}

func envVar(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func selector(t *testing.T, ls *metav1.LabelSelector) labels.Selector {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || sel.Empty() {
		t.Fatalf("selector %v: %v", ls, err)
	}
	return sel
}

func checkNetworkPolicies(t *testing.T, policies []*networkingv1.NetworkPolicy, appPods, jobPods labels.Set) {
	t.Helper()
	var denyAll, app *networkingv1.NetworkPolicy
	for _, p := range policies {
		if len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 {
			denyAll = p
		} else {
			app = p
		}
	}
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	if denyAll == nil || len(denyAll.Spec.Ingress) != 0 || len(denyAll.Spec.Egress) != 0 || !slices.Equal(denyAll.Spec.PolicyTypes, both) {
		t.Fatal("no default-deny NetworkPolicy (empty pod selector, Ingress and Egress, no rules)")
	}
	if app == nil {
		t.Fatal("no NetworkPolicy for the app")
	}
	sel := selector(t, &app.Spec.PodSelector)
	if !sel.Matches(appPods) || !sel.Matches(jobPods) {
		t.Errorf("the app NetworkPolicy %v must cover the app and migration pods", sel)
	}
	for _, rule := range app.Spec.Ingress {
		if len(rule.From) == 0 || len(rule.Ports) == 0 {
			t.Errorf("ingress rule %+v admits any source or port", rule)
		}
		for _, peer := range rule.From {
			ns := ""
			if peer.NamespaceSelector != nil {
				ns = peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
			}
			if ns != "ingress-nginx" && ns != "monitoring" {
				t.Errorf("ingress from %+v: only the ingress controller and monitoring namespaces may connect", peer)
			}
		}
	}
	var egressPorts []string
	for _, rule := range app.Spec.Egress {
		if len(rule.Ports) == 0 {
			t.Errorf("egress rule %+v allows every port", rule)
		}
		for _, p := range rule.Ports {
			egressPorts = append(egressPorts, fmt.Sprintf("%s/%s", *p.Protocol, p.Port.String()))
		}
	}
	slices.Sort(egressPorts)
	if want := []string{"TCP/53", "TCP/5432", "UDP/53"}; !slices.Equal(egressPorts, want) {
		t.Errorf("egress ports %v, want DNS and Postgres only %v", egressPorts, want)
	}
}

// TestExamples checks the operator examples, which the overlays do not
// render because their CRDs may be absent.
func TestExamples(t *testing.T) {
	r := render(t, "base")
	svc := one(t, "Service", r.services)
	var sm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Selector  metav1.LabelSelector `json:"selector"`
			Endpoints []struct {
				Port string `json:"port"`
				Path string `json:"path"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	b, err := os.ReadFile("examples/servicemonitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &sm); err != nil || sm.Kind != "ServiceMonitor" || len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("servicemonitor.yaml: %v %+v", err, sm)
	}
	if !selector(t, &sm.Spec.Selector).Matches(labels.Set(svc.Labels)) {
		t.Errorf("the ServiceMonitor does not select the Service (labels %v)", svc.Labels)
	}
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == sm.Spec.Endpoints[0].Port }) || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("the ServiceMonitor scrapes port %q path %q", sm.Spec.Endpoints[0].Port, sm.Spec.Endpoints[0].Path)
	}
	var pm struct {
		Kind string `json:"kind"`
		Spec struct {
			Selector  metav1.LabelSelector `json:"selector"`
			Endpoints []struct {
				Port string `json:"port"`
				Path string `json:"path"`
			} `json:"podMetricsEndpoints"`
		} `json:"spec"`
	}
	b, err = os.ReadFile("examples/podmonitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &pm); err != nil || pm.Kind != "PodMonitor" || len(pm.Spec.Endpoints) != 1 {
		t.Fatalf("podmonitor.yaml: %v %+v", err, pm)
	}
	worker := deploymentOf(t, r, "worker")
	api := deploymentOf(t, r, "api")
	if sel := selector(t, &pm.Spec.Selector); !sel.Matches(labels.Set(worker.Spec.Template.Labels)) || sel.Matches(labels.Set(api.Spec.Template.Labels)) {
		t.Errorf("the PodMonitor must select the worker pods only (they have no Service), not %v", sel)
	}
	if e := pm.Spec.Endpoints[0]; e.Path != "/metrics" || namedPort(t, worker.Spec.Template.Spec.Containers[0], e.Port) == 0 {
		t.Errorf("the PodMonitor scrapes port %q path %q", e.Port, e.Path)
	}
	b, err = os.ReadFile("examples/atlasmigration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var am struct {
		Kind string `json:"kind"`
		Spec struct {
			URLFrom struct {
				SecretKeyRef corev1.SecretKeySelector `json:"secretKeyRef"`
			} `json:"urlFrom"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &am); err != nil || am.Kind != "AtlasMigration" || am.Spec.URLFrom.SecretKeyRef.Key != "DATABASE_URL" {
		t.Errorf("atlasmigration.yaml must take DATABASE_URL from a Secret: %v %+v", err, am)
	}
}
