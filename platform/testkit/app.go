package testkit

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/jobs"
)

var (
	keyOnce sync.Once
	keyPEM  string
)

// SigningKeyPEM is one RSA key shared by the tests of a process (generating
// one per test would dominate the run time).
func SigningKeyPEM(t testing.TB) string {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	return keyPEM
}

// Config is the platform's development configuration for tests: an
// ephemeral port and cheap password hashing (production refuses these
// argon2 parameters).
func Config(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Telemetry.MetricsAddr = "127.0.0.1:0" // tests run in parallel
	cfg.LogLevel = "warn"
	cfg.Password.MemoryKiB = 1024
	cfg.Password.Iterations = 1
	// One loopback address plays many clients (bursts of 100 connections):
	// no per-address cap, except in the tests of the cap itself.
	cfg.HTTP.MaxConnsPerIP = 0
	// A keep-alive connection a test left open (http.DefaultClient's pool)
	// holds the app's stop for the idle grace; the drain itself is tested
	// on the real binary (cmd/app/processtest) with the real default.
	cfg.HTTP.ShutdownIdleGrace = 100 * time.Millisecond
	return cfg
}

// Option changes how Start builds the application.
type Option func(*options)

type options struct {
	env       map[string]string
	configure []func(*config.Config)
	modules   []fx.Option
	extra     []fx.Option
	secrets   []string
	jobs      bool
}

// WithConfig edits the configuration before start.
func WithConfig(f func(*config.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// WithEnv sets an environment variable for the modules' settings
// sections (config.Provide), which read it as they would in a process.
func WithEnv(name, value string) Option {
	return func(o *options) { o.env[name] = value }
}

// WithModules sets the feature modules to start beside the platform,
// replacing any list given before: the kit knows no module, so its caller
// names them.
func WithModules(m ...fx.Option) Option {
	return func(o *options) { o.modules = m }
}

// WithSecret adds a value the response scan fails on even though no
// request sent it, such as a password bootstrapped from the environment.
func WithSecret(s string) Option {
	return func(o *options) { o.secrets = append(o.secrets, s) }
}

// WithJobs makes the app work jobs, as serve does (a test app otherwise
// only enqueues them), polling every 50 ms so a test waits little.
func WithJobs() Option {
	return func(o *options) {
		if o.jobs {
			return
		}
		o.jobs = true
		o.env["JOBS_POLL_INTERVAL"] = "50ms"
		o.extra = append(o.extra, fx.Invoke(func(*jobs.Runner) {}))
	}
}

// WithFx adds fx options (fx.Populate to reach a service, fx.Decorate...).
func WithFx(opts ...fx.Option) Option {
	return func(o *options) { o.extra = append(o.extra, opts...) }
}

// App is a started application serving on a loopback port.
type App struct {
	t      testing.TB
	URL    string
	DB     *database.DB
	Config config.Config
	// HTTP is a client whose transport fails the test if any response body
	// contains a password hash or a password sent in an earlier request.
	HTTP    *http.Client
	secrets *secretScan
}

// testLogger sends warnings and errors to the test's log. A fuzz target
// must not log through its *testing.F (testing panics, and the panic kills
// the fuzzing worker), so a fuzzed app logs to stderr instead.
func testLogger(t testing.TB) *zap.Logger {
	if _, fuzzing := t.(*testing.F); fuzzing {
		enc := zap.NewDevelopmentEncoderConfig()
		return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), zap.WarnLevel))
	}
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// Start builds the platform and the modules given with WithModules (none
// by default) with fx, swaps in db with fx.Replace (the original database
// is never opened), starts the lifecycle and stops it when the test ends.
func Start(t testing.TB, db *database.DB, opts ...Option) *App {
	t.Helper()
	o := options{env: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := Config(t)
	for _, f := range o.configure {
		f(&cfg)
	}
	var srv *httpserver.Server
	fxOpts := []fx.Option{
		platform.Module,
		platform.WithConfig(cfg),
		fx.Replace(db, config.SourceFrom(o.env)),
		fx.Decorate(func() *zap.Logger { return testLogger(t) }),
		fx.NopLogger,
		fx.Populate(&srv),
	}
	fxOpts = append(fxOpts, o.modules...)
	fxOpts = append(fxOpts, o.extra...)
	app := fxtest.New(t, fxOpts...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)

	// Each app gets its own connection pool, closed before the app stops
	// (cleanups run last-in first-out): the server's graceful shutdown waits
	// for open connections, and a keep-alive connection the client dialed
	// but never used would hold it until the read timeout.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	scan := &secretScan{t: t, secrets: map[string]bool{}}
	for _, s := range o.secrets {
		scan.secrets[s] = true
	}
	return &App{
		t:       t,
		URL:     "http://" + srv.Addr(),
		DB:      db,
		Config:  cfg,
		HTTP:    &http.Client{Transport: scan.wrap(transport), Timeout: 30 * time.Second},
		secrets: scan,
	}
}
