package processtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// keepAliveClient sends requests on one raw connection at a time, with no
// retries: what a client sees is what the server did.
type keepAliveClient struct {
	addr     string
	request  func() string
	want     int
	pause    time.Duration
	conn     net.Conn
	br       *bufio.Reader
	used     bool // a response was read on conn
	dialedAt int64
}

type keepAliveCounts struct {
	sigtermAt  atomic.Int64 // unix nanos
	ok, okLate atomic.Int64 // okLate: after SIGTERM
	closes     atomic.Int64 // responses that said Connection: close
	keptAlive  atomic.Int64 // responses on a connection that had answered before
	refusedNew atomic.Int64 // new connections the closing server refused
	mu         sync.Mutex
	failures   []string
}

func (k *keepAliveCounts) fail(format string, a ...any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failures = append(k.failures, fmt.Sprintf(format, a...))
}

// dial opens a new connection. After SIGTERM a refused dial is the signal
// to stop.
func (c *keepAliveClient) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn, c.br, c.used, c.dialedAt = conn, bufio.NewReader(conn), false, time.Now().UnixNano()
	return nil
}

// run sends requests until the server has closed this client's connection
// after a Connection: close response and refuses a new one.
func (c *keepAliveClient) run(k *keepAliveCounts, stopBy time.Time) {
	if err := c.dial(); err != nil {
		k.fail("first dial: %v", err)
		return
	}
	for time.Now().Before(stopBy) {
		_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
		res, err := c.exchange()
		switch {
		case err != nil && c.isRefusedNew(k):
			// A connection dialed after SIGTERM that the server never
			// served (closed listener, reset from the accept queue):
			// the server is gone for new connections, as intended.
			k.refusedNew.Add(1)
			_ = c.conn.Close()
			return
		case err != nil:
			k.fail("request on an open connection (used=%v, SIGTERM %s ago): %v", c.used,
				time.Duration(time.Now().UnixNano()-k.sigtermAt.Load()), err)
			_ = c.conn.Close()
			return
		case res.status != c.want:
			k.fail("status %d, want %d", res.status, c.want)
		default:
			k.ok.Add(1)
			if s := k.sigtermAt.Load(); s != 0 {
				k.okLate.Add(1)
			}
		}
		if c.used {
			k.keptAlive.Add(1)
		}
		c.used = true
		if res.close {
			k.closes.Add(1)
			_ = c.conn.Close()
			if err := c.dial(); err != nil {
				if k.sigtermAt.Load() == 0 {
					k.fail("dial before SIGTERM: %v", err)
				} else {
					k.refusedNew.Add(1)
				}
				return
			}
			continue
		}
		if c.pause > 0 {
			time.Sleep(c.pause)
		}
	}
	k.fail("client still running at the deadline")
}

// answer is what matters of a response here.
type answer struct {
	status int
	close  bool // Connection: close
}

