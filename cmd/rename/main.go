// Command rename gives a service started from this repository its own
// name, after gonew has given it its module path (docs/starting.md):
//
//	go run ./cmd/rename shop    # or: make rename name=shop
//
// It rewrites buildinfo.Service, from which the Go code and the base
// manifests derive the name, and the files that cannot derive it; then
// `make rename` regenerates the derived files. Running it again with the
// same name changes nothing.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("dir", ".", "root of the repository")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: rename [-dir DIR] NAME")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	res, err := Rename(*dir, flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rename:", err)
		os.Exit(1)
	}
	if len(res.Changed) == 0 {
		fmt.Printf("the service is named %s already: nothing changed\n", res.New)
		return
	}
	if res.Old == res.New {
		fmt.Printf("the service is named %s already; pointed at go.mod's module:\n", res.New)
	} else {
		fmt.Printf("renamed the service %s to %s:\n", res.Old, res.New)
	}
	for _, p := range res.Changed {
		fmt.Println("  " + p)
	}
}
