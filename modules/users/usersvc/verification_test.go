package usersvc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
)

// links records what the service asks the auth module to mail.
type links struct {
	verify, attempts []string
	changes          map[uuid.UUID]string
	cancelled        []uuid.UUID
}

func (l *links) SendVerification(_ context.Context, a authn.Account) error {
	l.verify = append(l.verify, a.Email)
	return nil
}

func (l *links) SendRegistrationAttempt(_ context.Context, a authn.Account) error {
	l.attempts = append(l.attempts, a.Email)
	return nil
}

func (l *links) SendEmailChange(_ context.Context, a authn.Account, to string) error {
	l.changes[a.UserID] = to
	return nil
}

func (l *links) CancelEmailChange(_ context.Context, id uuid.UUID) error {
	l.cancelled = append(l.cancelled, id)
	return nil
}

func verifyingFixture(t *testing.T, mode usersvc.Verification) (*fixture, *links) {
	t.Helper()
	f := newFixture(t, true)
	l := &links{changes: map[uuid.UUID]string{}}
	perms, err := authz.New(usersvc.Permissions...)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = usersvc.New(f.store, f.hasher, zap.NewNop(), usersvc.Options{
		SignupEnabled: true, Revoker: f.revoked, Events: f.told, Permissions: perms, Tx: markTx{}, Verification: mode, Links: l,
	})
	return f, l
}

// TestRegistrationIsNoOracle: with verification on, a new and a taken
// address give the same outcome after the same hashing; only the mail
// differs (a link to the new address, "someone tried" to the holder).
func TestRegistrationIsNoOracle(t *testing.T) {
	f, l := verifyingFixture(t, usersvc.VerificationOptional)
	ctx := context.Background()
	fresh, err := f.svc.Register(ctx, "new@example.com", "a new passphrase 1", "", "192.0.2.1")
	if err != nil || !fresh.Pending || fresh.User.ID != uuid.Nil {
		t.Fatalf("new: %+v %v", fresh, err)
	}
	hashedNew := f.hasher.hashed
	taken, err := f.svc.Register(ctx, "ADA@example.com", "an attacker passphrase", "", "192.0.2.1")
	if err != nil || !taken.Pending || taken.User.ID != uuid.Nil {
		t.Fatalf("taken: %+v %v, new: %+v", taken, err, fresh)
	}
	if f.hasher.hashed != 2*hashedNew {
		t.Fatalf("hashes: %d for the new address, %d in all", hashedNew, f.hasher.hashed)
	}
	if len(l.verify) != 1 || l.verify[0] != "new@example.com" || len(l.attempts) != 1 || l.attempts[0] != "ada@example.com" {
		t.Fatalf("mail: %+v", l)
	}
	if u, _ := f.store.ByEmail(ctx, "new@example.com"); u.EmailVerified {
		t.Fatal("a signup is verified before its link is opened")
	}
}

// TestEmailChangeIsPending: the address stays until the link's holder
// confirms; the confirmation verifies the new address and ends reset
// tokens; a verification link for an address the account left is refused.
func TestEmailChangeIsPending(t *testing.T) {
	f, l := verifyingFixture(t, usersvc.VerificationRequired)
	ctx := context.Background()
	u, err := f.svc.UpdateProfile(ctx, f.user.ID, usersvc.ProfilePatch{Email: ptr("Moved@Example.com"), CurrentPassword: ptr(userPassword)})
	if err != nil || u.Email != "ada@example.com" || l.changes[f.user.ID] != "moved@example.com" {
		t.Fatalf("request: %+v %v %+v", u, err, l)
	}
	if _, err := f.svc.UpdateProfile(ctx, f.user.ID, usersvc.ProfilePatch{Email: ptr("admin@example.com"), CurrentPassword: ptr(userPassword)}); !errors.Is(err, usersvc.ErrEmailTaken) {
		t.Fatalf("a taken address: %v", err)
	}
	if len(f.told.sent) != 0 {
		t.Fatalf("a requested change announced before its confirmation: %+v", f.told.sent)
	}
	if err := f.svc.ChangeEmail(ctx, f.user.ID, "moved@example.com"); err != nil {
		t.Fatal(err)
	}
	// The confirmed change is announced in its transaction (the notice to
	// the old address subscribes to it).
	if len(f.told.sent) != 1 || !f.told.inTx[0] {
		t.Fatalf("announced %+v (in a transaction: %v)", f.told.sent, f.told.inTx)
	}
	if e, ok := f.told.sent[0].(authn.AccountEmailChanged); !ok || e.OldEmail != "ada@example.com" || e.Email != "moved@example.com" {
		t.Fatalf("announced %+v", f.told.sent[0])
	}
	got, _ := f.store.ByID(ctx, f.user.ID)
	if got.Email != "moved@example.com" || !got.EmailVerified || len(f.revoked.resets) != 1 {
		t.Fatalf("after confirmation: %+v, resets ended %v", got, f.revoked.resets)
	}
	if err := f.svc.VerifyEmail(ctx, f.user.ID, "ada@example.com"); !errors.Is(err, authn.ErrEmailMismatch) {
		t.Fatalf("a link for the old address: %v", err)
	}
}

