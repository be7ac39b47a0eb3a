package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/acme/monolith/platform/ownership"
)

// EventReceipt records that a subscription handled one delivery of a
// domain event (platform/events), so that a delivery worked again (a
// retry after the handler's effect, a job rescued after a crash) is not
// handled twice. Owned by the platform: platform/events is the only code
// that reads or writes it; receipts older than any redelivery are pruned.
type EventReceipt struct {
	ent.Schema
}

// Annotations names the owner.
func (EventReceipt) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("platform")}
}

// Fields of the EventReceipt.
func (EventReceipt) Fields() []ent.Field {
	return []ent.Field{
		// id is the delivery id: "<event id>/<subscription>".
		field.String("id").MaxLen(200).NotEmpty().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(200)"}),
		field.String("subscription").MaxLen(100).NotEmpty().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(100)"}),
		field.Time("handled_at").Immutable(),
	}
}

// Indexes of the EventReceipt.
func (EventReceipt) Indexes() []ent.Index {
	return []ent.Index{index.Fields("handled_at")}
}
