package load

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func get(url string) Call {
	return func(ctx context.Context, c *http.Client, _ int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return &StatusError{res.StatusCode, string(body)}
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