func (c *keepAliveClient) exchange() (answer, error) {
	if _, err := io.WriteString(c.conn, c.request()); err != nil {
		return answer{}, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return answer{}, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return answer{status: res.StatusCode, close: res.Close}, err
}

// isRefusedNew: the failed request was the first on a connection dialed
// after SIGTERM, and nothing came back.
func (c *keepAliveClient) isRefusedNew(k *keepAliveCounts) bool {
	s := k.sigtermAt.Load()
	return s != 0 && !c.used && c.dialedAt > s
}

// TestSIGTERMKeepAliveClientsLoseNothing: keep-alive clients on raw
// connections (no retries) keep sending logins and authenticated GETs,
// some with a pause between requests, through SIGTERM, with
// HTTP_SHUTDOWN_DELAY=0 (the Kubernetes setting: the listener closes at
// once) and with a delay (clients reconnect and keep sending while
// readiness fails, each new connection told to close). From the moment readiness
// fails every response says Connection: close, and the server closes a
// connection only after such a response, or once it has been idle for the
// idle grace: no request sent on an existing connection fails. A refused
// new connection after the listener closed is each client's signal to
// stop, counted apart. Idle connections are closed by the server, and the
// process exits cleanly.
func TestSIGTERMKeepAliveClientsLoseNothing(t *testing.T) {
	for _, delay := range []string{"0s", "300ms"} {
		t.Run("delay="+delay, func(t *testing.T) { keepAliveThroughSIGTERM(t, delay) })
	}
}

func keepAliveThroughSIGTERM(t *testing.T, delay string) {
	const email, password = "root@example.test", "a long superuser passphrase"
	s := startServer(t, map[string]string{
		"HTTP_SHUTDOWN_DELAY":       delay,
		"HTTP_SHUTDOWN_TIMEOUT":     "30s",
		"FIRST_SUPERUSER_EMAIL":     email,
		"FIRST_SUPERUSER_PASSWORD":  password,
		"PASSWORD_HASH_ITERATIONS":  "1",
		"PASSWORD_HASH_MEMORY_KIB":  "8192",
		"PASSWORD_HASH_CONCURRENCY": "2",
		// 24 clients sign in as one account from one address, many at a
		// time: sign-ins in flight count against the throttle, which this
		// test is not about.
		"PASSWORD_HASH_QUEUE":            "64",
		"PASSWORD_HASH_QUEUE_TIMEOUT":    "30s",
		"AUTH_THROTTLE_ACCOUNT_IP_LIMIT": "1000",
		"AUTH_THROTTLE_ACCOUNT_LIMIT":    "2000",
		"AUTH_THROTTLE_IP_LIMIT":         "100000",
	})
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}.Encode()
	res, err := http.Post(s.base+"/api/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	_ = res.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("login: %d %v", res.StatusCode, err)
	}
	login := func() string {
		return "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(form), form)
	}
	me := func() string {
		return "GET /api/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.AccessToken + "\r\n\r\n"
	}

	var clients []*keepAliveClient
	for i := range 24 {
		c := &keepAliveClient{addr: s.addr, request: me, want: http.StatusOK}
		switch {
		case i < 8:
			c.request = login
		case i%3 == 0:
			c.pause = time.Duration(i) * time.Millisecond // idle gaps between requests
		}
		clients = append(clients, c)
	}
	// Connections that go quiet before the signal and send nothing more.
	var idle []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if _, err := io.WriteString(c, me()); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("idle connection's request: %v %v", res, err)
		}
		_ = res.Body.Close()
		idle = append(idle, c)
	}

	k := &keepAliveCounts{}
	stopBy := time.Now().Add(90 * time.Second)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c.run(k, stopBy)
		}()
	}
	close(start)
	// Under load for a while: every client has sent several requests.
	for k.ok.Load() < int64(20*len(clients)) {
		if time.Now().After(stopBy) {
			t.Fatalf("load never built up (%d ok): %v", k.ok.Load(), k.failures)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if k.closes.Load() != 0 {
		t.Fatalf("%d responses said Connection: close before SIGTERM", k.closes.Load())
	}
	k.sigtermAt.Store(time.Now().UnixNano())
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	// The quiet connections were closed by the server, not left open.
	for _, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("an idle connection was not closed by the server: %v", err)
		}
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the process did not exit after SIGTERM")
	}
	t.Logf("%d requests ok (%d after SIGTERM, %d on reused connections), %d Connection: close responses, %d new connections refused, %d failed",
		k.ok.Load(), k.okLate.Load(), k.keptAlive.Load(), k.closes.Load(), k.refusedNew.Load(), len(k.failures))
	if len(k.failures) > 0 {
		t.Fatalf("%d requests failed on existing connections during shutdown, e.g. %v\n%s", len(k.failures), k.failures[:min(len(k.failures), 5)], tail(s.logs.String(), 2000))
	}
	if k.okLate.Load() == 0 || k.closes.Load() < int64(len(clients)) {
		t.Fatalf("the signal was not crossed under load: %d ok after SIGTERM, %d close responses for %d clients", k.okLate.Load(), k.closes.Load(), len(clients))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
