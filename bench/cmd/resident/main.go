// Command resident shows which parts of a running Go binary are resident:
// it reads /proc/PID/pagemap for every page the process maps and charges
// each resident page of the binary to its ELF section (the pclntab split
// into its tables) and to the packages whose symbols lie on it, so that
// idle RSS can be traced to what touched it. Build the binary without -s
// (the symbol table names the packages) but otherwise as measured:
//
//	CGO_ENABLED=0 go build -trimpath -o /tmp/app ./cmd/app
//	go run ./bench/cmd/resident -pid $(pidof app) -bin /tmp/app
//
// Reading pagemap needs the same user as the process (or root).
package main

import (
	"flag"
	"log"
	"os"
)

func main() {
	pid := flag.Int("pid", 0, "the process")
	bin := flag.String("bin", "", "its executable, with its symbol table (built without -s)")
	top := flag.Int("top", 40, "packages listed")
	flag.Parse()
	if *pid == 0 || *bin == "" {
		flag.Usage()
		os.Exit(2)
	}
	r, err := measure(*pid, *bin)
	if err != nil {
		log.Fatal(err)
	}
	r.print(os.Stdout, *top)
}
