package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/acme/monolith/platform/ownership"
)

// Throttle is one fixed-window attempt counter of platform/throttle (per
// client address, account, or pair of them, and rule), kept in the
// database so every replica sees the same count. Owned by the platform:
// platform/throttle is the only code that reads or writes it, with one
// atomic upsert per key that ent cannot express, so it uses SQL.
type Throttle struct {
	ent.Schema
}

// Annotations names the owner.
func (Throttle) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("platform")}
}

// Fields of the Throttle.
func (Throttle) Fields() []ent.Field {
	return []ent.Field{
		// id is "<rule>:<keyed hash of each subject>"; subjects (emails,
		// addresses) are hashed so the table holds no personal data.
		field.String("id").MaxLen(128).NotEmpty().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(128)"}),
		field.Int("count").Default(0),
		field.Time("window_start"),
		// expires_at ends the window: the counter starts again after it,
		// and the row is pruned. Null only in rows of earlier releases.
		field.Time("expires_at").Optional().Nillable(),
		// subject is "<rule>:<hash of the first subject>", shared by every
		// key about that subject (an account's pairs with each address), so
		// they can be forgotten together. Null only in earlier rows.
		field.String("subject").MaxLen(128).Optional().Nillable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(128)"}),
		// blocked_until was written by releases before the atomic limiter
		// and is no longer read; it stays until the release after, so a
		// rolling update never runs old code against a table without it.
		field.Time("blocked_until").Optional().Nillable(),
	}
}

// Indexes of the Throttle.
func (Throttle) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("expires_at"),
		index.Fields("subject"),
	}
}
