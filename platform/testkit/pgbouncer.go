package testkit

import (
	"bytes"
	"fmt"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// PgBouncer is a real PgBouncer in transaction pooling mode in front of
// the test server (PostgresDirectURL), started for one test.
type PgBouncer struct {
	// Addr is its host:port on loopback.
	Addr string
	// PoolSize is its default_pool_size: the server connections it opens
	// per database, far fewer than a burst of clients.
	PoolSize int
}

// StartPgBouncer starts PgBouncer (the Debian package's binary) on a free
// loopback port, stopped when the test ends. Without the binary the test
// is skipped, except with CI=true, where it fails: .ci/run installs it.
func StartPgBouncer(t testing.TB, poolSize int) *PgBouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pgbouncer is not installed (apt-get install pgbouncer; .ci/run does): required in CI")
		}
		t.Skip("pgbouncer is not installed (apt-get install pgbouncer): skipping; CI=true makes this a failure")
	}
	RequirePostgres(t)
	server, err := neturl.Parse(PostgresDirectURL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_DIRECT_URL: %v", err)
	}
	user := server.User.Username()
	if user == "" {
		user = "postgres"
	}
	port := freePort(t)
	// PgBouncer refuses to run as root: it switches to nobody, who must
	// reach and read the files (t.TempDir's parent is private).
	dir, err := os.MkdirTemp("", "pgbouncer-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // config without secrets, read by nobody
		t.Fatal(err)
	}
	ini := PgBouncerINI(server.Hostname(), server.Port(), "127.0.0.1", port, poolSize, filepath.Join(dir, "users.txt"))
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(strconv.Quote(user)+` ""`+"\n"), 0o644); err != nil { //nolint:gosec // see above
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil { //nolint:gosec // see above
		t.Fatal(err)
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // the pgbouncer binary found on PATH, with a config written above
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			_ = err // a signalled exit: nothing to report
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			err := <-exited
			_ = err // killed: nothing to report
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("pgbouncer exited: %v\n%s", err, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer does not listen on %s\n%s", addr, out.String())
		}
	}
	return &PgBouncer{Addr: addr, PoolSize: poolSize}
}

// URL is url (a database on the test server) reached through PgBouncer,
// with query added to its parameters (e.g. "default_query_exec_mode=exec").
func (p *PgBouncer) URL(t testing.TB, url, query string) string {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr
	if query != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += query
	}
	return u.String()
}

// PgBouncerINI is the configuration of a PgBouncer in transaction mode on
// listenHost:listenPort in front of the server at host:port; .ci/run writes
// the same settings. Every database is reachable (the tests create one per
// test); statement_timeout, which the app sends at connection start, is
// ignored (the role's setting stands in, see docs/operations.md), as is
// extra_float_digits, which some clients send.
func PgBouncerINI(host, port, listenHost string, listenPort, poolSize int, authFile string) string {
	if port == "" {
		port = "5432"
	}
	return fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = %s
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 1000
max_db_connections = 0
ignore_startup_parameters = statement_timeout,extra_float_digits
server_idle_timeout = 10
log_connections = 0
log_disconnections = 0
`, host, port, listenHost, listenPort, authFile, poolSize)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
