package processtest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects the server's log while the test reads it.
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

func inFlight(t *testing.T, metricsAddr string) int {
	t.Helper()
	res, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return -1
	}
	defer func() { _ = res.Body.Close() }()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "http_requests_in_flight "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

// TestSIGTERMDrainsInFlightRequests runs the real binary, keeps it busy with
// slow requests (password hashing, one at a time), sends SIGTERM and
// checks: readiness fails at once while requests are still served, every
// request sent before SIGTERM gets its 200, new connections are refused
// after the drain starts, the database closes last and the exit is clean.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	const email, password = "root@example.test", "a long superuser passphrase"
	p := launch(t, binary, map[string]string{
		"DATABASE_URL":             "sqlite://" + filepath.Join(t.TempDir(), "app.db"),
		"JWT_PRIVATE_KEY_FILE":     filepath.Join(t.TempDir(), "key.pem"),
		"HTTP_ADDR":                addr,
		"METRICS_ADDR":             metricsAddr,
		"HTTP_SHUTDOWN_DELAY":      "300ms",
		"HTTP_SHUTDOWN_TIMEOUT":    "30s",
		"FIRST_SUPERUSER_EMAIL":    email,
		"FIRST_SUPERUSER_PASSWORD": password,
		// Slow, serialised hashing makes every login a long in-flight
		// request: eight queued logins take several times the shutdown
		// delay even on a fast, quiet machine (with 10 iterations and a 1s
		// delay they could all finish inside the delay, leaving nothing to
		// drain).
		"PASSWORD_HASH_ITERATIONS":  "20",
		"PASSWORD_HASH_CONCURRENCY": "1",
		// They queue on purpose: let them wait the longest allowed, not 2s.
		"PASSWORD_HASH_QUEUE_TIMEOUT": "30s",
		// Eight simultaneous sign-ins of one account from one address are
		// more than the throttle lets be in flight at once (5).
		"AUTH_THROTTLE_ACCOUNT_IP_LIMIT": "100",
		"AUTH_THROTTLE_ACCOUNT_LIMIT":    "200",
		"AUTH_THROTTLE_IP_LIMIT":         "1000",
		"LOG_LEVEL":                      "info",
	}, "serve")

	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready:\n%s", p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	const workers = 8
	var (
		stop              atomic.Bool
		sigtermAt         atomic.Int64 // unix nanos
		refusedAt         atomic.Int64 // first refused connection after SIGTERM
		ok, okAfterClosed atomic.Int64
		mu                sync.Mutex
		failures          []string
		wg                sync.WaitGroup
	)
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}.Encode()
	client := &http.Client{Timeout: 60 * time.Second}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() { // bounded: no request starts after SIGTERM
				res, err := client.Post(base+"/api/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form))
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					mu.Lock()
					failures = append(failures, res.Status)
					mu.Unlock()
					return
				}
				ok.Add(1)
				if r := refusedAt.Load(); r != 0 && time.Now().UnixNano() > r {
					okAfterClosed.Add(1)
				}
			}
		}()
	}

	// Wait until the load has run a while and every worker has a request
	// inside the server.
	deadline = time.Now().Add(60 * time.Second)
	for ok.Load() < workers || inFlight(t, metricsAddr) < workers { // under load for a while
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("the load never reached %d in-flight requests (now %d, %d ok, failures %v)\n%s", workers, inFlight(t, metricsAddr), ok.Load(), failures, p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	sigtermAt.Store(time.Now().UnixNano())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// Readiness fails at once, while the server still answers.
	sawNotReady := false
	for range 50 {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable {
				sawNotReady = true
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !sawNotReady {
		t.Error("readiness did not turn 503 after SIGTERM")
	}
	// Then the listener closes: new connections are refused.
	deadline = time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refusedAt.Store(time.Now().UnixNano())
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server kept accepting connections after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}

	wg.Wait()
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs.String())
	}
	if len(failures) > 0 {
		t.Fatalf("%d in-flight requests failed during shutdown: %v", len(failures), failures)
	}
	if okAfterClosed.Load() == 0 {
		t.Fatalf("no request finished after the listener closed (%d ok): the drain was not exercised", ok.Load())
	}
	t.Logf("%d requests succeeded, %d of them after the listener closed; 0 failed", ok.Load(), okAfterClosed.Load())

	out := p.logs.String()
	drain, closing := strings.Index(out, "draining"), strings.Index(out, "closing the database pool")
	if drain < 0 || closing < 0 || closing < drain {
		t.Fatalf("want draining, then the database closed, in that order:\n%s", out)
	}
}

// TestSIGTERMDuringStartStopsCleanly: a SIGTERM that arrives while the
// server is starting (a pod deleted as it comes up) stops it cleanly once
// it has started, as one sent later does; it does not kill it. Each round
// signals as soon as a start hook has logged, while the others still run.
func TestSIGTERMDuringStartStopsCleanly(t *testing.T) {
	for round := range 5 {
		p := launch(t, binary, map[string]string{
			"DATABASE_URL":         "sqlite://" + filepath.Join(t.TempDir(), "app.db"),
			"JWT_PRIVATE_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"),
			"HTTP_ADDR":            freeAddr(t),
			"METRICS_ADDR":         freeAddr(t),
			"LOG_LEVEL":            "info",
		}, "serve")
		for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p.logs.String(), "metrics listening"); time.Sleep(100 * time.Microsecond) {
			select {
			case err := <-p.exited:
				t.Fatalf("round %d: exited before starting: %v\n%s", round, err, p.logs.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no start hook ran within 60s:\n%s", round, p.logs.String())
			}
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.wait(t, 60*time.Second); err != nil {
			t.Fatalf("round %d: SIGTERM during the start: %v, want a clean stop\n%s", round, err, p.logs.String())
		}
	}
}
