// Package httpserver runs the fiber server with the huma API on it, under
// the fx lifecycle: it binds on start (a bind error fails start), serves in
// the background, and on stop fails readiness first, then drains.
package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/valyala/fasthttp"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/tracing"
)

// OAuth is what a module that serves OAuth2 endpoints tells the server:
// the token endpoint the OpenAPI document advertises for the password
// flow, and every OAuth endpoint, which the edge answers in RFC 6749 §5.2
// form (OAuth2 clients parse that shape, not problem JSON). Without it the
// document describes a plain bearer token.
type OAuth struct {
	TokenURL  string
	Endpoints []string
}

// Params are the server's dependencies.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    config.HTTP
	Log       *zap.Logger
	Health    *health.Registry
	Routes    []Routes `group:"routes"`
	// Metrics and Tracer are optional so a server can be built without them.
	Metrics *metrics.Registry `optional:"true"`
	Tracer  *tracing.Tracer   `optional:"true"`
	// Edge settings (proxies, CORS, HSTS); zero in tests that build a bare server.
	Edge config.Sessions `optional:"true"`
	// Mounts are the platform's embedded tools (the jobs UI).
	Mounts Mounts `optional:"true"`
	// OAuth is provided by the module that serves the OAuth2 endpoints.
	OAuth OAuth `optional:"true"`
	// Permissions are every module's (the platform provides them); an
	// operation requiring one that is not there stops the start.
	Permissions *authz.Catalogue `optional:"true"`
}

// Server is the HTTP server.
type Server struct {
	app    *fiber.App
	api    huma.API
	cfg    config.HTTP
	log    *zap.Logger
	health *health.Registry
	ln     *connLimiter
	hsts   bool
	// proxies names the client of a request and exempts our own proxies
	// from the per-IP connection cap.
	proxies proxies
	limits  *bodyLimits
	// routes is filled once every route is registered, before serving.
	routes *routeTable
	// oauth are the paths whose edge refusals take RFC 6749 §5.2 form.
	oauth map[string]bool
	// finished guards finishDocument, run on the document's first reader.
	finished sync.Once
}

// New builds the server and registers every module's routes. It does not
// listen: the lifecycle's start does. An operation requiring a permission
// no module declared is an error.
func New(p Params) (*Server, error) {
	s := &Server{
		cfg: p.Config, log: p.Log, health: p.Health, hsts: p.Edge.HSTS,
		proxies: newProxies(p.Edge.TrustedProxies, p.Edge.ProxyHeader),
		limits:  newBodyLimits(int64(p.Config.BodyLimit)),
		oauth:   map[string]bool{},
	}
	for _, e := range p.OAuth.Endpoints {
		s.oauth[e] = true
	}
	s.app = fiber.New(fiber.Config{
		AppName:               buildinfo.Service,
		DisableStartupMessage: true,
		ReadTimeout:           p.Config.ReadTimeout,
		WriteTimeout:          p.Config.WriteTimeout,
		IdleTimeout:           p.Config.IdleTimeout,
		// Each operation's own limit applies from its headers on
		// (headerReceived); this is only the ceiling.
		BodyLimit: p.Config.BodyLimit,
		// We take no multipart bodies: fasthttp would parse them, spilling
		// files to disk, before any handler could refuse them.
		DisablePreParseMultipartForm: true,
		// Request line plus headers; larger requests get 431 before any
		// handler runs (a megabyte bearer token costs nothing).
		ReadBufferSize: 16 << 10,
		ErrorHandler:   s.errorHandler,
		JSONEncoder:    json.Marshal,
		JSONDecoder:    json.Unmarshal,
		// No ProxyHeader: fiber would take the leftmost X-Forwarded-For
		// entry, which the client writes. The client IP is ours (clientip.go).
	})
	// fasthttp itself: our answer to requests it cannot parse (never its
	// message, which quotes the request), the framing check and each
	// operation's body limit before a body is read, and connection states
	// for the drain.
	edge := s.app.Server()
	edge.ErrorHandler = s.parseErrorHandler
	edge.Handler = s.refuseUnknownMethods(edge.Handler)
	edge.SecureErrorLogMessage = true
	edge.HeaderReceived = s.headerReceived
	edge.ConnState = connState
	edge.CloseOnShutdown = true
	// Outermost first: the drain's Connection: close is decided after
	// everything else; metrics see the final status; the span exists before
	// the access log reads its trace id.
	s.app.Use(s.closeWhenDraining())
	if p.Metrics != nil {
		s.app.Use(p.Metrics.HTTP.Middleware())
	}
	if p.Tracer != nil {
		s.app.Use(p.Tracer.Middleware())
	}
	s.app.Use(requestContext(p.Log.Named("http"), s.proxies.of), recoverPanics(),
		securityHeaders(p.Edge.HSTS), defaultNoStore(),
		// Refusals before any handler: framing, credentials in the URL,
		// text that is not UTF-8.
		strictFraming(), refuseQueryCredentials(s.oauth), refuseInvalidUTF8(s.oauth))
	if h := corsFor(p.Edge); h != nil {
		s.app.Use(h)
	}
	s.app.Use(s.refuseWrongMethod())
	s.app.Get("/livez", s.livez)
	s.app.Get("/readyz", s.readyz)
	for _, m := range p.Mounts {
		s.mount(m)
	}

	// Before huma's own routes for the document and its schemas.
	s.app.Use(s.finishDocumentFirst())
	s.api = humafiber.New(s.app, APIConfig(p.OAuth, p.Permissions))
	oapi := s.api.OpenAPI()
	oapi.OnAddOperation = append(oapi.OnAddOperation, s.limits.onAddOperation)
	if p.Config.Docs {
		mountDocs(s.app)
	}
	for _, r := range p.Routes {
		r.Register(s.api)
	}
	if err := checkPermissions(oapi, p.Permissions); err != nil {
		return nil, err
	}
	edge.MaxRequestBodySize = int(s.limits.max)
	s.routes = newRouteTable(s.app.GetRoutes(true))
	if p.Lifecycle != nil {
		p.Lifecycle.Append(fx.Hook{OnStart: s.Start, OnStop: s.Stop})
	}
	return s, nil
}

