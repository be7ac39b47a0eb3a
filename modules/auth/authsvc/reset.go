package authsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/throttle"
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
// exists is not revealed, and the email is only queued, never delivered
// while the request waits, so the response time does not reveal it
// either.
func (s *Service) RequestReset(ctx context.Context, email string, c Client) error {
	// Every request counts, reserved before the account is even looked up:
	// each one may send an email. The address first, so a flood of
	// distinct emails from one address stops there.
	res, err := s.limiter.Reserve(ctx, s.limits.RecoverIP.Key(throttle.Address(c.IP)), s.limits.RecoverAccount.Key(accountSubject(email)))
	if err != nil {
		return fmt.Errorf("password recovery: %w", err)
	}
	a, err := s.accounts.AccountByEmail(ctx, email)
	if err == nil {
		err = a.MayAct()
	}
	if err == nil && a.IsService() {
		// A service account has no password to reset: the same silence
		// as for an unknown email.
		return nil
	}
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated || fe.Kind == fault.Invalid) {
			return nil
		}
		_ = res.Release(ctx) // nothing was sent
		return fmt.Errorf("password recovery: %w", err)
	}
	raw := newOpaqueToken()
	now := s.now().UTC().Truncate(time.Microsecond)
	link := strings.ReplaceAll(s.opts.ResetLink, "{token}", raw)
	msg := mail.Message{
		To:      a.Email,
		Subject: "Reset your password",
		Secret:  raw,
		Text: "Someone asked to reset the password of your account.\n\n" +
			"Open this link to choose a new password:\n" + link + "\n\n" +
			"Or send this token to POST /api/auth/reset-password:\n" + raw + "\n\n" +
			"It expires in " + s.opts.ResetTTL.String() + " and works once. If you did not ask, ignore this email.\n",
	}
	err = s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.resets.store.CreateReset(ctx, a.UserID, hashToken(raw), now, now.Add(s.opts.ResetTTL)); err != nil {
			return err
		}
		// Whoever asked is unknown until the link is used.
		if err := s.opts.Audit.Record(ctx, audit.Entry{
			Actor: audit.Actor{Kind: audit.ActorUser}, Action: ActionResetRequested,
			Target: audit.Target{Type: targetUser, ID: a.UserID.String()}, ClientIP: c.IP,
		}); err != nil {
			return err
		}
		// Queued in the token's transaction: a token that rolls back is
		// never mailed, and a committed one is delivered by the mail
		// worker, with retries, however long the relay is away. The
		// request waits for the enqueue only, never for (or on) delivery.
		return s.resets.mailer.Send(ctx, msg)
	})
	if err != nil {
		_ = res.Release(ctx)
		return fmt.Errorf("password recovery: %w", err)
	}
	return nil
}

// ResetPassword redeems a reset token: the password changes (the users
// module applies its policy), every session of the account ends, and the
// account's sign-in counters are forgotten (the owner proved control of
// the mailbox, so failures from any address, an attacker's included, no
// longer stand between them and their account).
func (s *Service) ResetPassword(ctx context.Context, token, pw string, c Client) error {
	// Only bad tokens count; every other outcome gives the attempt back.
	res, err := s.limiter.Reserve(ctx, s.limits.ResetIP.Key(throttle.Address(c.IP)))
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if len(token) != opaqueLen {
		return ErrInvalidResetToken
	}
	// Check the policy before spending the single-use token on a password
	// that would be refused.
	if err := password.Check("new_password", pw); err != nil {
		_ = res.Release(ctx)
		return err
	}
	userID, err := s.resets.store.ConsumeReset(ctx, hashToken(token), s.now().UTC())
	if errors.Is(err, ErrNoSession) {
		return ErrInvalidResetToken
	}
	_ = res.Release(ctx)
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if err := s.accounts.ResetPassword(ctx, userID, pw); err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	s.forgetSignInFailures(ctx, userID)
	return nil
}

// forgetSignInFailures clears every sign-in counter of the account. The
// password has changed by now, so a failure here must not turn the reset
// into an error: the counters then simply run out with their window.
func (s *Service) forgetSignInFailures(ctx context.Context, userID uuid.UUID) {
	a, err := s.accounts.Account(ctx, userID)
	if err == nil {
		err = a.MayAct()
	}
	if err != nil {
		if fe, ok := fault.As(err); !ok || (fe.Kind != fault.NotFound && fe.Kind != fault.Unauthenticated) {
			s.resets.log.Warn("forget sign-in failures after a reset", zap.Error(err))
		}
		return // gone or inactive: it cannot sign in anyway
	}
	acct := throttle.Account(a.Email)
	for _, r := range []throttle.Rule{s.limits.LoginAccountIP, s.limits.LoginAccount} {
		if err := s.limiter.Forget(ctx, r, acct); err != nil {
			s.resets.log.Warn("forget sign-in failures after a reset", zap.Error(err))
		}
	}
}
