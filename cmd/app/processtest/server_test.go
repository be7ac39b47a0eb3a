package processtest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// server is the real binary serving on a loopback port.
type server struct {
	cmd    *exec.Cmd
	addr   string
	base   string
	logs   *syncBuffer
	exited chan error
}

// startServer runs `app serve` on SQLite with env added to the minimal
// environment, and waits until /readyz answers 200.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	s := &server{addr: freeAddr(t), logs: &syncBuffer{}, exited: make(chan error, 1)}
	s.base = "http://" + s.addr
	full := map[string]string{
		"DATABASE_URL":         "sqlite://" + filepath.Join(t.TempDir(), "app.db"),
		"JWT_PRIVATE_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"),
		"HTTP_ADDR":            s.addr,
		"METRICS_ADDR":         freeAddr(t),
		"LOG_LEVEL":            "warn",
	}
	for k, v := range env {
		full[k] = v
	}
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = environ(full)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready:\n%s", s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rssKiB is the server's resident set size (VmRSS), in KiB.
func (s *server) rssKiB(t *testing.T) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// dialFrom opens a connection from a chosen loopback source address (all
// of 127.0.0.0/8 is local), so that one test is many clients.
func dialFrom(src, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	return d.Dial("tcp", addr)
}
