// Command render prints the manifests of a kustomization directory, like
// `kustomize build`, with the same library the tests use:
//
//	go run ./deploy/cmd/render deploy/overlays/prod | kubectl apply -f -
package main

import (
	"fmt"
	"os"

	"github.com/acme/monolith/deploy"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: render DIR (e.g. deploy/overlays/prod)")
		os.Exit(2)
	}
	out, err := deploy.RenderYAML(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(out)
}
