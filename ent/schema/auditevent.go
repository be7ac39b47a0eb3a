package schema

import (
	"strconv"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/acme/monolith/platform/entmixin"
	"github.com/acme/monolith/platform/ownership"
)

// AuditEvent is one entry of the audit log (platform/audit). Owned by
// modules/audit. created_at is the time of the event; rows are appended and
// pruned, never updated. Actor and target ids are plain columns, not
// foreign keys: an entry outlives the account or role it names.
type AuditEvent struct {
	ent.Schema
}

// Mixin gives the AuditEvent its id and timestamps.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{entmixin.Record{}}
}

// Annotations names the owning module.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("audit")}
}

// varchar bounds a Postgres column as MaxLen bounds the value in Go.
func varchar(n int) map[string]string {
	return map[string]string{dialect.Postgres: "varchar(" + strconv.Itoa(n) + ")"}
}

// Fields of the AuditEvent; the limits are platform/audit's.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("actor_kind").MaxLen(16).SchemaType(varchar(16)).Immutable(),
		field.String("actor_id").MaxLen(128).Default("").SchemaType(varchar(128)).Immutable(),
		field.String("action").MaxLen(64).NotEmpty().SchemaType(varchar(64)).Immutable(),
		field.String("target_type").MaxLen(64).NotEmpty().SchemaType(varchar(64)).Immutable(),
		field.String("target_id").MaxLen(128).Default("").SchemaType(varchar(128)).Immutable(),
		field.String("client_ip").MaxLen(128).Default("").SchemaType(varchar(128)).Immutable(),
		field.String("request_id").MaxLen(128).Default("").SchemaType(varchar(128)).Immutable(),
		field.JSON("payload", map[string]string{}).Optional().Immutable(),
	}
}

// Indexes of the AuditEvent: the list order, and each filter followed by it.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at", "id"),
		index.Fields("actor_id", "created_at", "id"),
		index.Fields("target_type", "target_id", "created_at", "id"),
		index.Fields("action", "created_at", "id"),
	}
}
