package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/acme/monolith/platform/problem"
)

// Response is a fully read HTTP response.
type Response struct {
	t      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Expect fails the test unless the response has status, and returns the
// response for chaining: app.Do(http.MethodGet, p, nil, Bearer(token)).Expect(200).JSON(t, &v).
func (r *Response) Expect(status int) *Response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("status = %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// Problem is the RFC 9457 body every API error has.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
		Code     string `json:"code"`
	} `json:"errors"`
}

// Problem decodes a problem body and checks its media type and status.
func (r *Response) Problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p Problem
	r.JSON(t, &p)
	if p.Status != r.Status || p.Code == "" || p.Title == "" {
		t.Fatalf("malformed problem for status %d: %s", r.Status, r.Body)
	}
	return p
}

// Header is a request header for Do.
type Header struct{ Key, Value string }

// Bearer returns an Authorization header.
func Bearer(token string) Header { return Header{"Authorization", "Bearer " + token} }

// Do sends a request. body may be nil, a string or []byte (sent as is, JSON
// content type), url.Values (form-encoded) or any other value (JSON).
func (a *App) Do(method, path string, body any, headers ...Header) *Response {
	a.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("encode body: %v", err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	if err != nil {
		a.t.Fatalf("new request: %v", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for _, h := range headers {
		req.Header.Set(h.Key, h.Value)
	}
	res, err := a.HTTP.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("read body: %v", err)
	}
	return &Response{t: a.t, Status: res.StatusCode, Header: res.Header, Body: data}
}

// secretScan remembers every password sent and fails the test when one, or
// any argon2 hash, comes back in a response body.
type secretScan struct {
	t       testing.TB
	mu      sync.Mutex
	secrets map[string]bool
}

func (s *secretScan) wrap(base http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Body != nil {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			_ = req.Body.Close()
			s.remember(req.Header.Get("Content-Type"), b)
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
		res, err := base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil {
			return nil, err
		}
		s.check(req, b)
		checkProblem(s.t, req, res, b)
		res.Body = io.NopCloser(bytes.NewReader(b))
		return res, nil
	})
}

func (s *secretScan) remember(ct string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil {
			for k, vals := range v {
				if strings.Contains(k, "password") {
					for _, p := range vals {
						s.add(p)
					}
				}
			}
		}
		return
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for k, v := range m {
			if p, ok := v.(string); ok && strings.Contains(k, "password") {
				s.add(p)
			}
		}
	}
}

// add keeps passwords long enough not to match by coincidence.
func (s *secretScan) add(p string) {
	if len(p) >= 8 {
		s.secrets[p] = true
	}
}

func (s *secretScan) check(req *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text := string(body)
	if strings.Contains(text, "$argon2") || strings.Contains(text, "password_hash") {
		s.t.Errorf("%s %s: response contains a password hash: %s", req.Method, req.URL.Path, text)
	}
	for p := range s.secrets {
		if strings.Contains(text, p) {
			s.t.Errorf("%s %s: response echoes a password: %s", req.Method, req.URL.Path, text)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// checkProblem holds every problem response of every API test to the
// error model: a code from the catalogue (docs/errors.md), a code on each
// field error, and Retry-After on a 429 or 503. A code the server can
// answer with but nobody declared fails here, naming it.
func checkProblem(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	if !strings.HasPrefix(res.Header.Get("Content-Type"), problem.ContentType) || req.Method == http.MethodHead {
		return
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("%s %s: problem JSON that does not parse: %v: %s", req.Method, req.URL.Path, err, body)
		return
	}
	if !problem.Known(p.Code, false) {
		t.Errorf("%s %s: problem code %q is not in the catalogue: declare it (fault.New, problem.Declare), then run `make openapi`", req.Method, req.URL.Path, p.Code)
	}
	for _, e := range p.Errors {
		if !problem.Known(e.Code, true) {
			t.Errorf("%s %s: field error %s has code %q, which is not in the catalogue", req.Method, req.URL.Path, e.Location, e.Code)
		}
	}
	if (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && res.Header.Get("Retry-After") == "" {
		t.Errorf("%s %s: %d %s without Retry-After", req.Method, req.URL.Path, res.StatusCode, p.Code)
	}
}