// TestUnverifiedSignInIsToldOnlyWithThePassword: with verification
// required, a wrong password answers as ever; the right one is told to
// verify; optional lets it in.
func TestUnverifiedSignInIsToldOnlyWithThePassword(t *testing.T) {
	for _, mode := range []usersvc.Verification{usersvc.VerificationRequired, usersvc.VerificationOptional} {
		f, _ := verifyingFixture(t, mode)
		ctx := context.Background()
		if _, err := f.svc.Register(ctx, "new@example.com", "a new passphrase 1", "", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, "new@example.com", "wrong passphrase"); !errors.Is(err, authn.ErrInvalidCredentials) {
			t.Fatalf("%s, wrong password: %v", mode, err)
		}
		_, err := f.svc.Authenticate(ctx, "new@example.com", "a new passphrase 1")
		if want := mode == usersvc.VerificationRequired; errors.Is(err, authn.ErrEmailUnverified) != want || (!want && err != nil) {
			t.Fatalf("%s, right password: %v", mode, err)
		}
	}
}

// TestPendingEmailChangeEndsWithTheCredentials: whoever asked for an email
// change may be who a password change, a reset or a deactivation just
// locked out, so each voids the pending change in its transaction; and a
// deactivated account's link moves it nowhere.
func TestPendingEmailChangeEndsWithTheCredentials(t *testing.T) {
	ctx := context.Background()
	ask := func(t *testing.T, f *fixture, l *links) {
		t.Helper()
		if _, err := f.svc.UpdateProfile(ctx, f.user.ID, usersvc.ProfilePatch{Email: ptr("thief@example.com"), CurrentPassword: ptr(userPassword)}); err != nil || l.changes[f.user.ID] != "thief@example.com" {
			t.Fatalf("request: %v %+v", err, l)
		}
		l.cancelled = nil
	}
	for name, end := range map[string]func(f *fixture) error{
		"password change": func(f *fixture) error {
			return f.svc.ChangePassword(ctx, f.user.ID, userPassword, "an entirely new passphrase")
		},
		"password reset": func(f *fixture) error { return f.svc.ResetPassword(ctx, f.user.ID, "a reset passphrase, long") },
		"deactivation": func(f *fixture) error {
			_, err := f.svc.Update(ctx, f.asAdmin(), f.user.ID, usersvc.Patch{IsActive: ptr(false)})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, l := verifyingFixture(t, usersvc.VerificationOptional)
			ask(t, f, l)
			if err := end(f); err != nil {
				t.Fatal(err)
			}
			if len(l.cancelled) != 1 || l.cancelled[0] != f.user.ID || f.revoked.outsideTx != 0 {
				t.Fatalf("pending change voided for %v (revocations outside the transaction: %d)", l.cancelled, f.revoked.outsideTx)
			}
		})
	}
	f, l := verifyingFixture(t, usersvc.VerificationOptional)
	ask(t, f, l)
	if _, err := f.svc.Update(ctx, f.asAdmin(), f.user.ID, usersvc.Patch{IsActive: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ChangeEmail(ctx, f.user.ID, "thief@example.com"); !errors.Is(err, authn.ErrEmailMismatch) {
		t.Fatalf("a deactivated account's change link: %v", err)
	}
	if got, _ := f.store.ByID(ctx, f.user.ID); got.Email != "ada@example.com" {
		t.Fatalf("the deactivated account moved to %s", got.Email)
	}
}
