//go:build ignore

// entc generates the ent package. It is `ent generate` with one change:
// the client does not carry a Schema for migrating (ent/migrate is still
// generated, for the migration tooling). Importing ent/migrate would link
// Atlas's MySQL, Postgres and SQLite drivers and their HCL toolchain into
// every binary that uses the client, the serving one included, which
// applies migrations without them (platform/migrator). It also gives the
// client QueryRows and Dialect methods (driverTemplate).
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	storage, err := gen.NewStorage("sql")
	if err != nil {
		log.Fatal(err)
	}
	// Without Migrate, ent leaves Schema out of the client...
	storage.SchemaMode &^= gen.Migrate
	// ...and would skip ent/migrate too: generate it regardless.
	found := 0
	for i, t := range gen.GraphTemplates {
		if t.Format == "migrate/migrate.go" || t.Format == "migrate/schema.go" {
			gen.GraphTemplates[i].Skip = nil
			found++
		}
	}
	if found != 2 {
		log.Fatalf("entc: ent's templates for ent/migrate changed (found %d of 2): update ent/entc.go", found)
	}
	err = entc.Generate("./schema", &gen.Config{
		Storage:   storage,
		Features:  []gen.Feature{gen.FeatureVersionedMigration, gen.FeatureLock, gen.FeatureExecQuery, gen.FeatureModifier},
		Templates: []*gen.Template{gen.MustParse(gen.NewTemplate("driver").Parse(driverTemplate))},
	})
	if err != nil {
		log.Fatalf("entc: %v", err)
	}
}

// driverTemplate adds Client.QueryRows and Client.Dialect: a store runs
// its hottest per-request statement as constant SQL on the client's own
// driver (the platform's deadline and error classification included),
// where ent's builder would assemble the same text anew on every call.
// Only the query is exposed, not the driver, whose Tx and Close would let
// a package start a transaction outside platform/txn or close the pool.
const driverTemplate = `{{ define "client/additional/driver" }}
// QueryRows runs a statement that returns rows on the client's driver.
func (c *Client) QueryRows(ctx context.Context, query string, args []any, rows *sql.Rows) error {
	return c.driver.Query(ctx, query, args, rows)
}

// Dialect is the name of the client's SQL dialect.
func (c *Client) Dialect() string { return c.driver.Dialect() }
{{ end }}`
