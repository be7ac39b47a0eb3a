// Package jobsui serves River UI (riverqueue.com/riverui, its assets
// embedded in the binary) on the serving process at Prefix, for holders
// of the jobs:admin permission only, checked by the platform's resolver
// at every request.
//
// A browser cannot attach our bearer token to the UI's page loads and
// its script's calls, so the UI also accepts a cookie holding one: POST
// Prefix+"/session" with a jobs:admin access token (the Authorization
// header, or the "token" field of the form the sign-in page shows) sets
// it, HttpOnly, SameSite=Strict, scoped to Prefix and no longer-lived
// than an access token. Each request still goes through the resolver, so
// a revoked session or a withdrawn permission ends access at the next
// request. Cross-site requests are refused (Sec-Fetch-Site), so the
// cookie cannot be used or planted from another site.
package jobsui

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"riverqueue.com/riverui"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/problem"
)

// Prefix is where the UI is served.
const Prefix = "/admin/jobs"

// SessionPath exchanges a bearer token for the UI's cookie.
const SessionPath = Prefix + "/session"

// Permission lets its holder see and act on every job through the UI.
var Permission = authz.Permission{Name: "jobs:admin", Description: "See, retry, cancel and delete any background job in the jobs UI (" + Prefix + ")"}

// CookieName is the UI's cookie.
const CookieName = "jobs_ui"

// cookieLifetime caps the cookie; the token inside expires sooner or
// later (an access token lasts 15 minutes), and the resolver decides.
const cookieLifetime = 15 * time.Minute

// maxTokenLen bounds the pasted token (a JWT or an API key is far shorter).
const maxTokenLen = 8 << 10

// Module declares the permission and mounts the UI. Only a process that
// builds the HTTP server (serve) builds it.
var Module = fx.Options(
	authz.Provide(Permission),
	fx.Provide(New),
)

// Params are what New needs.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Queue     *jobs.Queue
	Resolver  *authn.Resolver
	Log       *zap.Logger
	// PUBLIC_URL decides whether the cookie is Secure (https).
	HTTP config.HTTP
}

// New mounts the UI behind the guard. River UI itself (its handler, its
// API's routes and its background services) is built on the first request
// the guard lets through, not at start: most processes never serve it,
// and building it at start kept its code and heap resident in every one.
func New(p Params) httpserver.Mounts {
	log := p.Log.Named("jobsui")
	// The UI's services live as long as the application, not the request
	// that happened to build them.
	ctx, cancel := context.WithCancel(context.Background())
	p.Lifecycle.Append(fx.Hook{OnStop: func(context.Context) error { cancel(); return nil }})
	ui := &lazyHandler{build: func() (http.Handler, error) {
		h, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(p.Queue.Client(), nil),
			Logger:    slog.New(zapslog.NewHandler(log.Core())),
			Prefix:    Prefix,
		})
		if err != nil {
			return nil, err
		}
		if err := h.Start(ctx); err != nil {
			return nil, err
		}
		return h, nil
	}}
	secure := strings.HasPrefix(p.HTTP.PublicURL, "https://")
	return httpserver.Mounts{{Prefix: Prefix, Handler: &guard{ui: ui.get, resolver: p.Resolver, log: log, secure: secure}}}
}

// lazyHandler builds a handler on its first use, once however many ask at
// the same time. A failed build is not kept: the next request tries
// again, so a passing fault does not leave the UI failing until a restart.
type lazyHandler struct {
	mu    sync.Mutex
	h     http.Handler
	build func() (http.Handler, error)
}

func (l *lazyHandler) get() (http.Handler, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h == nil {
		h, err := l.build()
		if err != nil {
			return nil, err
		}
		l.h = h
	}
	return l.h, nil
}

// guard authenticates every request to the UI.
type guard struct {
	ui       func() (http.Handler, error)
	resolver *authn.Resolver
	log      *zap.Logger
	secure   bool
}

// csp lets River UI's page load its own script and styles (its components
// set inline styles) and call its own API, nothing else.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Cache-Control", "no-store")
	// Another site may neither use the cookie nor plant one (login CSRF).
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		g.fail(w, r, problem.CodeForbidden.New(), false)
		return
	}
	if r.URL.Path == SessionPath {
		g.session(w, r)
		return
	}
	authorization := r.Header.Get("Authorization")
	if authorization == "" {
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			authorization = "Bearer " + c.Value
		}
	}
	if err := g.check(r.Context(), authorization); err != nil {
		g.fail(w, r, err, true)
		return
	}
	ui, err := g.ui()
	if err != nil {
		g.fail(w, r, fmt.Errorf("jobs UI: %w", err), false)
		return
	}
	ui.ServeHTTP(w, r)
}

// check resolves the credentials and requires the permission.
func (g *guard) check(ctx context.Context, authorization string) error {
	p, err := g.resolver.Resolve(ctx, authorization)
	if err != nil {
		return err
	}
	if !p.Permissions.Has(Permission.Name) {
		return authn.PermissionRequired(Permission.Name)
	}
	return nil
}

// session sets the cookie for a jobs:admin token sent in the
// Authorization header or in the sign-in form, then sends the browser to
// the UI.
func (g *guard) session(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		g.fail(w, r, problem.CodeMethodNotAllowed.New(), false)
		return
	}
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		token, _ = strings.CutPrefix(h, "Bearer ")
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxTokenLen)
		if err := r.ParseForm(); err != nil {
			g.fail(w, r, problem.CodeMalformedRequest.New(), false)
			return
		}
		token = strings.TrimSpace(r.PostForm.Get("token"))
	}
	if token == "" || len(token) > maxTokenLen {
		g.fail(w, r, authn.ErrMissingToken, true)
		return
	}
	if err := g.check(r.Context(), "Bearer "+token); err != nil {
		g.fail(w, r, err, true)
		return
	}
	// Secure follows PUBLIC_URL: a development server on plain http would
	// never get a Secure cookie back.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // HttpOnly and SameSite are set; Secure is g.secure, see above
		Name: CookieName, Value: token, Path: Prefix, MaxAge: int(cookieLifetime / time.Second),
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

//go:embed signin.html
var signinPage []byte

// fail answers err as problem JSON, with RFC 6750's challenge on a 401;
// a browser asking for a page without credentials gets the sign-in form
// (still a 401). challenge is false for refusals that are not about
// credentials.
func (g *guard) fail(w http.ResponseWriter, r *http.Request, err error, challenge bool) {
	p := problem.From(r.Context(), err)
	if p.Status >= 500 {
		g.log.Error("jobs UI", zap.Error(err))
	}
	if p.Status == http.StatusUnauthorized && challenge {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(signinPage)
			return
		}
	}
	w.Header().Set("Content-Type", problem.ContentType)
	w.WriteHeader(p.Status)
	if err := json.NewEncoder(w).Encode(p); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		g.log.Debug("write problem", zap.Error(err))
	}
}
