package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/ownership"
)

// MFAChallenge is an mfa_token: the proof that a password grant for an
// account with a second factor succeeded, short-lived and single-use,
// bound to the account and the client. Stored only as a SHA-256 hash.
// Owned by modules/auth.
type MFAChallenge struct {
	ent.Schema
}

// Annotations names the owning module and the table.
func (MFAChallenge) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth"), entsql.Annotation{Table: "mfa_challenges"}}
}

// Fields of the MFAChallenge.
func (MFAChallenge) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("token_hash").MaxLen(64).Immutable().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "char(64)"}),
		field.String("client_id").MaxLen(64).Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(64)"}),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of the MFAChallenge.
func (MFAChallenge) Indexes() []ent.Index {
	return []ent.Index{index.Fields("token_hash").Unique(), index.Fields("expires_at")}
}
