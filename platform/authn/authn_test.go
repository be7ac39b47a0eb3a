package authn_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/fault"
)

// verifier is a TokenVerifier whose answer the test picks: it stands for the
// auth module failing to reach its database.
type verifier struct{ err error }

func (v verifier) VerifyAccessToken(context.Context, string) (authn.Claims, error) {
	return authn.Claims{Subject: uuid.New(), ClientID: "web"}, v.err
}

// accounts finds every account, active unless inactive is set, holding
// perms.
type accounts struct {
	inactive bool
	perms    authz.Set
}

func (accounts) Authenticate(context.Context, string, string) (authn.Account, error) {
	return authn.Account{}, authn.ErrInvalidCredentials
}

func (a accounts) Account(_ context.Context, id uuid.UUID) (authn.Account, error) {
	return authn.Account{UserID: id, Email: "ada@example.test", Active: !a.inactive, Permissions: a.perms}, nil
}

func (a accounts) AccountByEmail(ctx context.Context, _ string) (authn.Account, error) {
	return a.Account(ctx, uuid.New())
}

func (accounts) ResetPassword(context.Context, uuid.UUID, string) error { return nil }

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
		r := authn.NewResolver(verifier{c.err}, accounts{}, 0)
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

// TestResolverStatusesComeFromTheTable: the resolver's answers are the
// table's (platform/problem), each with its RFC 6750 §3 challenge: an
// outage is 503 with Retry-After and no challenge, an inactive account is
// the same 401 as a bad token, a caller lacking a required permission is
// 403 permission_required naming it, with insufficient_scope and the
// scope (RFC 6750 §3.1); the handler gets the typed principal.
func TestResolverStatusesComeFromTheTable(t *testing.T) {
	cases := []struct {
		name      string
		verify    error
		inactive  bool
		require   []string
		holds     authz.Set
		status    int
		challenge string
	}{
		{"ok", nil, false, nil, authz.Set{}, http.StatusNoContent, ""},
		{"database-down", database.ErrUnavailable, false, nil, authz.Set{}, http.StatusServiceUnavailable, ""},
		{"bad-token", authn.ErrInvalidToken, false, nil, authz.Set{}, http.StatusUnauthorized, `error="invalid_token"`},
		{"inactive-account", nil, true, nil, authz.Set{}, http.StatusUnauthorized, `error="invalid_token"`},
		{"lacks-permission", nil, false, []string{"things:read", "things:write"}, authz.Of("things:read"),
			http.StatusForbidden, `error="insufficient_scope", scope="things:read things:write"`},
		{"holds-permissions", nil, false, []string{"things:read", "things:write"}, authz.Of("things:write", "things:read"),
			http.StatusNoContent, ""},
		{"holds-all", nil, false, []string{"things:write"}, authz.All(), http.StatusNoContent, ""},
		{"inactive-with-all", nil, true, []string{"things:write"}, authz.All(), http.StatusUnauthorized, `error="invalid_token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, api := humatest.New(t)
			r := authn.NewResolver(verifier{c.verify}, accounts{inactive: c.inactive, perms: c.holds}, 0)
			protect := r.Protect
			if c.require != nil {
				protect = func(api huma.API, op huma.Operation) huma.Operation { return r.Require(api, op, c.require...) }
			}
			var got authn.Principal
			huma.Register(api, protect(api, huma.Operation{Method: http.MethodGet, Path: "/p"}),
				func(ctx context.Context, _ *struct{}) (*struct{}, error) {
					p, err := authn.CurrentUser(ctx)
					got = p
					return nil, err
				})
			res := api.Get("/p", "Authorization: Bearer x.y.z")
			h := res.Header().Get("WWW-Authenticate")
			if res.Code != c.status || !strings.Contains(h, c.challenge) || (c.challenge == "") != (h == "") {
				t.Fatalf("%d %q %s", res.Code, h, res.Body)
			}
			if c.status == http.StatusServiceUnavailable && res.Header().Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
			if c.status == http.StatusForbidden && (!strings.Contains(res.Body.String(), `"code":"permission_required"`) ||
				!strings.Contains(res.Body.String(), "requires the permission things:write.")) {
				t.Fatalf("403 does not name the missing permission: %s", res.Body)
			}
			if c.status == http.StatusNoContent && (got.Email != "ada@example.test" || got.ClientID != "web" || got.UserID == uuid.Nil) {
				t.Fatalf("principal = %+v", got)
			}
		})
	}
}

// TestRequireDocumentsItsPermissions: the operation's security
// requirement carries the permissions as scopes, its description names
// them, and it may answer 401 and 403.
func TestRequireDocumentsItsPermissions(t *testing.T) {
	_, api := humatest.New(t)
	r := authn.NewResolver(verifier{}, accounts{}, 0)
	op := r.Require(api, huma.Operation{Description: "Lists things."}, "things:read")
	if got := authn.RequiredPermissions(&op); len(got) != 1 || got[0] != "things:read" {
		t.Fatalf("required = %v", got)
	}
	if !strings.HasSuffix(op.Description, "Requires the permission `things:read`.") || !strings.HasPrefix(op.Description, "Lists things.") {
		t.Fatalf("description = %q", op.Description)
	}
	if len(op.Errors) != 2 {
		t.Fatalf("errors = %v", op.Errors)
	}
	plain := r.Protect(api, huma.Operation{})
	if got := authn.RequiredPermissions(&plain); len(got) != 0 || plain.Security[0][authn.SecurityScheme] == nil {
		t.Fatalf("Protect: %v", plain.Security)
	}
}

func TestMayAct(t *testing.T) {
	if err := (authn.Account{Active: true}).MayAct(); err != nil {
		t.Fatalf("active: %v", err)
	}
	err := (authn.Account{}).MayAct()
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unauthenticated {
		t.Fatalf("inactive: %v", err)
	}
}

// TestNormalizeEmail pins the one normalisation both modules use. It must
// keep giving stored rows their own form: lower-cased with full Unicode
// case mapping, never trimmed, never composed (NFC), bounded in bytes.
func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ada@Example.TEST":             "ada@example.test",
		"ÉLODIE@Exemple.FR":            "élodie@exemple.fr",
		"ΣΩΚΡΑΤΗΣ@παράδειγμα.ελ":       "σωκρατησ@παράδειγμα.ελ",
		"用户@例子.广告":                     "用户@例子.广告",
		"STRASSE@Beispiel.de":          "strasse@beispiel.de",
		"Straße@Beispiel.de":           "straße@beispiel.de",
		"e\u0301lodie@exemple.fr":      "e\u0301lodie@exemple.fr", // decomposed stays decomposed
		"first.last+tag@sub.example.a": "first.last+tag@sub.example.a",
	} {
		got, err := authn.NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// The bound is in bytes, like the check stored rows passed: 253 bytes.
	if long := strings.Repeat("é", 121) + "@example.io"; !ok(authn.NormalizeEmail(long)) {
		t.Error("a 253-byte address was refused")
	}
	if nfc, _ := authn.NormalizeEmail("élodie@exemple.fr"); nfc == "e\u0301lodie@exemple.fr" {
		t.Error("composed and decomposed forms were merged")
	}
	for _, bad := range []string{
		"", " ada@example.test", "ada@example.test ", "Ada <ada@example.test>", "ada", "@example.test",
		"ada@[127.0.0.1]", "a\x00b@example.test", strings.Repeat("é", 122) + "@example.io", // 255 bytes, 133 characters
	} {
		if got, err := authn.NormalizeEmail(bad); !errors.Is(err, authn.ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want invalid_email", bad, got, err)
		}
	}
}

func ok(_ string, err error) bool { return err == nil }

// timedVerifier verifies every token as one of a sign-in at at.
type timedVerifier struct{ at time.Time }

func (v timedVerifier) VerifyAccessToken(context.Context, string) (authn.Claims, error) {
	return authn.Claims{Subject: uuid.New(), ClientID: "web", AuthTime: v.at, AMR: []string{"pwd"}}, nil
}

// TestRecentNeedsARecentSignIn: a Recent operation takes a token whose
// sign-in is within the step-up age, refuses an older one and one that
// says nothing of its sign-in with RFC 9470's challenge (the age it
// accepts included), and so does CheckRecent from inside a handler; the
// other operations take them all.
func TestRecentNeedsARecentSignIn(t *testing.T) {
	const age = 5 * time.Minute
	for _, c := range []struct {
		name    string
		at      time.Time
		refused bool
	}{
		{"just-signed-in", time.Now().Add(-time.Second), false},
		{"within", time.Now().Add(-age + 30*time.Second), false},
		{"older", time.Now().Add(-age - 30*time.Second), true},
		{"unknown", time.Time{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, api := humatest.New(t)
			r := authn.NewResolver(timedVerifier{c.at}, accounts{}, age)
			ok := func(context.Context, *struct{}) (*struct{}, error) { return nil, nil }
			op := r.Protect(api, authn.Recent(huma.Operation{Method: http.MethodPost, Path: "/sensitive", Description: "Changes it."}))
			if !authn.IsRecent(&op) || !strings.Contains(op.Description, "Needs a recent sign-in") || !strings.HasPrefix(op.Description, "Changes it.") {
				t.Fatalf("documented as %q", op.Description)
			}
			huma.Register(api, op, ok)
			huma.Register(api, r.Protect(api, huma.Operation{Method: http.MethodPost, Path: "/inside"}),
				func(ctx context.Context, _ *struct{}) (*struct{}, error) { return nil, r.CheckRecent(ctx) })
			huma.Register(api, r.Protect(api, huma.Operation{Method: http.MethodGet, Path: "/plain"}), ok)

			for _, path := range []string{"/sensitive", "/inside"} {
				res := api.Post(path, "Authorization: Bearer x.y.z")
				h := res.Header().Get("WWW-Authenticate")
				if !c.refused {
					if res.Code != http.StatusNoContent {
						t.Fatalf("%s: %d %s", path, res.Code, res.Body)
					}
					continue
				}
				if res.Code != http.StatusUnauthorized || !strings.Contains(res.Body.String(), `"code":"reauthentication_required"`) ||
					!strings.Contains(h, `error="insufficient_user_authentication"`) || !strings.Contains(h, "max_age=300") {
					t.Fatalf("%s: %d %q %s", path, res.Code, h, res.Body)
				}
			}
			if res := api.Get("/plain", "Authorization: Bearer x.y.z"); res.Code != http.StatusNoContent {
				t.Fatalf("an operation that is not Recent: %d %s", res.Code, res.Body)
			}
		})
	}
}
