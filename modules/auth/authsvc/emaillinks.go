package authsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/throttle"
)

// Purpose is what an email token proves.
type Purpose string

// The purposes of email tokens: a token of one is never accepted for the
// other (nor as a password-reset token, which lives apart).
const (
	PurposeVerify Purpose = "verify"
	PurposeChange Purpose = "change"
)

// EmailToken is a stored email token: its hash, never the token.
type EmailToken struct {
	UserID  uuid.UUID
	Purpose Purpose
	// Email is where the token was mailed.
	Email   string
	Hash    string
	Created time.Time
	Expires time.Time
}

// EmailTokenStore keeps email tokens, hashed.
type EmailTokenStore interface {
	// CreateEmailToken stores t, dropping the user's other tokens of the
	// same purpose: only the latest link works.
	CreateEmailToken(ctx context.Context, t EmailToken) error
	// ConsumeEmailToken marks the token of purpose used, once, if it is
	// unexpired, and returns its user and address; otherwise ErrNoSession.
	ConsumeEmailToken(ctx context.Context, purpose Purpose, hash string, now time.Time) (uuid.UUID, string, error)
	// DeleteEmailTokens removes the user's tokens of purpose ("": all).
	DeleteEmailTokens(ctx context.Context, userID uuid.UUID, purpose Purpose) error
}

// ErrInvalidEmailToken covers unknown, used, expired and other flows'
// tokens alike.
var ErrInvalidEmailToken = fault.New(fault.Invalid, "invalid_email_token", "The link is invalid or expired: ask for a new one.")

// ErrEmailTaken is the users module's refusal of a confirmed change to an
// address another account took meanwhile (the same code and kind, so the
// document lists it here too).
var ErrEmailTaken = fault.New(fault.Conflict, "email_taken", "A user with this email already exists.")

// EmailLinkOptions are the links' templates ({token} for the token) and
// lifetimes.
type EmailLinkOptions struct {
	VerifyLink, ChangeLink string
	VerifyTTL, ChangeTTL   time.Duration
}

// EmailLinks implements authn.EmailLinks: it writes the token and hands
// its mail to the sender in the caller's transaction, so a registration
// or change that rolls back leaves neither behind (a transactional
// sender then sends only what committed). It depends on the store and
// the sender only, so the users module can call it without a cycle.
type EmailLinks struct {
	store  EmailTokenStore
	mailer mail.Sender
	opts   EmailLinkOptions
	now    func() time.Time
}

var _ authn.EmailLinks = (*EmailLinks)(nil)

// NewEmailLinks returns the email links' sender.
func NewEmailLinks(store EmailTokenStore, mailer mail.Sender, opts EmailLinkOptions) *EmailLinks {
	return &EmailLinks{store: store, mailer: mailer, opts: opts, now: time.Now}
}

// issue stores a new token of purpose for userID, mailed to email, and
// returns it with its link.
func (l *EmailLinks) issue(ctx context.Context, userID uuid.UUID, purpose Purpose, email string) (raw, link string, err error) {
	raw = newOpaqueToken()
	now := l.now().UTC().Truncate(time.Microsecond)
	tmpl, ttl := l.opts.VerifyLink, l.opts.VerifyTTL
	if purpose == PurposeChange {
		tmpl, ttl = l.opts.ChangeLink, l.opts.ChangeTTL
	}
	t := EmailToken{UserID: userID, Purpose: purpose, Email: email, Hash: hashToken(raw), Created: now, Expires: now.Add(ttl)}
	if err := l.store.CreateEmailToken(ctx, t); err != nil {
		return "", "", err
	}
	return raw, strings.ReplaceAll(tmpl, "{token}", raw), nil
}

// SendVerification implements authn.EmailLinks.
func (l *EmailLinks) SendVerification(ctx context.Context, a authn.Account) error {
	raw, link, err := l.issue(ctx, a.UserID, PurposeVerify, a.Email)
	if err != nil {
		return fmt.Errorf("email verification: %w", err)
	}
	return l.send(ctx, mail.Message{
		To: a.Email, Subject: "Verify your email address", Secret: raw,
		Text: "Someone created an account with this email address.\n\n" +
			"Open this link to confirm that the address is yours:\n" + link + "\n\n" +
			"Or send this token to POST /api/auth/verify-email:\n" + raw + "\n\n" +
			"It expires in " + l.opts.VerifyTTL.String() + " and works once. If you did not create an account, ignore this email.\n",
	})
}

// SendRegistrationAttempt implements authn.EmailLinks.
func (l *EmailLinks) SendRegistrationAttempt(ctx context.Context, a authn.Account) error {
	return l.send(ctx, mail.Message{
		To: a.Email, Subject: "Someone tried to register with your email address",
		Text: "Someone tried to create an account with this email address, which already has one. " +
			"Nothing was changed.\n\n" +
			"If it was you: sign in with your password, or ask for a password reset if you forgot it.\n" +
			"If it was not you, you can ignore this email.\n",
	})
}

