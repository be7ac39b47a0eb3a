package authn

import (
	"errors"
	"strings"
	"testing"
)

// FuzzBearerToken: extracting the token from an Authorization header never
// panics, fails with one of the two 401 errors, and what it accepts is a
// plain, bounded token after a case-insensitive "Bearer" scheme. Seeds:
// testdata/fuzz/FuzzBearerToken.
func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig")
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := bearerToken(h)
		if err != nil {
			if !errors.Is(err, ErrMissingToken) && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("unexpected error %v", err)
			}
			if tok != "" {
				t.Fatalf("token %q returned with an error", tok)
			}
			return
		}
		scheme, _, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "bearer") || tok == "" || len(tok) > maxTokenLen ||
			strings.ContainsAny(tok, " \t") || !strings.Contains(h, tok) {
			t.Fatalf("accepted %q from %q", tok, h)
		}
	})
}
