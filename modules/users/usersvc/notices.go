package usersvc

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/mail"
)

// Publisher publishes an account event in the transaction ctx carries;
// the platform's events.Bus satisfies it.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) error
}

// discard is the Publisher of a service without one (the users module
// built alone in a tool, fakes).
type discard struct{}

func (discard) Publish(context.Context, events.Event) error { return nil }

// changedBy is who acts in ctx outside the self-service paths: a signed-in
// administrator, or the system (the CLI, the first-start bootstrap).
func changedBy(ctx context.Context) authn.ChangedBy {
	if _, err := authn.CurrentUser(ctx); err == nil {
		return authn.ByAdmin
	}
	return authn.BySystem
}

// Subscriptions of the notice mails (stable: stored with each delivery).
const (
	EmailNoticeSubscription    = "users.email_changed_notice"
	PasswordNoticeSubscription = "users.password_changed_notice"
)

// EmailNotice tells the old address of an account that its sign-in
// email changed (ASVS 5.0 V6.3.7), so that a change its holder did not
// make does not go unnoticed. It subscribes to authn.AccountEmailChanged:
// the mail is sent by the job queue, after the change committed, retried
// while the relay fails, and never holds the request that made the
// change. It names neither the new address nor any secret.
type EmailNotice struct{ Sender mail.Sender }

// Handle implements events.Subscriber.
func (n EmailNotice) Handle(ctx context.Context, d events.Delivery[authn.AccountEmailChanged]) error {
	e := d.Event
	msg, err := composeNotice(e.OldEmail, "The email address of your account was changed",
		"The email address you sign in with was changed", e.By, e.At,
		"This address is no longer the account's: it will not receive password-reset emails or further notices for it.")
	if err != nil {
		return err
	}
	return send(ctx, n.Sender, msg)
}

// PasswordNotice tells an account holder that their password changed;
// like EmailNotice, a subscriber (to authn.AccountPasswordChanged).
type PasswordNotice struct{ Sender mail.Sender }

// Handle implements events.Subscriber.
func (n PasswordNotice) Handle(ctx context.Context, d events.Delivery[authn.AccountPasswordChanged]) error {
	e := d.Event
	msg, err := composeNotice(e.Email, "The password of your account was changed",
		"The password of your account was changed", e.By, e.At,
		"Every device signed in to the account was signed out.")
	if err != nil {
		return err
	}
	return send(ctx, n.Sender, msg)
}

func send(ctx context.Context, s mail.Sender, m mail.Message) error {
	if err := s.Send(ctx, m); err != nil {
		return fmt.Errorf("send account notice %q: %w", m.Subject, err)
	}
	return nil
}

func composeNotice(to, subject, what string, by authn.ChangedBy, at time.Time, consequence string) (mail.Message, error) {
	var who string
	switch by {
	case authn.BySelf:
		who = "from your account, with your current password"
	case authn.ByAdmin:
		who = "by an administrator"
	case authn.ByReset:
		who = "through a password-reset email sent to this address"
	case authn.BySystem:
		who = "by an operator of the service"
	default:
		// Retrying cannot make it known: the delivery is cancelled.
		return mail.Message{}, events.Permanent(fmt.Errorf("account notice: unknown actor %q", by))
	}
	const unexpected = "If you did not make or ask for this change, contact your administrator at once: " +
		"someone else may have access to your account.\n"
	return mail.Message{
		To:      to,
		Subject: subject,
		Text:    what + " " + who + " on " + at.UTC().Format("Monday 2 January 2006 at 15:04 UTC") + ".\n\n" + consequence + "\n\n" + unexpected,
	}, nil
}
