package processtest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadyServeReleasesWhatStartUpTouchedOfItsBinary starts `serve` and
// reads /proc/PID/smaps: initialising the linked packages and building the
// graph make about two thirds of the binary's code and read-only data
// resident, a ready server keeps under half of it, and it still serves
// what it dropped (the pages come back from the page cache). With
// RELEASE_STARTUP_PAGES=false it keeps them.
func TestReadyServeReleasesWhatStartUpTouchedOfItsBinary(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skipf("no /proc/PID/smaps here: %v", err)
	}
	s := startServer(t, map[string]string{"LOG_LEVEL": "info"})
	waitForLog(t, s, "start-up pages of the executable released")
	resident, size := readOnlyBinaryKiB(t, s.cmd.Process.Pid)
	if resident*2 > size {
		t.Fatalf("ready server holds %d KiB of its binary's %d KiB of code and read-only data resident; want at most half\n%s", resident, size, s.logs.String())
	}
	t.Logf("resident: %d KiB of %d KiB of code and read-only data", resident, size)
	if strings.Contains(s.logs.String(), "start-up pages of the executable: ") {
		t.Fatalf("the release warned:\n%s", s.logs.String())
	}
	for _, path := range []string{"/readyz", "/openapi.json", "/api/users/me"} {
		res, err := http.Get(s.base + path)
		if err != nil {
			t.Fatalf("GET %s after the release: %v\n%s", path, err, s.logs.String())
		}
		_ = res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("GET %s after the release: %d\n%s", path, res.StatusCode, s.logs.String())
		}
	}

	// The choice is logged where the release would have run.
	kept := startServer(t, map[string]string{"RELEASE_STARTUP_PAGES": "false", "LOG_LEVEL": "info"})
	waitForLog(t, kept, "start-up pages of the executable kept")
	if r, n := readOnlyBinaryKiB(t, kept.cmd.Process.Pid); r*2 <= n {
		t.Fatalf("with RELEASE_STARTUP_PAGES=false: %d of %d KiB resident, as if released\n%s", r, n, kept.logs.String())
	}
	if strings.Contains(kept.logs.String(), "start-up pages of the executable released") {
		t.Fatalf("with RELEASE_STARTUP_PAGES=false the process released its pages:\n%s", kept.logs.String())
	}
}

// waitForLog waits until the server has logged line.
func waitForLog(t *testing.T, s *server, line string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(s.logs.String(), line); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the server's log:\n%s", line, s.logs.String())
		}
	}
}

// readOnlyBinaryKiB sums Rss and Size over the process's mappings of the
// test's binary that have no write permission.
func readOnlyBinaryKiB(t *testing.T, pid int) (resident, size int) {
	t.Helper()
	st, err := os.Stat(binary)
	if err != nil {
		t.Fatal(err)
	}
	ino := strconv.FormatUint(st.Sys().(*syscall.Stat_t).Ino, 10)
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) >= 5 && strings.Contains(fs[0], "-"):
			in = fs[4] == ino && !strings.Contains(fs[1], "w")
		case in && len(fs) == 3 && (fs[0] == "Rss:" || fs[0] == "Size:"):
			n, err := strconv.Atoi(fs[1])
			if err != nil {
				t.Fatal(err)
			}
			if fs[0] == "Rss:" {
				resident += n
			} else {
				size += n
			}
		}
	}
	if size == 0 {
		t.Fatalf("no read-only mapping of %s in /proc/%d/smaps", binary, pid)
	}
	return resident, size
}
