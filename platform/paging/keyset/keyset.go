// Package keyset applies the list convention of platform/paging to ent
// queries: the order every list uses and the predicate that starts a page
// after a cursor. Every entity it serves has created_at and id columns
// (the mixin in ent/schema gives them) and an index that ends with them.
package keyset

import (
	"entgo.io/ent/dialect/sql"

	"github.com/acme/monolith/platform/paging"
)

// The columns of the list order.
const (
	createdAt = "created_at"
	id        = "id"
)

// Order sorts rows in the list order: oldest first, then by id. Pass it to
// a generated query's Order.
func Order(s *sql.Selector) {
	s.OrderBy(sql.Asc(s.C(createdAt)), sql.Asc(s.C(id)))
}

// After keeps the rows that sort after c; the zero cursor keeps every row.
// Pass it to a generated query's Where.
func After(c paging.Cursor) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if c.IsZero() {
			return
		}
		s.Where(sql.Or(
			sql.GT(s.C(createdAt), c.CreatedAt),
			sql.And(sql.EQ(s.C(createdAt), c.CreatedAt), sql.GT(s.C(id), c.ID)),
		))
	}
}

// NewestFirst sorts rows in the reverse list order: newest first, then by
// id descending, for logs read from the latest entry back (the audit log).
// Pair it with Before.
func NewestFirst(s *sql.Selector) {
	s.OrderBy(sql.Desc(s.C(createdAt)), sql.Desc(s.C(id)))
}

// Before keeps the rows that sort before c, the next page of a
// NewestFirst list; the zero cursor keeps every row.
func Before(c paging.Cursor) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if c.IsZero() {
			return
		}
		s.Where(sql.Or(
			sql.LT(s.C(createdAt), c.CreatedAt),
			sql.And(sql.EQ(s.C(createdAt), c.CreatedAt), sql.LT(s.C(id), c.ID)),
		))
	}
}
