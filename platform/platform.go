// Package platform assembles the shared infrastructure every feature module
// builds on: configuration, logging, the database, password hashing, the
// current-user resolver, readiness checks and the HTTP server.
package platform

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/password"
)

// Module provides the platform. Feature modules consume what it provides and
// never provide these types themselves.
var Module = fx.Module("platform",
	fx.Provide(
		config.Load,
		sections,
		logging.New,
		openDatabase,
		func(db *database.DB) *ent.Client { return db.Ent },
		health.AsCheck(database.NewChecker),
		health.NewRegistry,
		password.NewHasher,
		authn.NewResolver,
		httpserver.New,
	),
	fx.Invoke(httpserver.StartPprof),
)

// Logger routes fx's own events through zap. fx.WithLogger only takes effect
// at the root of the application, so the application adds it beside Module.
var Logger = fx.WithLogger(logging.FxLogger)

// Sections lets a package depend on only its part of the configuration.
type Sections struct {
	fx.Out
	HTTP     config.HTTP
	Database config.Database
	Auth     config.Auth
	Users    config.Users
	Password config.Password
}

func sections(c config.Config) Sections {
	return Sections{HTTP: c.HTTP, Database: c.Database, Auth: c.Auth, Users: c.Users, Password: c.Password}
}

// openDatabase opens the pool; on start it checks the database answers and
// applies the migration policy; on stop it closes the pool.
func openDatabase(lc fx.Lifecycle, cfg config.Database, log *zap.Logger) (*database.DB, error) {
	db, err := database.Open(cfg)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable (check DATABASE_URL): %w", err)
			}
			return PrepareSchema(ctx, db, cfg.MigrateOnStart, log)
		},
		OnStop: func(context.Context) error { return db.Close() },
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
