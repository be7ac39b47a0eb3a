// Package platform assembles the shared infrastructure every feature module
// builds on: configuration, logging, the database, password hashing, the
// current-user resolver, readiness checks, attempt throttling and the HTTP
// server.
package platform

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/jobs/jobsui"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/throttle"
	"github.com/acme/monolith/platform/tracing"
)

// Module provides the platform. Feature modules consume what it provides and
// never provide these types themselves.
var Module = fx.Module("platform",
	fx.Provide(
		config.NewSource,
		// Each section is read and validated when first needed, so a
		// command checks only what its graph builds: a migration or
		// create-superuser in a pod needs no signing key or public URL.
		section(0, func(c config.Config) config.Config { return c }),
		section(config.HTTPSection, func(c config.Config) config.HTTP { return c.HTTP }),
		section(config.DatabaseSection, func(c config.Config) config.Database { return c.Database }),
		section(config.PasswordSection, func(c config.Config) config.Password { return c.Password }),
		section(config.TelemetrySection, func(c config.Config) config.Telemetry { return c.Telemetry }),
		section(config.SessionsSection, func(c config.Config) config.Sessions { return c.Sessions }),
		section(config.MailSection, func(c config.Config) config.Mail { return c.Mail }),
		fx.Annotate(config.PlatformSections, fx.ResultTags(`group:"`+config.SectionsGroup+`,flatten"`)),
		logging.New,
		openDatabase,
		func(db *database.DB) *ent.Client { return db.Ent },
		health.AsCheck(database.NewChecker),
		health.NewRegistry,
		password.NewHasher,
		newLimiter,
		authz.NewCatalogue,
		newResolver,
		httpserver.New,
		newMetrics,
		newMetricsServer,
		newTracer,
		func(r *metrics.Registry) prometheus.Registerer { return r.Registerer() },
	),
	jobs.Module,
	mail.Module,
	events.Module,
	jobsui.Module,
	fx.Invoke(httpserver.StartPprof),
)

// Logger routes fx's own events through zap. fx.WithLogger only takes effect
// at the root of the application, so the application adds it beside Module.
var Logger = fx.WithLogger(logging.FxLogger)

// section reads one platform section from the source (APP_ENV and
// LOG_* are read and checked with every one).
func section[T any](s config.Section, pick func(config.Config) T) func(*config.Source) (T, error) {
	return func(src *config.Source) (T, error) {
		c, err := config.LoadSectionsFrom(src.Lookup, s)
		return pick(c), err
	}
}

// openDatabase opens the pool; on start it checks the database answers and
// applies the migration policy; on stop it closes the pool.
func openDatabase(lc fx.Lifecycle, cfg config.Database, log *zap.Logger) (*database.DB, error) {
	db, err := database.Open(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.AllowInsecureTransport {
		log.Warn("DATABASE_ALLOW_INSECURE_TRANSPORT=true: the database connection may be unencrypted; something else must encrypt it")
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable (check DATABASE_URL): %w", err)
			}
			return PrepareSchema(ctx, db, cfg.MigrateOnStart, log)
		},
		OnStop: func(context.Context) error {
			log.Info("closing the database pool")
			return db.Close()
		},
	})
	return db, nil
}

// PrepareSchema applies pending migrations on SQLite (the zero-setup local
// database) or when migrateOnStart is set; otherwise a Postgres database
// with pending migrations stops the start, naming the command to run.
func PrepareSchema(ctx context.Context, db *database.DB, migrateOnStart bool, log *zap.Logger) error {
	m, err := migrator.New(db, log.Named("migrate"))
	if err != nil {
		return err
	}
	if db.Dialect == dialect.SQLite || migrateOnStart {
		_, err := m.Up(ctx)
		return err
	}
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	if n := len(st.Pending); n > 0 {
		return fmt.Errorf("the database has %d pending migration(s) (%s): run `app migrate up` first, or set MIGRATE_ON_START=true",
			n, strings.Join(st.PendingNames(), ", "))
	}
	return nil
}

func newMetrics(db *database.DB, h *password.Hasher) *metrics.Registry {
	r := metrics.New(db.SQL)
	r.ObserveHashing(func() metrics.HashingStats {
		s := h.Stats()
		return metrics.HashingStats{Computed: s.Computed, Busy: s.Busy, TimedOut: s.TimedOut, ClientGone: s.ClientGone, Waiting: s.Waiting}
	})
	return r
}

// newLimiter provides the attempt limiter and prunes its ended windows
// while the application runs. Its subject hashes are keyed from
// JWT_KEY_ENCRYPTION_KEY, a secret every replica shares.
//
// The key is read at the first attempt: a one-shot command that builds a
// service with a limiter but never counts (users create-superuser in a
// pod) then needs no key. serve validates every section before it starts.
func newLimiter(lc fx.Lifecycle, db *database.DB, src *config.Source, log *zap.Logger) *throttle.Limiter {
	l := throttle.NewDeferred(db, func() ([]byte, error) {
		c, err := config.LoadSectionsFrom(src.Lookup, config.SessionsSection)
		return c.Sessions.KeyEncryptionKey, err
	})
	var stop func()
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			stop = l.StartPruning(log.Named("throttle"))
			return nil
		},
		OnStop: func(context.Context) error {
			stop()
			return nil
		},
	})
	return l
}

// newMetricsServer provides the /metrics listener. Only `serve` asks for
// it, so one-shot commands (users create-superuser in a pod) never bind
// its port.
func newMetricsServer(lc fx.Lifecycle, cfg config.Telemetry, reg *metrics.Registry, log *zap.Logger) *metrics.Server {
	s := metrics.NewServer(cfg, reg, log.Named("metrics"))
	lc.Append(fx.Hook{OnStart: s.Start, OnStop: s.Stop})
	return s
}

// newTracer flushes spans when the application stops.
func newTracer(lc fx.Lifecycle, cfg config.Telemetry) (*tracing.Tracer, error) {
	t, err := tracing.New(cfg)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStop: t.Shutdown})
	return t, nil
}

// WithConfig replaces the platform's sections with cfg's, already read
// and validated (serve checks every section before it starts; tests edit
// them).
func WithConfig(cfg config.Config) fx.Option {
	return fx.Replace(cfg, cfg.HTTP, cfg.Database, cfg.Password, cfg.Telemetry, cfg.Sessions, cfg.Mail)
}

type resolverParams struct {
	fx.In
	Tokens   authn.TokenVerifier
	Accounts authn.Accounts
	// API keys, when a module provides them (the auth module does).
	Keys authn.KeyVerifier `optional:"true"`
	// Optional like the server's: a command that builds no route needs no edge settings.
	Edge config.Sessions `optional:"true"`
}

func newResolver(p resolverParams) *authn.Resolver {
	return authn.NewResolver(p.Tokens, p.Accounts, p.Edge.StepUpMaxAge).WithKeys(p.Keys)
}
