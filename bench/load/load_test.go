package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func get(url string) Call {
	return func(ctx context.Context, c *Client, _ int) error {
		status, body, err := c.Do(ctx, Request{Method: http.MethodGet, URL: url})
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return &StatusError{status, string(body)}
		}
		return nil
	}
}

func TestClosedLoopStopsAtTheRequestBudget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	res := Run(context.Background(), NewClient(4), Options{Workers: 4, Duration: time.Minute, MaxRequests: 200}, get(srv.URL))
	if res.Requests != 200 || res.Errors != 0 || res.P50 <= 0 || res.P99 < res.P50 {
		t.Fatalf("result = %+v", res)
	}
}

// TestErrorsAreCounted is the control: a failing server is not reported
// as healthy.
func TestErrorsAreCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusTeapot) }))
	defer srv.Close()
	res := Run(context.Background(), NewClient(2), Options{Workers: 2, Duration: time.Minute, MaxRequests: 10}, get(srv.URL))
	var se *StatusError
	if res.Errors != 10 || len(res.Samples) == 0 {
		t.Fatalf("result = %+v", res)
	}
	if err := get(srv.URL)(context.Background(), NewClient(1), 0); !errors.As(err, &se) || se.Status != http.StatusTeapot {
		t.Fatalf("err = %v", err)
	}
}

// TestOpenLoopCountsQueueingDelay: a server slower than the arrival rate
// shows the wait in the latency, which a closed loop would hide.
func TestOpenLoopCountsQueueingDelay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	// One worker, 200 req/s against a 50 req/s server: the last of 20
	// requests waits for the 19 before it, so it takes many times the fastest.
	res := Run(context.Background(), NewClient(1), Options{Workers: 1, Duration: time.Minute, MaxRequests: 20, Rate: 200}, get(srv.URL))
	if res.Requests != 20 || res.Max < 5*res.lat[0] {
		t.Fatalf("open loop hid the queue: %+v", res)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if Percentile(d, 0.5) != 50 || Percentile(d, 0.99) != 99 || Percentile(nil, 0.5) != 0 {
		t.Fatal("percentiles")
	}
}

// TestDoSendsTheRequest: method, body, content type and bearer token reach
// the server, and the body comes back whole.
func TestDoSendsTheRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, "%s|%s|%s|%s", r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b)
	}))
	defer srv.Close()
	status, body, err := NewClient(1).Do(context.Background(), Request{Method: http.MethodPatch, URL: srv.URL + "/x", Body: []byte("größe"), ContentType: "text/plain", Bearer: "tok"})
	if err != nil || status != http.StatusCreated || string(body) != "PATCH|text/plain|Bearer tok|größe" {
		t.Fatalf("status %d body %q err %v", status, body, err)
	}
}

// TestDoEndsAtTheContextDeadline: a server that never answers does not
// hold a worker past the run.
func TestDoEndsAtTheContextDeadline(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := NewClient(1).Do(ctx, Request{Method: http.MethodGet, URL: srv.URL}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

// TestTheRunsEndIsNotAnError: requests cut off when the run's time is up
// are not counted as the server's errors, however late the context's own
// timer fires after the client's deadline.
func TestTheRunsEndIsNotAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(5 * time.Millisecond)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	served := 0
	for range 5 {
		res := Run(context.Background(), NewClient(8), Options{Workers: 8, Duration: 200 * time.Millisecond}, get(srv.URL))
		if res.Errors != 0 {
			t.Fatalf("result = %+v", res)
		}
		served += res.Requests
	}
	if served == 0 {
		t.Fatal("no run served a request")
	}
}

// TestFailuresAreNotRetried: a server that drops the connection without
// answering is one error, seen by one connection, not a retry hidden from
// the error count.
func TestFailuresAreNotRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_, _ = conn.Read(make([]byte, 4096))
			_ = conn.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := NewClient(1).Do(ctx, Request{Method: http.MethodGet, URL: "http://" + ln.Addr().String() + "/"}); err == nil {
		t.Fatal("a dropped connection was a success")
	}
	if n := accepted.Load(); n != 1 {
		t.Fatalf("the server saw %d connections for one request: the client retried", n)
	}
}

// TestCutOffMidResponseIsTheDeadline: a response still arriving when the
// run's time is up ends with the connection's read deadline, which is the
// run's end too, not the server's error.
func TestCutOffMidResponseIsTheDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	release := make(chan struct{})
	defer close(release)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				_, _ = conn.Read(make([]byte, 4096))
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"))
				<-release
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := NewClient(1).Do(ctx, Request{Method: http.MethodGet, URL: "http://" + ln.Addr().String() + "/"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the run's deadline", err)
	}
}
