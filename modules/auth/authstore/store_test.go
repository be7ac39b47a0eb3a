package authstore_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/throttle"
)

// TestPrune removes dead sessions with their refresh tokens and expired
// reset tokens, and keeps everything live (the control). Throttle counters
// are pruned by platform/throttle (TestPruneBoundsTheTable).
func TestPrune(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := authstore.New(db)
		now := time.Now().UTC().Truncate(time.Microsecond)
		cutoff := now.Add(-24 * time.Hour)
		user := uuid.New()
		mk := func(created, expires time.Time, hash string) uuid.UUID {
			id := uuid.New()
			err := s.CreateSession(ctx, authsvc.Session{ID: id, UserID: user, ClientID: "c", CreatedAt: created, LastUsedAt: created, ExpiresAt: expires}, hash)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		dead := mk(now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour), "d")
		live := mk(now, now.Add(time.Hour), "l")
		revoked := mk(now, now.Add(time.Hour), "r")
		if err := s.RevokeSession(ctx, revoked, "logout", now); err != nil { // revoked now: kept until the cutoff passes it
			t.Fatal(err)
		}
		if err := s.CreateReset(ctx, user, "old", now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		stale := authsvc.Challenge{ID: uuid.New(), UserID: user, ClientID: "c", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}
		fresh := authsvc.Challenge{ID: uuid.New(), UserID: user, ClientID: "c", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		for h, c := range map[string]authsvc.Challenge{"stale": stale, "fresh": fresh} {
			if err := s.CreateChallenge(ctx, c, h); err != nil {
				t.Fatal(err)
			}
		}

		n, err := s.Prune(ctx, now, cutoff)
		if err != nil || n != 1 {
			t.Fatalf("pruned %d sessions (%v), want 1", n, err)
		}
		if _, err := s.Session(ctx, dead); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("dead session kept: %v", err)
		}
		if _, err := s.RefreshToken(ctx, "d"); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("dead refresh token kept: %v", err)
		}
		for _, id := range []uuid.UUID{live, revoked} {
			if _, err := s.Session(ctx, id); err != nil {
				t.Fatalf("live or recent session removed: %v", err)
			}
		}
		if _, err := s.RefreshToken(ctx, "l"); err != nil {
			t.Fatalf("live refresh token removed: %v", err)
		}
		if _, err := s.ConsumeReset(ctx, "old", now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("expired reset token kept: %v", err)
		}
		if _, err := s.Challenge(ctx, "stale"); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("expired mfa_token kept: %v", err)
		}
		if _, err := s.Challenge(ctx, "fresh"); err != nil {
			t.Fatalf("live mfa_token removed: %v", err)
		}
	})
}

// TestMFASecretSealed: a TOTP secret is stored sealed (its bytes are not
// in the row), and another key-encryption key cannot use it: the
// enrolment's own code then fails.
func TestMFASecretSealed(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := authstore.New(db)
		kek := bytes.Repeat([]byte{7}, 32)
		l := throttle.New(db, []byte("throttle secret"))
		opts := authsvc.MFAOptions{Issuer: "test", AccountRule: throttle.Rule{Name: "mfa.account", Limit: 10, Window: time.Minute}}
		m, err := authsvc.NewMFA(s, nil, l, kek, opts)
		if err != nil {
			t.Fatal(err)
		}
		a := authn.Account{UserID: uuid.New(), Email: "ada@example.test"}
		e, err := m.Enrol(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
		if err != nil || len(raw) != 20 {
			t.Fatalf("secret %q: %v", e.Secret, err)
		}
		f, err := s.Factor(ctx, a.UserID)
		if err != nil || f.ConfirmedAt != nil {
			t.Fatalf("factor: %+v %v", f, err)
		}
		if bytes.Contains(f.Sealed, raw) || strings.Contains(string(f.Sealed), e.Secret) {
			t.Fatal("the secret is stored in clear")
		}
		code, err := totp.GenerateCode(e.Secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		other, _ := authsvc.NewMFA(s, nil, l, bytes.Repeat([]byte{8}, 32), opts)
		if _, err := other.Confirm(ctx, a.UserID, uuid.New(), code); !errors.Is(err, authsvc.ErrMFACode) {
			t.Fatalf("another key-encryption key used the secret: %v", err)
		}
		if codes, err := m.Confirm(ctx, a.UserID, uuid.New(), code); err != nil || len(codes) != 10 {
			t.Fatalf("the right key-encryption key: %v %v", codes, err)
		}
	})
}

// TestKeysSealed: signing keys are stored sealed (the private key's bytes
// do not appear in the row), open with the right key-encryption key, and a
// different key-encryption key refuses to load them.
func TestKeysSealed(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := authstore.New(db)
		key, err := authsvc.LoadSigningKey(authsvc.KeySource{PEM: testkit.SigningKeyPEM(t)})
		if err != nil {
			t.Fatal(err)
		}
		kek := bytes.Repeat([]byte{7}, 32)
		ring, err := authsvc.NewKeyRing(s, kek, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := ring.Bootstrap(ctx, key); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		rows, err := s.Keys(ctx)
		if err != nil || len(rows) != 1 {
			t.Fatalf("keys: %v %v", rows, err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key.Private)
		for _, part := range [][]byte{der[40:80], key.Private.D.Bytes()[:32]} {
			if bytes.Contains(rows[0].Sealed, part) {
				t.Fatal("the private key is stored in clear")
			}
		}
		// Control: the right key opens it (a second ring loads the set).
		again, _ := authsvc.NewKeyRing(s, kek, time.Minute)
		if err := again.Bootstrap(ctx, key); err != nil {
			t.Fatalf("reload with the right key: %v", err)
		}
		wrong, _ := authsvc.NewKeyRing(s, bytes.Repeat([]byte{8}, 32), time.Minute)
		if err := wrong.Bootstrap(ctx, key); err == nil || !strings.Contains(err.Error(), "JWT_KEY_ENCRYPTION_KEY") {
			t.Fatalf("wrong key-encryption key: err = %v", err)
		}
	})
}
