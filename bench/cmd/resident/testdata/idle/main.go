// Command idle says ready and waits for its standard input to close: a
// process for the resident test to measure.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}
