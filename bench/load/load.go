// Package load is the benchmark harness's load generator: it drives an HTTP
// server from its own process, either as fast as a fixed number of workers
// can (closed loop, to find the maximum rate) or at a fixed arrival rate
// (open loop, latency counted from the scheduled start so a stalled server
// cannot hide its queue: no coordinated omission). Every run is bounded by
// time and by a request count.
package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Call performs one request for worker w and reports whether it succeeded
// (the expected status and body).
type Call func(ctx context.Context, c *Client, w int) error

// Options bound a run.
type Options struct {
	Workers     int
	Duration    time.Duration
	MaxRequests int
	// Rate, when positive, makes the run open-loop: requests start at this
	// many per second whatever the latency.
	Rate float64
}

// Result summarises a run.
type Result struct {
	Requests int             `json:"requests"`
	Errors   int             `json:"errors"`
	Elapsed  time.Duration   `json:"elapsed_ns"`
	Rate     float64         `json:"req_per_s"`
	P50      time.Duration   `json:"p50_ns"`
	P99      time.Duration   `json:"p99_ns"`
	Max      time.Duration   `json:"max_ns"`
	Samples  []string        `json:"error_samples,omitempty"`
	lat      []time.Duration // successful and failed requests alike
}

// Client is the generator's keep-alive HTTP/1.1 client. It is fasthttp's
// rather than net/http's because the generator shares the cores with the
// server it measures: net/http's client spends several times fasthttp's
// CPU per request (two goroutines per connection, a Request and Response
// allocated per call), CPU taken from the server, which compresses every
// ratio between a fast server and a slow one towards 1.
type Client struct {
	c *fasthttp.Client
}

// requestTimeout bounds a request whose context has no deadline.
const requestTimeout = 30 * time.Second

// NewClient returns a keep-alive client sized for workers connections.
func NewClient(workers int) *Client {
	return &Client{c: &fasthttp.Client{
		MaxConnsPerHost:               workers,
		MaxIdleConnDuration:           90 * time.Second,
		ReadTimeout:                   requestTimeout,
		WriteTimeout:                  requestTimeout,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		// A worker waits for a connection rather than failing: the
		// generator's own limit is not the server's error.
		MaxConnWaitTimeout: requestTimeout,
		// No silent retries (fasthttp retries idempotent requests up to
		// five times by default): a failed request is the server's error,
		// counted, and its latency is one attempt's.
		MaxIdemponentCallAttempts: 1,
	}}
}

// Request is one request to send; Bearer, when set, goes in the
// Authorization header.
type Request struct {
	Method, URL string
	Body        []byte
	ContentType string
	Bearer      string
}

// Do sends r and returns the status and a copy of the body. The request
// ends at ctx's deadline (or after requestTimeout without one).
func (c *Client) Do(ctx context.Context, r Request) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.Header.SetMethod(r.Method)
	req.SetRequestURI(r.URL)
	if r.ContentType != "" {
		req.Header.SetContentType(r.ContentType)
	}
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	if r.Body != nil {
		req.SetBodyRaw(r.Body)
	}
	deadline, fromCtx := ctx.Deadline()
	if !fromCtx {
		deadline = time.Now().Add(requestTimeout)
	}
	if err := c.c.DoDeadline(req, res, deadline); err != nil {
		// The context's own timer may fire a little after fasthttp's
		// deadline: a request cut off by the run's end (fasthttp's
		// timeout, or the connection's read deadline) is reported as
		// that, not as the server's error.
		if fromCtx && !time.Now().Before(deadline) {
			return 0, nil, context.DeadlineExceeded
		}
		return 0, nil, fmt.Errorf("%s %s: %w", r.Method, r.URL, err)
	}
	return res.StatusCode(), append([]byte(nil), res.Body()...), nil
}

type recorder struct {
	mu      sync.Mutex
	lat     []time.Duration
	errors  int
	samples []string
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	if err != nil {
		r.errors++
		if len(r.samples) < 5 {
			r.samples = append(r.samples, err.Error())
		}
	}
	r.mu.Unlock()
}

// Run drives call until the duration or the request budget is spent.
func Run(ctx context.Context, c *Client, o Options, call Call) Result {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.MaxRequests < 1 {
		o.MaxRequests = 1 << 30
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	rec := &recorder{lat: make([]time.Duration, 0, min(o.MaxRequests, 1<<20))}
	var issued atomic.Int64
	take := func() bool { return ctx.Err() == nil && issued.Add(1) <= int64(o.MaxRequests) }

	start := time.Now()
	var wg sync.WaitGroup
	if o.Rate > 0 {
		// Open loop: a dispatcher schedules start times; workers take them.
		// A request's latency runs from its scheduled start.
		due := make(chan time.Time, o.Workers*4)
		wg.Go(func() {
			defer close(due)
			interval := time.Duration(float64(time.Second) / o.Rate)
			next := start
			for take() {
				if d := time.Until(next); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				select {
				case due <- next:
				case <-ctx.Done():
					return
				}
				next = next.Add(interval)
			}
		})
		for w := range o.Workers {
			wg.Go(func() {
				for at := range due {
					err := call(ctx, c, w)
					if cutOff(ctx, err) {
						return // cut off by the deadline, not the server's fault
					}
					rec.add(time.Since(at), err)
				}
			})
		}
	} else {
		for w := range o.Workers {
			wg.Go(func() {
				for take() {
					t := time.Now()
					err := call(ctx, c, w)
					if cutOff(ctx, err) {
						return
					}
					rec.add(time.Since(t), err)
				}
			})
		}
	}
	wg.Wait()
	return summarise(rec, time.Since(start))
}

// cutOff reports whether a failed call failed because the run ended.
func cutOff(ctx context.Context, err error) bool {
	return err != nil && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded))
}

func summarise(rec *recorder, elapsed time.Duration) Result {
	res := Result{Requests: len(rec.lat), Errors: rec.errors, Elapsed: elapsed, Samples: rec.samples, lat: rec.lat}
	if elapsed > 0 {
		res.Rate = float64(res.Requests) / elapsed.Seconds()
	}
	slices.Sort(rec.lat)
	res.P50 = Percentile(rec.lat, 0.50)
	res.P99 = Percentile(rec.lat, 0.99)
	if n := len(rec.lat); n > 0 {
		res.Max = rec.lat[n-1]
	}
	return res
}

// Percentile returns the q-quantile (nearest rank) of sorted durations.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// StatusError is a response with an unexpected status.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	b := e.Body
	if len(b) > 120 {
		b = b[:120]
	}
	return fmt.Sprintf("status %d: %s", e.Status, b)
}
