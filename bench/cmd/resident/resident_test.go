package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMeasuresAProcess: a running Go program (built with its symbol
// table, as the command asks) is resident where it ran: its code, the
// runtime's among it, the pclntab's function table, and its heap.
func TestMeasuresAProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "idle")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/idle").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("idle said %q, %v", line, err)
	}

	r, err := measure(cmd.Process.Pid, bin)
	if err != nil {
		t.Fatal(err)
	}
	if r.bySection[".text"] == 0 || r.bySection[".gopclntab:functab"] == 0 || r.bySection["anonymous"] == 0 {
		t.Errorf("sections %v: want resident .text, .gopclntab:functab and anonymous pages", r.bySection)
	}
	if r.byPackage[".text runtime"] == 0 {
		t.Errorf("no resident runtime code among %v", r.byPackage)
	}
	var out strings.Builder
	r.print(&out, 5)
	if !strings.Contains(out.String(), "resident by section") || !strings.Contains(out.String(), ".text runtime") {
		t.Errorf("report: %s", out.String())
	}
}

func TestPackageOf(t *testing.T) {
	for sym, want := range map[string]string{
		"net/http.(*Client).Do":                   "net/http",
		"runtime.main":                            "runtime",
		"type:*example.com/shop/ent.User":         "example.com/shop/ent",
		"go:func.*":                               "func",
		"modernc.org/sqlite/lib._sqlite3VdbeExec": "modernc.org/sqlite/lib",
	} {
		if got := packageOf(sym); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", sym, got, want)
		}
	}
}
