package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/acme/monolith/platform/ownership"
)

// Throttle is one brute-force counter (per account or per client IP and
// action), kept in the database so every replica sees the same count.
// Owned by modules/auth.
type Throttle struct {
	ent.Schema
}

// Annotations names the owning module.
func (Throttle) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the Throttle.
func (Throttle) Fields() []ent.Field {
	return []ent.Field{
		// id is "<action>:<scope>:<hash of subject>"; the subject (an email)
		// is hashed so the table holds no personal data in clear.
		field.String("id").MaxLen(128).NotEmpty().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(128)"}),
		field.Int("count").Default(0),
		field.Time("window_start"),
		field.Time("blocked_until").Optional().Nillable(),
	}
}
