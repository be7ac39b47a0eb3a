package authsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/password"
)

// ResetStore keeps password-reset tokens, hashed.
type ResetStore interface {
	CreateReset(ctx context.Context, userID uuid.UUID, hash string, now, expires time.Time) error
	// ConsumeReset marks the token used, once, if it is unexpired, and
	// returns its user; otherwise ErrNoSession.
	ConsumeReset(ctx context.Context, hash string, now time.Time) (uuid.UUID, error)
	// DeleteResets removes every reset token of the user, used or not.
	DeleteResets(ctx context.Context, userID uuid.UUID) error
}

// ErrInvalidResetToken covers unknown, used and expired reset tokens alike.
var ErrInvalidResetToken = fault.New(fault.Invalid, "invalid_reset_token", "The reset token is invalid or expired.")

// Resets issues and redeems password-reset tokens.
type Resets struct {
	store  ResetStore
	mailer mail.Sender
	log    *zap.Logger
}

// NewResets returns the reset flow's dependencies.
func NewResets(store ResetStore, mailer mail.Sender, log *zap.Logger) *Resets {
	return &Resets{store: store, mailer: mailer, log: log}
}

// RequestReset sends a reset token to email if it belongs to an active
// account. The caller always gets the same answer: whether the email
// exists is not revealed, and the email is sent in the background so the
// response time does not reveal it either.
func (s *Service) RequestReset(ctx context.Context, email string, c Client) error {
	keys := []string{s.throttle.AccountKey("recover", email), s.throttle.IPKey("recover", c.IP)}
	if err := s.throttle.Check(ctx, keys...); err != nil {
		return err
	}
	// Every request counts: each one may send an email.
	if err := s.throttle.Fail(ctx, keys...); err != nil {
		return fmt.Errorf("password recovery: %w", err)
	}
	p, err := s.users.PrincipalByEmail(ctx, strings.ToLower(email))
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated || fe.Kind == fault.Invalid) {
			return nil
		}
		return fmt.Errorf("password recovery: %w", err)
	}
	raw := newOpaqueToken()
	now := s.now().UTC().Truncate(time.Microsecond)
	if err := s.resets.store.CreateReset(ctx, p.UserID, hashToken(raw), now, now.Add(s.opts.ResetTTL)); err != nil {
		return fmt.Errorf("password recovery: %w", err)
	}
	link := strings.TrimRight(s.opts.PublicURL, "/") + "/reset-password?token=" + raw
	msg := mail.Message{
		To:      p.Email,
		Subject: "Reset your password",
		Secret:  raw,
		Text: "Someone asked to reset the password of your account.\n\n" +
			"Open this link to choose a new password:\n" + link + "\n\n" +
			"Or send this token to POST /api/auth/reset-password:\n" + raw + "\n\n" +
			"It expires in " + s.opts.ResetTTL.String() + " and works once. If you did not ask, ignore this email.\n",
	}
	// Detached on purpose: the request must not wait for (or reveal) delivery.
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.resets.mailer.Send(ctx, msg); err != nil {
			s.resets.log.Error("send password-reset email", zap.Error(err))
		}
	}()
	return nil
}

// ResetPassword redeems a reset token: the password changes (the users
// module applies its policy) and every session of the account ends.
func (s *Service) ResetPassword(ctx context.Context, token, pw string, c Client) error {
	ipKey := s.throttle.IPKey("reset", c.IP)
	if err := s.throttle.Check(ctx, ipKey); err != nil {
		return err
	}
	fail := func() error {
		if err := s.throttle.Fail(ctx, ipKey); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		return ErrInvalidResetToken
	}
	if len(token) != opaqueLen {
		return fail()
	}
	// Check the policy before spending the single-use token on a password
	// that would be refused.
	if err := password.Check("new_password", pw); err != nil {
		return err
	}
	userID, err := s.resets.store.ConsumeReset(ctx, hashToken(token), s.now().UTC())
	if errors.Is(err, ErrNoSession) {
		return fail()
	}
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if err := s.users.ResetPassword(ctx, userID, pw); err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	return nil
}

// ResetRevoker implements authn.ResetRevoker for the users module.
type ResetRevoker struct{ store ResetStore }

// NewResetRevoker returns the revoker.
func NewResetRevoker(store ResetStore) *ResetRevoker { return &ResetRevoker{store: store} }

// RevokePasswordResets ends every outstanding reset token of userID.
func (r *ResetRevoker) RevokePasswordResets(ctx context.Context, userID uuid.UUID) error {
	if err := r.store.DeleteResets(ctx, userID); err != nil {
		return fmt.Errorf("revoke password resets: %w", err)
	}
	return nil
}
