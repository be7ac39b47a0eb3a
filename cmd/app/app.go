// Command app is the serving binary of the service: it serves the API,
// runs migrations and administers users and keys. The development tools
// are in cmd/app-dev, so the binary that ships does not carry them.
package main

import "github.com/acme/monolith/cmd/internal/appcmd"

func main() {
	appcmd.Execute(appcmd.NewRoot(nil))
}
