package database_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
)

// scratchCluster is a Postgres cluster of its own (pg_createcluster), on
// a port in 5440-5449, so that a test can freeze the server itself; the
// shared server on 5432 is never touched.
type scratchCluster struct {
	version, name, dataDir string
	port                   int
}

// skipOrFail skips a test that needs a tool the machine lacks, except in
// CI, where the hole would go unnoticed.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (required in CI)", why)
	}
	t.Skipf("%s: skipping; CI=true makes this a failure", why)
}

func newScratchCluster(t *testing.T) *scratchCluster {
	t.Helper()
	if _, err := exec.LookPath("pg_createcluster"); err != nil {
		skipOrFail(t, "pg_createcluster is not installed (Debian's postgresql-common)")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "creating a cluster and signalling its processes needs root")
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(versions) == 0 {
		skipOrFail(t, "no Postgres server binaries under /usr/lib/postgresql")
	}
	sort.Strings(versions)
	version := filepath.Base(filepath.Dir(filepath.Dir(versions[len(versions)-1])))
	for port := 5440; port <= 5449; port++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // taken
		}
		_ = ln.Close()
		c := &scratchCluster{version: version, name: fmt.Sprintf("frozentest%d", port), port: port}
		if _, err := os.Stat(filepath.Join("/etc/postgresql", version, c.name)); err == nil {
			continue // another run's
		}
		out, err := exec.Command("pg_createcluster", version, c.name, "-p", strconv.Itoa(port), "--start",
			"--", "--auth=trust").CombinedOutput()
		if err != nil {
			_ = exec.Command("pg_dropcluster", "--stop", version, c.name).Run()
			t.Logf("pg_createcluster on port %d: %v\n%s", port, err, out)
			continue
		}
		c.dataDir = filepath.Join("/var/lib/postgresql", version, c.name)
		t.Cleanup(func() {
			c.thaw(t)
			if out, err := exec.Command("pg_dropcluster", "--stop", version, c.name).CombinedOutput(); err != nil {
				t.Errorf("pg_dropcluster %s: %v\n%s", c.name, err, out)
			}
		})
		return c
	}
	t.Fatal("no free port in 5440-5449 for a scratch cluster")
	return nil
}

// pids are the postmaster's and its children's (the backends, checkpointer...).
func (c *scratchCluster) pids(t *testing.T) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{postmaster}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ")".
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			pids = append(pids, pid)
		}
	}
	return pids
}

// freeze stops every process of the server (the postmaster first, so it
// forks no new backend): connections stay open, the kernel still accepts
// and acknowledges, nothing answers.
func (c *scratchCluster) freeze(t *testing.T) {
	t.Helper()
	for _, pid := range c.pids(t) {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
	}
}

func (c *scratchCluster) thaw(t *testing.T) {
	t.Helper()
	for _, pid := range c.pids(t) {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

// TestRealFrozenPostgres is TestFrozenDatabase against a real server whose
// processes are stopped with SIGSTOP, as the outside probe did: requests
// answer 503 database_unavailable (DB_QUERY_TIMEOUT is the only bound
// shorter than the client's patience), and after SIGCONT the same process
// serves again.
func TestRealFrozenPostgres(t *testing.T) {
	c := newScratchCluster(t)
	server := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	url, drop, err := migrator.CreatePostgresDatabase(context.Background(), server, "frozen")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	db, err := database.Open(config.Database{URL: url + "&connect_timeout=600", MaxOpenConns: 4, MaxIdleConns: 4,
		ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour, QueryTimeout: frozenQueryTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	app := apptest.Start(t, db)
	token := app.SuperuserToken()
	me := func() answer { return call(app.HTTP, http.MethodGet, app.URL+"/api/users/me", token, "") }
	rename := func() answer {
		return call(app.HTTP, http.MethodPatch, app.URL+"/api/users/me", token, `{"full_name":"frozen"}`)
	}
	if a := me(); a.status != http.StatusOK {
		t.Fatalf("control: %v", a)
	}

	c.freeze(t)
	app.HTTP.Timeout = 2 * time.Minute
	for name, do := range map[string]func() answer{"GET /api/users/me": me, "PATCH /api/users/me": rename} {
		if a := do(); a.status != http.StatusServiceUnavailable || a.code != "database_unavailable" {
			t.Errorf("%s on a stopped server: %v, want 503 database_unavailable", name, a)
		}
	}
	if a := call(app.HTTP, http.MethodGet, app.URL+"/readyz", "", ""); a.status != http.StatusServiceUnavailable {
		t.Errorf("readyz on a stopped server: %v", a)
	}

	c.thaw(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := rename()
		if a.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after SIGCONT: %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
