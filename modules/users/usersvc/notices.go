package usersvc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/acme/monolith/platform/mail"
)

// NoticeKind is the authentication detail that changed.
type NoticeKind int

// What a notice reports.
const (
	EmailChanged NoticeKind = iota + 1
	PasswordChanged
)

// Actor is who made a change.
type Actor int

// Who changes an account's credentials.
const (
	BySelf  Actor = iota + 1 // the account holder, with their current password
	ByAdmin                  // a superuser
	ByReset                  // a password-reset token sent to the account's email
)

// Notice tells an account holder that an authentication detail of their
// account changed (ASVS 5.0 V6.3.7), so that a change they did not make
// does not go unnoticed. It carries no secret, and an email change is told
// to the old address without naming the new one.
type Notice struct {
	Kind NoticeKind
	To   string // for an email change, the old address
	By   Actor
	At   time.Time
}

// Notifier delivers notices once the change they report has committed. It
// must neither block nor fail the request that made the change: Notify
// hands the notice over and returns; delivery failures are its own to
// report. The users service calls nothing else to send mail, so moving
// delivery onto a durable queue replaces this one implementation.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// MailNotices hands notices to the platform's mail.Sender, which queues
// them for the mail worker: the response never waits for (or depends on)
// the mail relay.
type MailNotices struct {
	sender  mail.Sender
	log     *zap.Logger
	timeout time.Duration
	wg      sync.WaitGroup
}

// NewMailNotices returns the mail notifier.
func NewMailNotices(sender mail.Sender, log *zap.Logger) *MailNotices {
	return &MailNotices{sender: sender, log: log, timeout: time.Minute}
}

// Notify implements Notifier.
func (m *MailNotices) Notify(ctx context.Context, n Notice) error {
	msg, err := composeNotice(n)
	if err != nil {
		return err
	}
	// Detached from the request, which may end (and cancel) first.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
	m.wg.Go(func() {
		defer cancel()
		if err := m.sender.Send(ctx, msg); err != nil {
			m.log.Error("send account notice", zap.String("subject", msg.Subject), zap.Error(err))
		}
	})
	return nil
}

// Drain waits for the notices being sent, or for ctx: on shutdown, a
// notice already accepted is delivered if the relay answers in time.
func (m *MailNotices) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("account notices still sending: %w", ctx.Err())
	}
}

func composeNotice(n Notice) (mail.Message, error) {
	when := n.At.UTC().Format("Monday 2 January 2006 at 15:04 UTC")
	var who string
	switch n.By {
	case BySelf:
		who = "from your account, with your current password"
	case ByAdmin:
		who = "by an administrator"
	case ByReset:
		who = "through a password-reset email sent to this address"
	default:
		return mail.Message{}, fmt.Errorf("account notice: unknown actor %d", n.By)
	}
	const unexpected = "If you did not make or ask for this change, contact your administrator at once: " +
		"someone else may have access to your account.\n"
	switch n.Kind {
	case EmailChanged:
		return mail.Message{
			To:      n.To,
			Subject: "The email address of your account was changed",
			Text: "The email address you sign in with was changed " + who + " on " + when + ".\n\n" +
				"This address is no longer the account's: it will not receive password-reset emails " +
				"or further notices for it.\n\n" + unexpected,
		}, nil
	case PasswordChanged:
		return mail.Message{
			To:      n.To,
			Subject: "The password of your account was changed",
			Text: "The password of your account was changed " + who + " on " + when + ".\n\n" +
				"Every device signed in to the account was signed out.\n\n" + unexpected,
		}, nil
	default:
		return mail.Message{}, fmt.Errorf("account notice: unknown kind %d", n.Kind)
	}
}
