// Package auditstore persists the audit log with ent. It is the only
// package that queries the audit table; it converts ent entities to
// auditsvc types.
package auditstore

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/auditevent"
	"github.com/acme/monolith/ent/predicate"
	"github.com/acme/monolith/modules/audit/auditsvc"
	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/paging/keyset"
	"github.com/acme/monolith/platform/txn"
)

// Store implements auditsvc.Storer.
type Store struct {
	db *ent.Client
}

var _ auditsvc.Storer = (*Store)(nil)

// New returns the store.
func New(db *ent.Client) *Store { return &Store{db: db} }

// Insert writes e in the caller's transaction when there is one (the
// change it describes), on its own otherwise.
func (s *Store) Insert(ctx context.Context, e auditsvc.Event) error {
	q := txn.Client(ctx, s.db).AuditEvent.Create().
		SetID(e.ID).
		SetCreatedAt(e.Time).
		SetUpdatedAt(e.Time).
		SetActorKind(string(e.Actor.Kind)).
		SetActorID(e.Actor.ID).
		SetAction(e.Action).
		SetTargetType(e.Target.Type).
		SetTargetID(e.Target.ID).
		SetClientIP(e.ClientIP).
		SetRequestID(e.RequestID)
	if len(e.Payload) > 0 {
		q.SetPayload(e.Payload)
	}
	if err := q.Exec(ctx); err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return nil
}

func where(f auditsvc.Filter) []predicate.AuditEvent {
	var ps []predicate.AuditEvent
	if f.ActorKind != "" {
		ps = append(ps, auditevent.ActorKind(string(f.ActorKind)))
	}
	if f.ActorID != "" {
		ps = append(ps, auditevent.ActorID(f.ActorID))
	}
	if f.Action != "" {
		ps = append(ps, auditevent.Action(f.Action))
	}
	if f.TargetType != "" {
		ps = append(ps, auditevent.TargetType(f.TargetType))
	}
	if f.TargetID != "" {
		ps = append(ps, auditevent.TargetID(f.TargetID))
	}
	if !f.From.IsZero() {
		ps = append(ps, auditevent.CreatedAtGTE(f.From.UTC()))
	}
	if !f.To.IsZero() {
		ps = append(ps, auditevent.CreatedAtLT(f.To.UTC()))
	}
	return ps
}

// List returns a page of the entries f matches, newest first, and their
// total when asked.
func (s *Store) List(ctx context.Context, f auditsvc.Filter, r paging.Request) (paging.Result[auditsvc.Event], error) {
	ps := where(f)
	rows, err := s.db.AuditEvent.Query().
		Where(append(ps, keyset.Before(r.After))...).
		Order(keyset.NewestFirst).
		Limit(r.Limit + 1).
		All(ctx)
	if err != nil {
		return paging.Result[auditsvc.Event]{}, fmt.Errorf("list audit events: %w", err)
	}
	out := make([]auditsvc.Event, len(rows))
	for i, row := range rows {
		out[i] = toDomain(row)
	}
	page := paging.Trim(out, r.Limit, func(v auditsvc.Event) paging.Cursor {
		return paging.Cursor{CreatedAt: v.Time, ID: v.ID}
	})
	if r.Total {
		n, err := s.db.AuditEvent.Query().Where(ps...).Count(ctx)
		if err != nil {
			return paging.Result[auditsvc.Event]{}, fmt.Errorf("count audit events: %w", err)
		}
		page.Total = &n
	}
	return page, nil
}

// Prune deletes the entries older than cutoff.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := s.db.AuditEvent.Delete().Where(auditevent.CreatedAtLT(cutoff.UTC())).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune audit events: %w", err)
	}
	return n, nil
}

func toDomain(r *ent.AuditEvent) auditsvc.Event {
	return auditsvc.Event{ID: r.ID, Entry: audit.Entry{
		Time:      r.CreatedAt.UTC(),
		Actor:     audit.Actor{Kind: audit.ActorKind(r.ActorKind), ID: r.ActorID},
		Action:    r.Action,
		Target:    audit.Target{Type: r.TargetType, ID: r.TargetID},
		ClientIP:  r.ClientIP,
		RequestID: r.RequestID,
		Payload:   r.Payload,
	}}
}
