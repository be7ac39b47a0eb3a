package authsvc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/mail"
)

// requestReset asks for a reset of email and returns the mailed token.
func (r *rig) requestReset(t *testing.T, email string) (string, mail.Message) {
	t.Helper()
	if err := r.svc.RequestReset(t.Context(), email, Client{IP: "203.0.113.7"}); err != nil {
		t.Fatal(err)
	}
	msg := <-r.mail.sent
	return msg.Secret, msg
}

// TestResetEmailCarriesOneToken: a recovery for an active account mails a
// token (as a link under PUBLIC_URL and on its own line) that is stored
// only hashed and expires after the reset lifetime; the email says so.
func TestResetEmailCarriesOneToken(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	raw, msg := r.requestReset(t, "ADA@example.test")
	if msg.To != a.Email || len(raw) != opaqueLen ||
		!strings.Contains(msg.Text, "https://app.example.test/reset-password#token="+raw+"\n") ||
		!strings.Contains(msg.Text, "\n"+raw+"\n") || !strings.Contains(msg.Text, rigResetTTL.String()) {
		t.Fatalf("message: %+v", msg)
	}
	r.store.mu.Lock()
	stored, ok := r.store.resets[hashToken(raw)]
	_, clear := r.store.resets[raw]
	r.store.mu.Unlock()
	if !ok || clear || stored.user != a.UserID || !stored.expires.Equal(r.clock.now().Add(rigResetTTL)) {
		t.Fatalf("stored %+v (found %v, in clear %v)", stored, ok, clear)
	}
}

// TestRecoveryRevealsNoAccount: an unknown address and an account that may
// not act get the same answer as an active one, and nothing is stored
// (so nothing is mailed: the email follows the stored token).
func TestRecoveryRevealsNoAccount(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	r.accounts.setActive(a.UserID, false)
	for _, email := range []string{"nobody@example.test", a.Email, "not an address"} {
		if err := r.svc.RequestReset(t.Context(), email, Client{}); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
	}
	if n := r.store.resetCount(); n != 0 {
		t.Fatalf("%d reset tokens stored", n)
	}
	// An outage is not silence: the caller learns the request failed.
	r.accounts.fail = errors.New("connection refused")
	if err := r.svc.RequestReset(t.Context(), "ada@example.test", Client{}); err == nil {
		t.Fatal("an outage answered as success")
	}
}

// TestRecoveryFailsWhenTheEmailCannotBeQueued: the email is queued in the
// token's transaction, so a queue that refuses it fails the request (the
// transaction then rolls back: a token nobody is told about is not left
// standing) rather than answering as if an email were on its way.
func TestRecoveryFailsWhenTheEmailCannotBeQueued(t *testing.T) {
	r := newRig(t)
	r.accounts.add("ada@example.test", "a long passphrase")
	queueDown := errors.New("enqueue mail.send: connection refused")
	r.mail.fail = queueDown
	if err := r.svc.RequestReset(t.Context(), "ada@example.test", Client{}); !errors.Is(err, queueDown) {
		t.Fatalf("RequestReset with the queue down: %v", err)
	}
}

// TestResetTokenWorksOnce: a redeemed token changes the password through
// the accounts, forgets the account's sign-in failures, and is refused
// the second time.
func TestResetTokenWorksOnce(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	raw, _ := r.requestReset(t, a.Email)
	if err := r.svc.ResetPassword(t.Context(), raw, "recovered passphrase 7", Client{}); err != nil {
		t.Fatal(err)
	}
	if r.accounts.resetTo[a.UserID] != "recovered passphrase 7" {
		t.Fatalf("password not reset: %q", r.accounts.resetTo[a.UserID])
	}
	if got := strings.Join(r.limiter.forgotten, ","); got != "login.account-ip,login.account" {
		t.Fatalf("forgotten counters: %q", got)
	}
	if err := r.svc.ResetPassword(t.Context(), raw, "another passphrase 8", Client{}); !errors.Is(err, ErrInvalidResetToken) {
		t.Fatalf("second use: %v", err)
	}
}

// TestResetTokenExpires: a token is refused from the reset lifetime on
// (control: just before, it works).
func TestResetTokenExpires(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	raw, _ := r.requestReset(t, a.Email)
	r.clock.advance(rigResetTTL)
	if err := r.svc.ResetPassword(t.Context(), raw, "recovered passphrase 7", Client{}); !errors.Is(err, ErrInvalidResetToken) {
		t.Fatalf("expired token: %v", err)
	}
	raw, _ = r.requestReset(t, a.Email)
	r.clock.advance(rigResetTTL - time.Microsecond)
	if err := r.svc.ResetPassword(t.Context(), raw, "recovered passphrase 7", Client{}); err != nil {
		t.Fatalf("control: just inside the lifetime: %v", err)
	}
}

// TestRefusedPasswordKeepsTheToken: the password policy is checked before
// the single-use token is spent, so a refused password leaves it usable;
// text that cannot be a token is refused without a lookup.
func TestRefusedPasswordKeepsTheToken(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	raw, _ := r.requestReset(t, a.Email)
	err := r.svc.ResetPassword(t.Context(), raw, "password123", Client{})
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || errors.Is(err, ErrInvalidResetToken) {
		t.Fatalf("common password: %v", err)
	}
	if err := r.svc.ResetPassword(t.Context(), raw, "recovered passphrase 7", Client{}); err != nil {
		t.Fatalf("the token after a refused password: %v", err)
	}
	if err := r.svc.ResetPassword(t.Context(), "short", "recovered passphrase 7", Client{}); !errors.Is(err, ErrInvalidResetToken) {
		t.Fatalf("malformed token: %v", err)
	}
}

// TestSignInEndsPendingResets: whoever signs in knows the password, so a
// token mailed earlier must not stay usable.
func TestSignInEndsPendingResets(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	raw, _ := r.requestReset(t, a.Email)
	if _, err := r.svc.Login(t.Context(), a.Email, "a long passphrase", Client{}); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.ResetPassword(t.Context(), raw, "recovered passphrase 7", Client{}); !errors.Is(err, ErrInvalidResetToken) {
		t.Fatalf("reset token after a sign-in: %v", err)
	}
	if _, err := r.svc.Login(t.Context(), a.Email, "a long passphrase", Client{}); err != nil {
		t.Fatalf("control: the password is unchanged: %v", err)
	}
	if _, ok := r.accounts.resetTo[a.UserID]; ok {
		t.Fatal("password was reset")
	}
}
