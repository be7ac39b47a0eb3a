package authn_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
	_ "github.com/acme/monolith/platform/problem" // problem JSON for every huma error
)

// verifier is a TokenVerifier whose answer the test picks: it stands for the
// auth module failing to reach its database.
type verifier struct{ err error }

func (v verifier) VerifyAccessToken(context.Context, string) (authn.Claims, error) {
	return authn.Claims{Subject: uuid.New()}, v.err
}

type directory struct{}

func (directory) Authenticate(context.Context, string, string) (authn.Principal, error) {
	return authn.Principal{}, authn.ErrInvalidCredentials
}

func (directory) Principal(_ context.Context, id uuid.UUID) (authn.Principal, error) {
	return authn.Principal{UserID: id}, nil
}

// TestCheckFailureIsOpaque500: a verifier that cannot check (an infrastructure
// error) gives an opaque 500, not a 401 that echoes the cause; an invalid
// token (control) still gives 401 with a challenge.
func TestCheckFailureIsOpaque500(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{errors.New("check session: dial tcp 10.0.0.7:5432: connection refused"), http.StatusInternalServerError},
		{authn.ErrInvalidToken, http.StatusUnauthorized},
	} {
		_, api := humatest.New(t)
		r := authn.NewResolver(verifier{c.err}, directory{})
		huma.Register(api, r.Protect(api, huma.Operation{Method: http.MethodGet, Path: "/p"}),
			func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
		res := api.Get("/p", "Authorization: Bearer x.y.z")
		if res.Code != c.status || strings.Contains(res.Body.String(), "10.0.0.7") {
			t.Fatalf("%v: %d %s", c.err, res.Code, res.Body)
		}
		if c.status == http.StatusUnauthorized && res.Header().Get("WWW-Authenticate") == "" {
			t.Fatal("401 without a challenge")
		}
	}
}