// SendEmailChange implements authn.EmailLinks.
func (l *EmailLinks) SendEmailChange(ctx context.Context, a authn.Account, newEmail string) error {
	raw, link, err := l.issue(ctx, a.UserID, PurposeChange, newEmail)
	if err != nil {
		return fmt.Errorf("email change: %w", err)
	}
	err = l.send(ctx, mail.Message{
		To: newEmail, Subject: "Confirm your new email address", Secret: raw,
		Text: "The holder of an account asked to sign in with this email address from now on.\n\n" +
			"Open this link to confirm the change:\n" + link + "\n\n" +
			"Or send this token to POST /api/auth/confirm-email:\n" + raw + "\n\n" +
			"It expires in " + l.opts.ChangeTTL.String() + " and works once. If you did not ask for this, ignore this email: nothing changes.\n",
	})
	if err != nil {
		return err
	}
	// The new address is not named: this mailbox may not be the holder's.
	return l.send(ctx, mail.Message{
		To: a.Email, Subject: "A change of your email address was requested",
		Text: "Someone signed in to your account with its password asked to move it to another email address. " +
			"The change happens only when that address confirms it; until then this address stays the account's.\n\n" +
			"If it was not you, sign in and cancel it (DELETE /api/users/me/email-change), then change your password: " +
			"someone else knows it.\n",
	})
}

// CancelEmailChange implements authn.EmailLinks.
func (l *EmailLinks) CancelEmailChange(ctx context.Context, userID uuid.UUID) error {
	if err := l.store.DeleteEmailTokens(ctx, userID, PurposeChange); err != nil {
		return fmt.Errorf("cancel email change: %w", err)
	}
	return nil
}

func (l *EmailLinks) send(ctx context.Context, m mail.Message) error {
	if err := l.mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send %q: %w", m.Subject, err)
	}
	return nil
}

// ResendVerification mails a new verification link to email if it is an
// active, unverified account's. The answer is the same for an unknown,
// a verified and an unverified address, and every request counts, per
// address and per account, before anything is looked up.
func (s *Service) ResendVerification(ctx context.Context, email string, c Client) error {
	res, err := s.limiter.Reserve(ctx, s.limits.VerifyIP.Key(throttle.Address(c.IP)), s.limits.VerifyAccount.Key(accountSubject(email)))
	if err != nil {
		return fmt.Errorf("resend verification: %w", err)
	}
	a, err := s.accounts.AccountByEmail(ctx, email)
	if err == nil {
		err = a.MayAct()
	}
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated || fe.Kind == fault.Invalid) {
			return nil
		}
		_ = res.Release(ctx)
		return fmt.Errorf("resend verification: %w", err)
	}
	if a.EmailVerified || a.IsService() {
		return nil
	}
	if err := s.opts.Tx.InTx(ctx, func(ctx context.Context) error { return s.opts.Links.SendVerification(ctx, a) }); err != nil {
		_ = res.Release(ctx)
		return fmt.Errorf("resend verification: %w", err)
	}
	return nil
}

// VerifyEmail redeems a verification token: the account's address is
// verified if it is still the one the link was mailed to.
func (s *Service) VerifyEmail(ctx context.Context, token string, c Client) error {
	return s.redeemEmailToken(ctx, PurposeVerify, token, c, func(ctx context.Context, userID uuid.UUID, email string) error {
		err := s.opts.Owners.VerifyEmail(ctx, userID, email)
		if errors.Is(err, authn.ErrEmailMismatch) {
			return ErrInvalidEmailToken
		}
		return err
	})
}

// ConfirmEmailChange redeems an email-change token: the account moves to
// the new address, unless another account took it meanwhile (the users
// module's Conflict, with the token left unspent). Every other email
// token of the account ends with it.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string, c Client) error {
	return s.redeemEmailToken(ctx, PurposeChange, token, c, func(ctx context.Context, userID uuid.UUID, email string) error {
		if err := s.opts.Owners.ChangeEmail(ctx, userID, email); err != nil {
			if errors.Is(err, authn.ErrEmailMismatch) {
				return ErrInvalidEmailToken
			}
			return err
		}
		return s.opts.Links.store.DeleteEmailTokens(ctx, userID, "")
	})
}

// redeemEmailToken spends a token of purpose and applies it in one
// transaction: what apply refuses leaves the token as it was. Only bad
// tokens count against the client address.
func (s *Service) redeemEmailToken(ctx context.Context, purpose Purpose, token string, c Client, apply func(ctx context.Context, userID uuid.UUID, email string) error) error {
	res, err := s.limiter.Reserve(ctx, s.limits.EmailTokenIP.Key(throttle.Address(c.IP)))
	if err != nil {
		return fmt.Errorf("redeem email token: %w", err)
	}
	if len(token) != opaqueLen {
		return ErrInvalidEmailToken
	}
	err = s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		userID, email, err := s.opts.Links.store.ConsumeEmailToken(ctx, purpose, hashToken(token), s.now().UTC())
		if errors.Is(err, ErrNoSession) {
			return ErrInvalidEmailToken
		}
		if err != nil {
			return err
		}
		return apply(ctx, userID, email)
	})
	if errors.Is(err, ErrInvalidEmailToken) {
		return ErrInvalidEmailToken
	}
	_ = res.Release(ctx)
	if err != nil {
		return fmt.Errorf("redeem email token: %w", err)
	}
	return nil
}
