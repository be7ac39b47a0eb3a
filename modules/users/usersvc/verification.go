package usersvc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
)

// requestEmailChange mails the new address a confirmation link (and the
// current one a notice) once the new address is known to be free; the
// account keeps its address, and signs in with it, until the link is used.
func (s *Service) requestEmailChange(ctx context.Context, before User, email string) error {
	if _, err := s.store.ByEmail(ctx, email); err == nil {
		return ErrEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.links.SendEmailChange(ctx, account(before), email); err != nil {
			return err
		}
		return s.record(ctx, ActionEmailChangeAsked, targetUser, before.ID, nil)
	})
}

// CancelEmailChange voids the caller's pending email change; with none
// pending it does nothing (the answer is the same).
func (s *Service) CancelEmailChange(ctx context.Context, id uuid.UUID) error {
	if s.verification == VerificationOff {
		return nil // changes apply at once: none is ever pending
	}
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.links.CancelEmailChange(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, ActionEmailChangeEnded, targetUser, id, nil)
	})
	if err != nil {
		return fmt.Errorf("cancel email change: %w", err)
	}
	return nil
}

// VerifyEmail implements authn.EmailOwners: the link mailed to email was
// opened, so the account's address is verified, if it is still email.
func (s *Service) VerifyEmail(ctx context.Context, id uuid.UUID, email string) error {
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		u, err := s.store.ByID(ctx, id)
		if err != nil {
			return err
		}
		if u.Email != email {
			return authn.ErrEmailMismatch
		}
		if u.EmailVerified {
			return nil
		}
		at := s.now().UTC().Truncate(time.Microsecond)
		if _, err := s.store.Update(ctx, id, Change{VerifiedAt: &at}); err != nil {
			return err
		}
		return s.audit.Record(ctx, selfEntry(id, ActionEmailVerified))
	})
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	return nil
}

// ChangeEmail implements authn.EmailOwners: the new address confirmed the
// change its holder asked for, so the account moves to it, verified. The
// unique index decides between two accounts confirming one address: the
// second gets ErrEmailTaken. Reset tokens mailed to the old address end,
// and the old address is told.
func (s *Service) ChangeEmail(ctx context.Context, id uuid.UUID, email string) error {
	var before, after User
	c := Change{Email: &email}
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if before, err = s.store.ByID(ctx, id); err != nil {
			return err
		}
		if !before.IsActive {
			return authn.ErrEmailMismatch
		}
		at := s.now().UTC().Truncate(time.Microsecond)
		c.VerifiedAt = &at
		if after, err = s.store.Update(ctx, id, c); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, selfEntry(id, ActionEmailChanged)); err != nil {
			return err
		}
		if err := s.endResets(ctx, id); err != nil {
			return err
		}
		// The old address is told by the notice subscriber.
		return s.announce(ctx, before, after, c, authn.BySelf)
	})
	if err != nil {
		return fmt.Errorf("change email: %w", err)
	}
	return nil
}

// selfEntry is an entry about the account by whoever held the link mailed
// to it: the account's holder, as far as the server can tell.
func selfEntry(id uuid.UUID, action string) audit.Entry {
	return audit.Entry{Actor: audit.User(id.String()), Action: action, Target: audit.Target{Type: targetUser, ID: id.String()}}
}
