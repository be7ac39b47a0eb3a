// Package deploy holds the container and Kubernetes manifests (base/,
// overlays/, examples/) and renders an overlay with the kustomize library,
// so neither kubectl nor a cluster is needed to build or check them. Its
// tests keep the heavy Kubernetes dependencies out of every other package.
package deploy

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Overlays are the environments under overlays/.
var Overlays = []string{"dev", "prod"}

// Render builds the kustomization in dir (a path on disk).
func Render(dir string) (resmap.ResMap, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	return m, nil
}

// RenderYAML is Render as one multi-document YAML stream, what
// `kubectl apply -f -` takes.
func RenderYAML(dir string) ([]byte, error) {
	m, err := Render(dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}
