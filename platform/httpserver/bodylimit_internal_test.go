package httpserver

import (
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestDirectMaxBodyBytesIsRefused: a limit set on the operation without
// WithBodyLimit would be enforced only after fasthttp buffered the body;
// registration refuses it loudly rather than let it look effective.
func TestDirectMaxBodyBytesIsRefused(t *testing.T) {
	b := newBodyLimits(64 << 10)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "WithBodyLimit") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	b.onAddOperation(nil, &huma.Operation{OperationID: "direct", Method: "POST", Path: "/x", MaxBodyBytes: 4 << 20})
}

func TestBodyLimitLookup(t *testing.T) {
	b := newBodyLimits(100)
	for _, op := range []huma.Operation{
		WithBodyLimit(huma.Operation{Method: "POST", Path: "/api/files/{id}"}, 5000),
		WithBodyLimit(huma.Operation{Method: "POST", Path: "/api/files/{id}/meta"}, 10),
		{Method: "POST", Path: "/api/files/new"},
	} {
		b.onAddOperation(nil, &op)
	}
	for target, want := range map[string]int64{
		"/api/files/abc":                 5000,
		"/api/files/abc/":                5000,
		"/API/FILES/abc?x=/y":            5000,
		"/api/files/abc%2Fdef":           100, // one decoded segment too many
		"/api/files/new":                 100, // the literal route wins
		"/api/files/abc/meta":            10,
		"/api/files":                     100,
		"/api/files//meta":               100, // an empty segment is no parameter
		"http://host:8080/api/files/abc": 5000,
		"/api/files/abc/meta/extra":      100,
		"*":                              100,
	} {
		if got := b.lookup([]byte("POST"), []byte(target)); got != want {
			t.Errorf("lookup(%s) = %d, want %d", target, got, want)
		}
	}
	if got := b.lookup([]byte("GET"), []byte("/api/files/abc")); got != 100 {
		t.Errorf("another method: %d", got)
	}
	if b.max != 5000 {
		t.Errorf("max = %d", b.max)
	}
}
