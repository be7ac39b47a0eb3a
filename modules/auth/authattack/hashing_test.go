package authattack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/testkit"
)

// hashingApp starts an application with one hashing slot and hashes slow
// enough (production memory, more passes) that requests pile up behind
// it, and lifts the throttles: the hasher's queue is what is tested.
func hashingApp(t *testing.T, queue int, wait time.Duration) (*apptest.App, *password.Hasher) {
	t.Helper()
	var h *password.Hasher
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithConfig(func(c *config.Config) {
		c.Password.MemoryKiB, c.Password.Iterations, c.Password.Concurrency = 19456, 6, 1
		c.Password.Queue, c.Password.QueueTimeout = queue, wait
	}), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "1000"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "200000"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "1000000"), testkit.WithEnv("REGISTER_THROTTLE_IP_LIMIT", "100000"), testkit.WithFx(fx.Populate(&h)))
	return app, h
}

// rawLogin sends a login on a new connection from the loopback address
// src and returns the connection, unread.
func rawLogin(app *apptest.App, src, email, pw string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		return nil, err
	}
	body := url.Values{"grant_type": {"password"}, "username": {email}, "password": {pw}}.Encode()
	_, err = fmt.Fprintf(c, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// waitUntil polls cond, bounded.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 3000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestDroppedLoginsAreNotHashed: clients that send a login and close the
// connection at once, over real sockets, while a genuine login holds the
// only hashing slot: none of them is hashed (the hasher's counter moves by
// the genuine login alone); each leaves the queue when its client has
// gone. fasthttp never cancels a request's context, so without the
// connection probe every one of them was hashed for nobody.
func TestDroppedLoginsAreNotHashed(t *testing.T) {
	app, h := hashingApp(t, 100, 30*time.Second)
	u := app.NewUser(false)
	before := h.Stats()

	genuine := make(chan int, 1)
	go func() {
		res, err := app.HTTP.PostForm(app.URL+"/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}})
		if err != nil {
			genuine <- 0
			return
		}
		_ = res.Body.Close()
		genuine <- res.StatusCode
	}()
	const dropped = 20
	for i := range dropped {
		c, err := rawLogin(app, "127.0.0.2", u.Email, "dropped guess "+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	if st := <-genuine; st != http.StatusOK {
		t.Fatalf("the genuine login: %d", st)
	}
	// Every request is done with once it was hashed or abandoned.
	waitUntil(t, "every login was hashed or abandoned", func() bool {
		s := h.Stats()
		return s.Waiting == 0 && (s.Computed-before.Computed)+(s.ClientGone-before.ClientGone) == dropped+1
	})
	s := h.Stats()
	t.Logf("stats before %+v, after %+v", before, s)
	if hashed := s.Computed - before.Computed; hashed != 1 {
		t.Fatalf("%d hashes computed for 1 genuine and %d dropped logins, want 1", hashed, dropped)
	}
}

// TestHashingFloodIsRefused: a burst of logins and registrations from one
// address against one hashing slot and a queue of two: the queue does not
// grow, the refused get 503 with Retry-After (RFC 6749
// temporarily_unavailable at the token endpoint, problem JSON
// server_busy elsewhere) at once instead of waiting behind the flood, and
// every request that was not refused was hashed exactly once. Once the
// flood has been answered, a genuine login from another address is served.
func TestHashingFloodIsRefused(t *testing.T) {
	app, h := hashingApp(t, 2, 10*time.Second)
	u := app.NewUser(false)
	before := h.Stats()

	const n = 40
	type answer struct {
		path, body, retryAfter, contentType string
		status                              int
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var res *http.Response
			var err error
			path := "/api/auth/login"
			if i%2 == 0 {
				res, err = app.HTTP.PostForm(app.URL+path, url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("nobody%d@example.test", i)}, "password": {"flood guess"}})
			} else {
				path = "/api/auth/register"
				body, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("flood%d@example.test", i), "password": "a flood passphrase"})
				res, err = app.HTTP.Post(app.URL+path, "application/json", strings.NewReader(string(body)))
			}
			if err != nil {
				answers[i] = answer{path: path, body: err.Error()}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			answers[i] = answer{path, string(b), res.Header.Get("Retry-After"), res.Header.Get("Content-Type"), res.StatusCode}
		}()
	}
	close(start)
	wg.Wait()
	served, refused := 0, map[string]int{}
	for _, a := range answers {
		switch {
		case a.status == http.StatusServiceUnavailable && a.path == "/api/auth/login":
			if a.retryAfter == "" || a.contentType != "application/json" || !strings.Contains(a.body, `"error":"temporarily_unavailable"`) {
				t.Fatalf("token endpoint refusal: %+v", a)
			}
			refused[a.path]++
		case a.status == http.StatusServiceUnavailable:
			if a.retryAfter == "" || !strings.HasPrefix(a.contentType, "application/problem+json") || !strings.Contains(a.body, `"code":"server_busy"`) {
				t.Fatalf("registration refusal: %+v", a)
			}
			refused[a.path]++
		case a.status == http.StatusBadRequest || a.status == http.StatusCreated:
			served++
		default:
			t.Fatalf("unexpected answer: %+v", a)
		}
	}
	s := h.Stats()
	t.Logf("flood of %d: %d served, refused %v; stats %+v", n, served, refused, s)
	if refused["/api/auth/login"] == 0 || refused["/api/auth/register"] == 0 {
		t.Fatalf("no refusal of one kind in a flood of %d against 1 slot and a queue of 2: %v", n, refused)
	}
	if hashed := int(s.Computed - before.Computed); hashed != served || s.Waiting != 0 {
		t.Fatalf("%d hashes for %d served requests (%d waiting)", hashed, served, s.Waiting)
	}
	// The flood is over: a genuine login from elsewhere is served.
	c, err := rawLogin(app, "127.0.0.3", u.Email, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the genuine login after the flood: %v %v", res, err)
	}
	_ = res.Body.Close()
}
