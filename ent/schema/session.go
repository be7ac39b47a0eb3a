package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/ownership"
)

// Session is one sign-in: the family of refresh tokens it rotates through
// and the access tokens issued from them (they carry its id as "sid").
// Owned by modules/auth. user_id is a plain column, not an edge: the users
// table belongs to another module.
type Session struct {
	ent.Schema
}

// Annotations names the owning module.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("client_id").MaxLen(64).
			SchemaType(map[string]string{dialect.Postgres: "varchar(64)"}),
		field.String("user_agent").MaxLen(256).Default("").
			SchemaType(map[string]string{dialect.Postgres: "varchar(256)"}),
		field.String("ip").MaxLen(64).Default("").
			SchemaType(map[string]string{dialect.Postgres: "varchar(64)"}),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("last_used_at").Default(now),
		// expires_at is the absolute lifetime; no refresh extends it.
		field.Time("expires_at"),
		field.Time("revoked_at").Optional().Nillable(),
		// amr is how the user signed in (RFC 8176 values): refreshed
		// access tokens carry it, so a second factor is not lost on refresh.
		// Empty on sessions older than the column: a password sign-in.
		field.Strings("amr").Optional(),
		field.String("revoke_reason").MaxLen(32).Default("").
			SchemaType(map[string]string{dialect.Postgres: "varchar(32)"}),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}
