package httpserver_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Secrets carried by the hostile requests below: none may come back.
const (
	secretBearer   = "Bearer eyJ-secret-bearer-value"
	secretPassword = "hunter2-secret-password"
)

// smuggled is a second request hidden behind the first one's body. A server
// that answers it has been desynchronised.
const smuggled = "GET /api/users/me HTTP/1.1\r\nHost: x\r\nX-Smuggled: yes\r\n\r\n"

// exchange is what a server sent back on one raw connection.
type exchange struct {
	status int
	header http.Header
	close  bool   // the response said Connection: close
	body   []byte // the first response's body
	rest   []byte // anything sent after the first response
	closed bool   // the server closed the connection (rather than keeping it open)
}

// rawExchange writes req in one write and reads everything the server sends
// until it closes the connection or a few seconds pass.
func rawExchange(t *testing.T, addr, req string) exchange {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	// Anything after the first response is a second answer; a closed
	// connection ends the read with EOF (or a reset, if unread bytes were
	// left behind), an open one with the deadline.
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	rest, err := io.ReadAll(br)
	var ne net.Error
	closed := err == nil || errors.Is(err, syscall.ECONNRESET)
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		closed = false
	}
	return exchange{status: res.StatusCode, header: res.Header, close: res.Close, body: body, rest: rest, closed: closed}
}

// TestStrictFraming sends requests that RFC 9112 says must be refused with
// 400 and a closed connection (§3.2 Host, §5.1 no whitespace before the
// colon, §5.2 obs-fold, §6.1 Content-Length with Transfer-Encoding, §6.3
// invalid or repeated Content-Length, unknown codings), each followed by a
// smuggled request in the same write. Every one gets 400 problem JSON with
// the security headers and no byte of the request (credentials included),
// the connection closes, and the smuggled request is never answered.
func TestStrictFraming(t *testing.T) {
	app := start(t)
	addr := strings.TrimPrefix(app.URL, "http://")
	form := "grant_type=password&username=a%40example.test&password=" + secretPassword
	head := "POST /api/auth/login HTTP/1.1\r\nAuthorization: " + secretBearer + "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	chunked := "\r\n" + hexLen(form) + "\r\n" + form + "\r\n0\r\n\r\n"
	cases := []struct{ name, req string }{
		{"content-length-and-transfer-encoding", head + "Host: x\r\nContent-Length: " + itoa(len(chunked)-2) + "\r\nTransfer-Encoding: chunked\r\n" + chunked},
		{"transfer-encoding-then-content-length", head + "Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n" + chunked},
		{"duplicate-host", head + "Host: x\r\nHost: y\r\nContent-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"missing-host", head + "Content-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"space-before-colon", head + "Host: x\r\nTransfer-Encoding : chunked\r\nContent-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"tab-before-colon", head + "Host: x\r\nContent-Length\t: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"duplicate-content-length", head + "Host: x\r\nContent-Length: " + itoa(len(form)) + "\r\nContent-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"content-length-list", head + "Host: x\r\nContent-Length: " + itoa(len(form)) + ", " + itoa(len(form)) + "\r\n\r\n" + form},
		{"content-length-sign", head + "Host: x\r\nContent-Length: +" + itoa(len(form)) + "\r\n\r\n" + form},
		{"obs-fold", head + "Host: x\r\nX-Folded: a\r\n b\r\nContent-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"transfer-encoding-gzip-chunked", head + "Host: x\r\nTransfer-Encoding: gzip, chunked\r\n" + chunked},
		{"transfer-encoding-identity", head + "Host: x\r\nTransfer-Encoding: identity\r\nContent-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"transfer-encoding-twice", head + "Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n" + chunked},
		{"transfer-encoding-http10", strings.Replace(head, "HTTP/1.1", "HTTP/1.0", 1) + "Host: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n" + chunked},
		{"bare-lf", strings.ReplaceAll(head+"Host: x\r\nContent-Length: "+itoa(len(form))+"\r\n", "\r\n", "\n") + "\n" + form},
		{"invalid-field-name", head + "Host: x\r\nBad[Name]: 1\r\nContent-Length: " + itoa(len(form)) + "\r\n\r\n" + form},
		{"no-method-separator", "POST/api/auth/login?password=" + secretPassword + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + secretBearer + "\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := rawExchange(t, addr, c.req+smuggled)
			body, rest := x.body, x.rest
			if x.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400: %s", x.status, body)
			}
			var p struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
				Detail string `json:"detail"`
			}
			if ct := x.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") || json.Unmarshal(body, &p) != nil || p.Status != 400 || p.Code != "invalid_framing" {
				t.Errorf("want problem JSON with code invalid_framing, got %s %s", ct, body)
			}
			for _, leak := range []string{secretBearer, "secret-bearer", secretPassword, "Authorization", "X-Smuggled", "Host:"} {
				if bytes.Contains(body, []byte(leak)) || bytes.Contains(rest, []byte(leak)) {
					t.Errorf("the response echoes request bytes (%q): %s", leak, body)
				}
			}
			requireSecurityHeaders(t, x.header)
			if !x.close {
				t.Errorf("the response does not say Connection: close: %v", x.header)
			}
			if !x.closed {
				t.Error("the connection stayed open after the 400")
			}
			if bytes.Contains(rest, []byte("HTTP/1.1")) {
				t.Errorf("the smuggled request was answered: %q", rest)
			}
		})
	}

	// Control: the same connection handling serves a pipelined second
	// request when the first is well framed, so the checks above can see
	// a smuggled answer when there is one.
	t.Run("control-pipelined", func(t *testing.T) {
		ok := "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
		x := rawExchange(t, addr, ok+"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if x.status != http.StatusOK || !bytes.Contains(x.rest, []byte("HTTP/1.1 200")) {
			t.Fatalf("pipelined control: %d, then %q", x.status, x.rest)
		}
	})
}

// requireSecurityHeaders checks the baseline every response carries, errors
// raised before any middleware ran included.
func requireSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", h.Get("Content-Security-Policy"))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func hexLen(s string) string { return strconv.FormatInt(int64(len(s)), 16) }

// bufioReader and readAll keep the raw-socket helpers short.
func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

func readAll(res *http.Response) []byte {
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	return b
}
