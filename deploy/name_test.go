package deploy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/resource"

	"github.com/acme/monolith/deploy"
	"github.com/acme/monolith/platform/buildinfo"
)

// TestObjectsAreNamedForTheService: the base writes the service's name once
// (its "service" ConfigMap, which equals buildinfo.Service) and every
// object's name, reference and app.kubernetes.io label derives from it; no
// placeholder reaches the output, and the source ConfigMap itself does not.
func TestObjectsAreNamedForTheService(t *testing.T) {
	for _, dir := range append([]string{"base"}, overlayDirs()...) {
		t.Run(dir, func(t *testing.T) {
			m, err := deploy.Render(dir)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "SERVICE") {
				t.Errorf("the placeholder SERVICE is left in the output: a replacement target is missing in base/kustomization.yaml\n%s", out)
			}
			for _, r := range m.Resources() {
				checkNamedForService(t, r)
			}
		})
	}
}

func overlayDirs() []string {
	var dirs []string
	for _, o := range deploy.Overlays {
		dirs = append(dirs, filepath.Join("overlays", o))
	}
	return dirs
}

func checkNamedForService(t *testing.T, r *resource.Resource) {
	t.Helper()
	name, kind := r.GetName(), r.GetKind()
	if kind == "ConfigMap" && name == "service" {
		t.Error("the service ConfigMap is rendered: it is only the replacements' source (local-config)")
	}
	if name != buildinfo.Service && !strings.HasPrefix(name, buildinfo.Service+"-") && name != "default-deny" {
		t.Errorf("%s %s is not named for the service %q", kind, name, buildinfo.Service)
	}
	labels := r.GetLabels()
	for _, key := range []string{"app.kubernetes.io/name", "app.kubernetes.io/part-of"} {
		if labels[key] != buildinfo.Service {
			t.Errorf("%s %s: label %s = %q, want %q", kind, name, key, labels[key], buildinfo.Service)
		}
	}
}
