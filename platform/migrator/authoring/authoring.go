// Package authoring writes the next migration from the ent schema and
// checks that the migration directories hold every change of it. It is
// development tooling (app-dev, tests): planning links Atlas's dialect
// drivers and the HCL toolchain, which the serving binary does without.
package authoring

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"text/template"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	entmigrate "github.com/acme/monolith/ent/migrate"
	"github.com/acme/monolith/platform/migrator"
)

// ErrDrift means the ent schema has changes the migration directory lacks.
var ErrDrift = errors.New("the ent schema and the migration directory differ: run `make migration name=<change>`")

// Generate writes the next migration file (and updates atlas.sum) in dir
// from the difference between the replayed directory and the ent schema,
// computed on dev, a clean scratch database of dialect dia. The file is
// named VERSION_NAME.sql, so one change gets the same version in every
// dialect's directory. It reports false when there is nothing to write.
func Generate(ctx context.Context, dev *sql.DB, dia string, dir migrate.Dir, version, name string) (bool, error) {
	if !validName.MatchString(name) {
		return false, fmt.Errorf("migration name %q: use lower-case letters, digits and underscores, starting with a letter", name)
	}
	naming, err := template.New("name").Parse(version + "_{{ .Name }}.sql")
	if err != nil {
		return false, err
	}
	formatter := migrate.TemplateFormatter{{N: naming, C: migrate.DefaultFormatter[0].C}}
	err = entmigrate.NewSchema(entsql.OpenDB(dia, dev)).NamedDiff(ctx, name,
		entschema.WithDir(dir),
		entschema.WithDialect(dia),
		entschema.WithMigrationMode(entschema.ModeReplay),
		entschema.WithFormatter(formatter),
		entschema.WithErrNoPlan(true),
		entschema.WithDropColumn(true),
		entschema.WithDropIndex(true),
	)
	if errors.Is(err, migrate.ErrNoPlan) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("diff %s schema: %w", dia, err)
	}
	return true, nil
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// CheckDrift returns ErrDrift when the embedded directory of dia lags the
// ent schema. The directory is copied, so nothing is written.
func CheckDrift(ctx context.Context, dev *sql.DB, dia string) error {
	dir, err := migrator.EmbeddedDir(dia)
	if err != nil {
		return err
	}
	changed, err := Generate(ctx, dev, dia, dir, migrate.NewVersion(), "drift_check")
	if err != nil {
		return err
	}
	if changed {
		return fmt.Errorf("%s: %w", migrator.DirName(dia), ErrDrift)
	}
	return nil
}

// OpenDev opens a clean scratch database to plan against: an in-memory
// SQLite database, or a temporary database created on the Postgres server
// at serverURL and dropped by the returned cleanup.
func OpenDev(ctx context.Context, dia, serverURL string) (*sql.DB, func(), error) {
	suffix := randomSuffix()
	if dia == dialect.SQLite {
		db, err := sql.Open("sqlite", "file:atlas_dev_"+suffix+"?mode=memory&cache=shared&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		return db, func() { _ = db.Close() }, nil
	}
	name := "atlas_dev_" + suffix
	dsn, drop, err := migrator.CreatePostgresDatabase(ctx, serverURL, name)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); drop() }, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