// mount serves m's handler under its prefix. The handler sets its own
// Content-Security-Policy (an embedded app needs its own script), so the
// edge's is dropped first; two would both be enforced. Its request
// context is detached from fasthttp's RequestCtx, whose Done races the
// server's shutdown when a context derived from it is watched.
func (s *Server) mount(m Mount) {
	h := adaptor.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Handler.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	}))
	serve := func(c *fiber.Ctx) error {
		c.Response().Header.Del(fiber.HeaderContentSecurityPolicy)
		return h(c)
	}
	s.app.All(m.Prefix, serve)
	s.app.All(m.Prefix+"/*", serve)
}

// headerReceived runs after fasthttp parsed the request headers and before
// it reads the body. A request with broken framing gets no body read at
// all (its length is ambiguous by definition): strictFraming refuses it
// and the connection closes with whatever was sent behind it unread. Any
// other request gets its operation's body limit, so an oversized
// Content-Length is refused before a byte of the body is buffered.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if checkFraming(h.RawHeaders(), h.Protocol()) != nil {
		h.SetContentLength(0)
		return fasthttp.RequestConfig{}
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: int(s.limits.lookup(h.Method(), h.RequestURI()))}
}

// APIConfig is the OpenAPI 3.1 configuration of the server (and so of the
// `app openapi` document); oauth describes the token endpoint, if any,
// and the password flow lists perms as its scopes, with their
// descriptions (the scopes each operation requires are on its security
// requirement).
func APIConfig(oauth OAuth, perms *authz.Catalogue) huma.Config {
	cfg := huma.DefaultConfig(buildinfo.Title()+" API", APIVersion)
	cfg.Info.Description = "A modular monolith: users and OAuth2 password-flow authentication with JWT access tokens."
	cfg.DocsPath = "" // served by mountDocs from embedded assets, so it works offline
	cfg.SchemasPath = strings.TrimSuffix(schemasPath, "/")
	cfg.CreateHooks = nil
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", SchemaName)
	scheme := &huma.SecurityScheme{Type: "http", Scheme: "bearer", Description: "Send the access token as `Authorization: Bearer <token>`."}
	if oauth.TokenURL != "" {
		scheme = &huma.SecurityScheme{
			Type: "oauth2",
			Description: "OAuth2 password grant (RFC 6749 §4.3); send the access token as `Authorization: Bearer <token>`. " +
				"The scopes are the permissions operations require; an account holds them through its roles, " +
				"checked at every request, so a token request names none.",
			Flows: &huma.OAuthFlows{
				Password: &huma.OAuthFlow{TokenURL: oauth.TokenURL, Scopes: scopes(perms)},
			},
		}
	}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{authn.SecurityScheme: scheme}
	describe(&cfg)
	return cfg
}

// scopes are the permissions as OAuth2 scopes. A token asks for none:
// what an account holds comes from its roles at each request, so the
// scopes only document what each operation needs.
func scopes(perms *authz.Catalogue) map[string]string {
	out := map[string]string{}
	for _, p := range perms.All() {
		out[p.Name] = p.Description
	}
	return out
}

