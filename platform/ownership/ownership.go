// Package ownership records which feature module owns an ent entity.
//
// Every schema in ent/schema carries an ownership.Module annotation. Only the
// owning module's store may query that entity; other modules reach the data
// through an interface they declare and fx satisfies.
package ownership

// Module is an ent schema annotation naming the owning module, e.g.
// ownership.Module("users").
type Module string

// Name implements entgo.io/ent/schema.Annotation.
func (Module) Name() string { return "OwnerModule" }
