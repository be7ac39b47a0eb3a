package testkit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestSecretScanCatchesLeaks proves the scan that guards every API test can
// fail: a server echoing a password, or returning a hash, is reported.
func TestSecretScanCatchesLeaks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			_ = r.ParseForm()
			fmt.Fprintf(w, `{"got":%q}`, r.PostForm.Get("password"))
		case "/hash":
			fmt.Fprint(w, `{"password_hash":"$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"}`)
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	defer srv.Close()

	rec := &recorder{TB: t}
	client := &http.Client{Transport: (&secretScan{t: rec, secrets: map[string]bool{}}).wrap(http.DefaultTransport)}
	post := func(path string) {
		res, err := client.Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader("password=hunter2-very-secret"))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}
	post("/fine")
	if len(rec.errors) != 0 {
		t.Fatalf("control request flagged: %v", rec.errors)
	}
	post("/echo")
	post("/hash")
	if len(rec.errors) != 2 {
		t.Fatalf("leaks reported = %v, want the echo and the hash", rec.errors)
	}
}

// TestProblemScanCatchesUndeclaredCodes proves the error-model check that
// guards every API test can fail: a code nobody declared, a field error
// without a code, a 503 without Retry-After.
func TestProblemScanCatchesUndeclaredCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		switch r.URL.Path {
		case "/made-up":
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"type":"about:blank","title":"Conflict","status":409,"code":"made_up_code"}`)
		case "/field":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"type":"about:blank","title":"Unprocessable Entity","status":422,"code":"validation_failed","errors":[{"location":"body.x","message":"bad"}]}`)
		case "/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"code":"unavailable"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"type":"about:blank","title":"Not Found","status":404,"code":"not_found"}`)
		}
	}))
	defer srv.Close()
	rec := &recorder{TB: t}
	client := &http.Client{Transport: (&secretScan{t: rec, secrets: map[string]bool{}}).wrap(http.DefaultTransport)}
	get := func(path string) {
		res, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}
	get("/known")
	if len(rec.errors) != 0 {
		t.Fatalf("control request flagged: %v", rec.errors)
	}
	get("/made-up")
	get("/field")
	get("/busy")
	if len(rec.errors) != 3 {
		t.Fatalf("reported = %v, want the made-up code, the field without a code and the 503 without Retry-After", rec.errors)
	}
}