// SchemaName names OpenAPI schemas after their package as well as their
// type: huma's default uses the bare type name and panics on a duplicate,
// so two modules that both declare a `Create` DTO could not coexist.
// userschema.Create becomes UserCreate; userschema.User stays User.
//
// A generic type of ours is named after its type argument, then itself:
// paging.Page[userschema.User] becomes UserPage, as a module would name it.
func SchemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" || t.PkgPath() == "" || !strings.HasPrefix(t.PkgPath(), modulePath) {
		return name
	}
	if generic, arg, ok := strings.Cut(t.Name(), "["); ok && strings.HasSuffix(arg, "]") && !strings.ContainsAny(arg, ",[") {
		dot := strings.LastIndex(arg, ".")
		if dot > 0 {
			return qualified(arg[:dot], strings.TrimSuffix(arg[dot+1:], "]")) + generic
		}
	}
	return qualified(t.PkgPath(), name)
}

// qualified prefixes name with its package's name, less a "schema" suffix,
// unless name already starts with it (userschema.User is User).
func qualified(pkgPath, name string) string {
	if !strings.HasPrefix(pkgPath, modulePath) {
		return name
	}
	pkg := path.Base(pkgPath)
	pkg = strings.TrimSuffix(pkg, "schema")
	if pkg == "" {
		return name
	}
	prefix := strings.ToUpper(pkg[:1]) + pkg[1:]
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return prefix + name
}

// modulePath is this repository's Go module path: only our own types get
// package-qualified names.
var modulePath = func() string {
	p := reflect.TypeFor[Server]().PkgPath()
	return strings.TrimSuffix(p, "/platform/httpserver")
}()

// API returns the huma API (its OpenAPI document, for instance).
func (s *Server) API() huma.API { return s.api }

// Document is the OpenAPI document, finished: with the responses every
// operation can give and the examples (finishDocument). It is finished on
// its first reader, not at start: only clients and `app-dev openapi` read
// it, and the examples of every schema and problem stayed on the heap of
// every process.
func (s *Server) Document() *huma.OpenAPI {
	s.finished.Do(func() { finishDocument(s.api.OpenAPI()) })
	return s.api.OpenAPI()
}

// schemasPath is where huma serves each schema of the document.
const schemasPath = "/schemas/"

// finishDocumentFirst finishes the document before huma serves it or one
// of its schemas; concurrent first readers wait for the one finishing it.
// The path is compared as fiber routes it, ignoring case: /OpenAPI.json
// reaches huma's handler too, which would cache the unfinished document.
func (s *Server) finishDocumentFirst() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if p := strings.ToLower(c.Path()); isPublicDocument(p) || strings.HasPrefix(p, schemasPath) {
			s.Document()
		}
		return c.Next()
	}
}

// App returns the fiber app, for in-process tests.
func (s *Server) App() *fiber.App { return s.app }

// Addr is the bound address once started.
func (s *Server) Addr() string {
	if s.ln == nil || s.ln.Listener == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Start binds synchronously, so an address in use fails the start, then
// serves in the background.
func (s *Server) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", s.cfg.Addr, err)
	}
	s.ln = newConnLimiter(ln, s.cfg.MaxConns, s.cfg.MaxConnsPerIP, s.proxies.trusts, s.hsts)
	go func() {
		if err := s.app.Listener(s.ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	}()
	s.log.Info("http server listening", zap.String("addr", s.Addr()))
	return nil
}

// Stop fails readiness (from then on every response says Connection:
// close), keeps serving for HTTP_SHUTDOWN_DELAY (so a load balancer polling
// readiness stops sending traffic), then stops accepting and, within the
// shutdown timeout, lets in-flight requests finish and keep-alive
// connections close without losing a request (see drain.go).
func (s *Server) Stop(ctx context.Context) error {
	s.health.Drain()
	drainStart := time.Now()
	if s.cfg.ShutdownDelay > 0 {
		s.log.Info("draining: readiness fails, still serving", zap.Duration("delay", s.cfg.ShutdownDelay))
		select {
		case <-time.After(s.cfg.ShutdownDelay):
		case <-ctx.Done():
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	if s.ln != nil {
		if err := s.drain(ctx, drainStart); err != nil {
			return fmt.Errorf("shutdown http server: %w", err)
		}
	}
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shutdown http server: %w", err)
	}
	return nil
}

func (s *Server) livez(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	res := s.health.Run(ctx)
	status, word := http.StatusOK, "ok"
	if !res.OK {
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(fiber.Map{"status": word, "checks": res.Checks})
}
