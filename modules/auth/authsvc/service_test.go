package authsvc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/paging"
)

// TestLoginStartsASession: a sign-in stores a session that ends at the
// absolute lifetime, for the default client when the request named none,
// with the client's labels bounded, and returns an access token of that
// session; a wrong password and an account that may not act both answer
// invalid_credentials and start nothing.
func TestLoginStartsASession(t *testing.T) {
	r := newRig(t)
	a := r.accounts.add("ada@example.test", "a long passphrase")
	ua := strings.Repeat("é", 200) // 400 bytes
	g, err := r.svc.Login(t.Context(), "ada@example.test", "a long passphrase", Client{IP: "203.0.113.7", UserAgent: ua})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := r.store.session(t, r.sessionOf(t, g.Access.Token))
	now := r.clock.now()
	if s.UserID != a.UserID || s.ClientID != "web" || !s.CreatedAt.Equal(now) || !s.ExpiresAt.Equal(now.Add(rigAbsolute)) ||
		len(s.UserAgent) > 256 || !strings.HasPrefix(ua, s.UserAgent) || s.IP != "203.0.113.7" {
		t.Fatalf("session = %+v", s)
	}
	if len(g.Refresh) != opaqueLen || g.Access.ExpiresIn != rigTokenTTL {
		t.Fatalf("grant = %+v", g)
	}

	before := len(r.store.sessions)
	if _, err := r.svc.Login(t.Context(), "ada@example.test", "wrong", Client{}); !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	r.accounts.setActive(a.UserID, false)
	if _, err := r.svc.Login(t.Context(), "ada@example.test", "a long passphrase", Client{}); !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Fatalf("inactive account: %v", err)
	}
	if len(r.store.sessions) != before {
		t.Fatal("a refused sign-in started a session")
	}
}

// TestThrottledLoginChecksNoPassword: a sign-in over a limit is refused
// before the password is checked (a burst gets no more checks than the
// limits allow).
func TestThrottledLoginChecksNoPassword(t *testing.T) {
	r := newRig(t)
	r.accounts.add("ada@example.test", "a long passphrase")
	r.limiter.refuse = true
	if _, err := r.svc.Login(t.Context(), "ada@example.test", "a long passphrase", Client{}); !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v, want throttled", err)
	}
	if r.accounts.authenticated != 0 {
		t.Fatal("the password was checked over the limit")
	}
}

// TestRefreshRotates: each refresh answers a new refresh token and an
// access token of the same session, renews the session's idle time, and
// the new token refreshes in turn.
func TestRefreshRotates(t *testing.T) {
	r := newRig(t)
	_, g := r.login(t, "web")
	sid := r.sessionOf(t, g.Access.Token)
	r.clock.advance(time.Second) // within the parser's leeway: the new access token is verified below
	next, err := r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil {
		t.Fatal(err)
	}
	if next.Refresh == g.Refresh || len(next.Refresh) != opaqueLen || r.sessionOf(t, next.Access.Token) != sid {
		t.Fatalf("refresh did not rotate within the session: %+v", next)
	}
	if s, _ := r.store.session(t, sid); !s.LastUsedAt.Equal(r.clock.now()) {
		t.Fatalf("last used %v, want %v", s.LastUsedAt, r.clock.now())
	}
	if _, err := r.svc.Refresh(t.Context(), next.Refresh, Client{}); err != nil {
		t.Fatalf("the rotated token: %v", err)
	}
}

// TestReuseOfARotatedTokenEndsTheSession (RFC 9700 §4.14.2): presenting a
// rotated refresh token after the grace window revokes the whole session,
// so the holder of the copy and the legitimate client both lose it: the
// newest refresh token and the access tokens of the session stop working.
func TestReuseOfARotatedTokenEndsTheSession(t *testing.T) {
	r := newRig(t)
	_, g := r.login(t, "web")
	child, err := r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.tokens.VerifyAccessToken(t.Context(), child.Access.Token); err != nil {
		t.Fatalf("control: the child's access token: %v", err)
	}
	r.clock.advance(rigGrace + time.Microsecond)
	if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); !isInvalidGrant(err) {
		t.Fatalf("reuse: %v, want invalid_grant", err)
	}
	s, reason := r.store.session(t, r.sessionOf(t, g.Access.Token))
	if s.RevokedAt == nil || reason != ReasonReuse {
		t.Fatalf("session after reuse: %+v, reason %q", s, reason)
	}
	if _, err := r.svc.Refresh(t.Context(), child.Refresh, Client{}); !isInvalidGrant(err) {
		t.Fatalf("the newest token after a reuse: %v", err)
	}
	if _, err := r.tokens.VerifyAccessToken(t.Context(), child.Access.Token); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("an access token of the revoked session: %v", err)
	}
}

// TestReuseInsideTheGraceWindowGetsTheSameChild: requests that present one
// token within the grace window (a client retrying, tabs racing) all get
// the same child, and the session lives; once that child has been used,
// the parent is a reuse even inside the window.
func TestReuseInsideTheGraceWindowGetsTheSameChild(t *testing.T) {
	r := newRig(t)
	_, g := r.login(t, "web")
	first, err := r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil {
		t.Fatal(err)
	}
	r.clock.advance(rigGrace)
	again, err := r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil || again.Refresh != first.Refresh {
		t.Fatalf("inside the grace window: %v, same child %v", err, again.Refresh == first.Refresh)
	}
	sid := r.sessionOf(t, g.Access.Token)
	if s, _ := r.store.session(t, sid); s.RevokedAt != nil {
		t.Fatal("a retry inside the window revoked the session")
	}
	if _, err := r.svc.Refresh(t.Context(), first.Refresh, Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); !isInvalidGrant(err) {
		t.Fatalf("parent after its child was used: %v", err)
	}
	if s, reason := r.store.session(t, sid); s.RevokedAt == nil || reason != ReasonReuse {
		t.Fatalf("session: %+v %q", s, reason)
	}
}

// TestLostRotationTakesTheWinnersChild: when another request rotates the
// token between this one's read and its conditional update, this one
// answers the winner's child (derived from the stored nonce), not an
// error and not a second child.
func TestLostRotationTakesTheWinnersChild(t *testing.T) {
	r := newRig(t)
	_, g := r.login(t, "web")
	var winner string
	r.store.beforeRotate = func() {
		parent, err := r.store.RefreshToken(t.Context(), hashToken(g.Refresh))
		if err != nil {
			t.Error(err)
			return
		}
		nonce := newNonce()
		winner = deriveChild(g.Refresh, nonce)
		r.store.mu.Lock()
		r.store.rotate(parent.ID, nonce, hashToken(winner), r.clock.now())
		r.store.mu.Unlock()
	}
	got, err := r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil || got.Refresh != winner {
		t.Fatalf("loser of the race: %v, got the winner's child: %v", err, got.Refresh == winner)
	}
}

// TestIdleSessionCannotRefresh: a session unused for the idle lifetime is
// over (control: just before it, it refreshes, and that renews the idle
// lifetime from then).
func TestIdleSessionCannotRefresh(t *testing.T) {
	r := newRig(t)
	_, g := r.login(t, "web")
	r.clock.advance(rigIdle - time.Microsecond)
	g, err := r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil {
		t.Fatalf("control: refresh just inside the idle lifetime: %v", err)
	}
	r.clock.advance(rigIdle - time.Microsecond)
	g, err = r.svc.Refresh(t.Context(), g.Refresh, Client{})
	if err != nil {
		t.Fatalf("the refresh renewed the idle lifetime: %v", err)
	}
	r.clock.advance(rigIdle)
	if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); !isInvalidGrant(err) {
		t.Fatalf("refresh at the idle lifetime: %v", err)
	}
}

// TestAbsoluteLifetimeIsNeverRenewed: a session refreshed within every
// idle lifetime still ends at its absolute lifetime.
func TestAbsoluteLifetimeIsNeverRenewed(t *testing.T) {
	r := newRig(t)
	_, g := r.login(t, "web")
	start := r.clock.now()
	var err error
	for r.clock.now().Add(rigIdle / 2).Before(start.Add(rigAbsolute)) {
		r.clock.advance(rigIdle / 2)
		if g, err = r.svc.Refresh(t.Context(), g.Refresh, Client{}); err != nil {
			t.Fatalf("refresh at %v: %v", r.clock.now().Sub(start), err)
		}
	}
	r.clock.advance(start.Add(rigAbsolute).Sub(r.clock.now()))
	if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); !isInvalidGrant(err) {
		t.Fatalf("refresh at the absolute lifetime: %v", err)
	}
}

// TestAccessTokenNeedsALiveSession: an access token is accepted only while
// its session is live: not once it is revoked or past its absolute
// lifetime, not for a session that is gone, and not for a session of
// another user.
func TestAccessTokenNeedsALiveSession(t *testing.T) {
	r := newRig(t)
	check := func(tok string) error {
		_, err := r.tokens.VerifyAccessToken(t.Context(), tok)
		return err
	}
	a, g := r.login(t, "web")
	if err := check(g.Access.Token); err != nil {
		t.Fatalf("control: %v", err)
	}
	sid := r.sessionOf(t, g.Access.Token)

	// Past the session's end (the token itself would still be valid).
	saved := r.tokens.now
	r.tokens.now = func() time.Time { return saved().Add(rigAbsolute) }
	if err := check(g.Access.Token); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("session past its end: %v", err)
	}
	r.tokens.now = saved

	// Another user's session under this user's subject.
	other, err := r.tokens.Issue(t.Context(), authn.Account{UserID: uuid.New()}, "web", sid, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := check(other.Token); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("token whose subject is not the session's user: %v", err)
	}
	gone, _ := r.tokens.Issue(t.Context(), a, "web", uuid.New(), time.Now())
	if err := check(gone.Token); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("token of an unknown session: %v", err)
	}
	if err := r.svc.Logout(t.Context(), sid); err != nil {
		t.Fatal(err)
	}
	if err := check(g.Access.Token); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("revoked session: %v", err)
	}
}

// TestRefreshIsBoundToTheClient (RFC 6749 §6): a refresh token works only
// for the client it was issued to; a confidential client's must come with
// its authentication; a public client's works without naming it again; a
// client no longer registered has no live tokens.
func TestRefreshIsBoundToTheClient(t *testing.T) {
	r := newRig(t)
	_, public := r.login(t, "web")
	if _, err := r.svc.Refresh(t.Context(), public.Refresh, Client{ID: "backend"}); !isInvalidGrant(err) {
		t.Fatalf("another client's refresh token: %v", err)
	}
	if _, err := r.svc.Refresh(t.Context(), public.Refresh, Client{}); err != nil {
		t.Fatalf("public client, not named again: %v", err)
	}
	_, conf := r.login(t, "backend")
	if _, err := r.svc.Refresh(t.Context(), conf.Refresh, Client{}); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("confidential client without authentication: %v", err)
	}
	if _, err := r.svc.Refresh(t.Context(), conf.Refresh, Client{ID: "backend"}); err != nil {
		t.Fatalf("confidential client, authenticated: %v", err)
	}
	// The registry no longer has "backend".
	r.svc.opts.Clients = NewClients([]ClientRegistration{{ID: "web"}}, "web")
	_, conf = r.login(t, "web")
	r.store.mu.Lock()
	s := r.store.sessions[r.sessionOf(t, conf.Access.Token)]
	s.ClientID = "backend"
	r.store.sessions[s.ID] = s
	r.store.mu.Unlock()
	if _, err := r.svc.Refresh(t.Context(), conf.Refresh, Client{}); !isInvalidGrant(err) {
		t.Fatalf("token of an unregistered client: %v", err)
	}
}

// TestRefreshOfAnAccountThatMayNotActEndsItsSession: a deactivated or
// deleted account's refresh is invalid_grant and its session ends; an
// outage of the accounts is an error, and ends nothing.
func TestRefreshOfAnAccountThatMayNotActEndsItsSession(t *testing.T) {
	for name, change := range map[string]func(r *rig, a authn.Account){
		"deactivated": func(r *rig, a authn.Account) { r.accounts.setActive(a.UserID, false) },
		"deleted":     func(r *rig, a authn.Account) { r.accounts.remove(a.UserID) },
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			a, g := r.login(t, "web")
			change(r, a)
			if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); !isInvalidGrant(err) {
				t.Fatalf("refresh: %v", err)
			}
			if s, reason := r.store.session(t, r.sessionOf(t, g.Access.Token)); s.RevokedAt == nil || reason != ReasonAccount {
				t.Fatalf("session: %+v %q", s, reason)
			}
		})
	}
	t.Run("outage", func(t *testing.T) {
		r := newRig(t)
		_, g := r.login(t, "web")
		r.accounts.fail = errors.New("connection refused")
		if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); err == nil || isInvalidGrant(err) {
			t.Fatalf("refresh during an outage: %v", err)
		}
		r.accounts.fail = nil
		if _, err := r.svc.Refresh(t.Context(), g.Refresh, Client{}); err != nil {
			t.Fatalf("after the outage the token still works: %v", err)
		}
	})
}

// TestMalformedRefreshTokensAreInvalidGrant: text of the wrong length and
// an unknown token look alike to the client.
func TestMalformedRefreshTokensAreInvalidGrant(t *testing.T) {
	r := newRig(t)
	for _, tok := range []string{"", "short", strings.Repeat("a", opaqueLen+1), newOpaqueToken()} {
		if _, err := r.svc.Refresh(t.Context(), tok, Client{}); !isInvalidGrant(err) {
			t.Fatalf("%q: %v", tok, err)
		}
	}
}

// TestRevoke (RFC 7009): a refresh or an access token ends its session
// when revoked by its own client, whichever the hint; another client is
// refused and the session lives; a token that is no token is not an
// error (the answer must not tell tokens apart).
func TestRevoke(t *testing.T) {
	r := newRig(t)
	revoked := func(g Grant) string {
		t.Helper()
		s, reason := r.store.session(t, r.sessionOf(t, g.Access.Token))
		if s.RevokedAt == nil {
			return ""
		}
		return reason
	}
	_, g := r.login(t, "web")
	if err := r.svc.Revoke(t.Context(), g.Refresh, "", "backend"); !errors.Is(err, ErrUnauthorizedClient) {
		t.Fatalf("revoke by another client: %v", err)
	}
	if revoked(g) != "" {
		t.Fatal("another client's revocation ended the session")
	}
	if err := r.svc.Revoke(t.Context(), g.Refresh, "", ""); err != nil || revoked(g) != ReasonRevoked {
		t.Fatalf("refresh token by its public client: %v %q", err, revoked(g))
	}

	_, g = r.login(t, "backend")
	if err := r.svc.Revoke(t.Context(), g.Access.Token, "refresh_token", "backend"); err != nil || revoked(g) != ReasonRevoked {
		t.Fatalf("access token with the other hint: %v %q", err, revoked(g))
	}
	_, g = r.login(t, "web")
	if err := r.svc.Revoke(t.Context(), g.Access.Token, "access_token", "web"); err != nil || revoked(g) != ReasonRevoked {
		t.Fatalf("access token: %v %q", err, revoked(g))
	}
	for _, tok := range []string{"", "garbage", newOpaqueToken(), g.Access.Token + "x"} {
		if err := r.svc.Revoke(t.Context(), tok, "", "web"); err != nil {
			t.Fatalf("revoke %q: %v", tok, err)
		}
	}
}

// TestEndingSessions: logout ends the one session, logout-all every
// session of the user and no one else's; a user cannot end another
// user's session or an ended one (both not found).
func TestEndingSessions(t *testing.T) {
	r := newRig(t)
	a, g1 := r.login(t, "web")
	g2, err := r.svc.Login(t.Context(), a.Email, "a long passphrase", Client{})
	if err != nil {
		t.Fatal(err)
	}
	_, stranger := r.login(t, "web")
	s1, s2, s3 := r.sessionOf(t, g1.Access.Token), r.sessionOf(t, g2.Access.Token), r.sessionOf(t, stranger.Access.Token)

	if err := r.svc.EndSession(t.Context(), a.UserID, s3); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("ending another user's session: %v", err)
	}
	if s, _ := r.store.session(t, s3); s.RevokedAt != nil {
		t.Fatal("another user's session ended")
	}
	if err := r.svc.Logout(t.Context(), s1); err != nil {
		t.Fatal(err)
	}
	if s, reason := r.store.session(t, s1); s.RevokedAt == nil || reason != ReasonLogout {
		t.Fatalf("logout: %+v %q", s, reason)
	}
	if err := r.svc.EndSession(t.Context(), a.UserID, s1); !errors.Is(err, ErrSessionNotFound) {
		t.Fatalf("ending an ended session: %v", err)
	}
	if err := r.svc.Logout(t.Context(), uuid.New()); err != nil {
		t.Fatalf("logout of a session that is gone: %v", err)
	}
	if err := r.svc.LogoutAll(t.Context(), a.UserID); err != nil {
		t.Fatal(err)
	}
	if s, reason := r.store.session(t, s2); s.RevokedAt == nil || reason != ReasonLogoutAll {
		t.Fatalf("logout-all: %+v %q", s, reason)
	}
	if s, _ := r.store.session(t, s3); s.RevokedAt != nil {
		t.Fatal("logout-all ended another user's session")
	}
}

// TestSessionsListAsksForTheLiveOnes: the list asks the store for sessions
// neither expired now nor idle for the idle lifetime.
func TestSessionsListAsksForTheLiveOnes(t *testing.T) {
	r := newRig(t)
	a, _ := r.login(t, "web")
	r.clock.advance(time.Hour)
	if _, err := r.svc.Sessions(t.Context(), a.UserID, paging.Request{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	now := r.clock.now()
	if !r.store.listed.now.Equal(now) || !r.store.listed.usedSince.Equal(now.Add(-rigIdle)) {
		t.Fatalf("asked now=%v usedSince=%v, want %v and %v", r.store.listed.now, r.store.listed.usedSince, now, now.Add(-rigIdle))
	}
}

// TestRevokerEndsSessionsAndResets: what the users module calls on a
// credential change ends every session of the user (reason recorded) and
// their reset tokens.
func TestRevokerEndsSessionsAndResets(t *testing.T) {
	r := newRig(t)
	a, g := r.login(t, "web")
	if err := r.svc.RequestReset(t.Context(), a.Email, Client{}); err != nil {
		t.Fatal(err)
	}
	<-r.mail.sent
	rv := NewRevoker(r.store, r.store, nil)
	if err := rv.RevokeUserSessions(t.Context(), a.UserID); err != nil {
		t.Fatal(err)
	}
	if err := rv.RevokePasswordResets(t.Context(), a.UserID); err != nil {
		t.Fatal(err)
	}
	if s, reason := r.store.session(t, r.sessionOf(t, g.Access.Token)); s.RevokedAt == nil || reason != ReasonCredentials {
		t.Fatalf("session: %+v %q", s, reason)
	}
	if n := r.store.resetCount(); n != 0 {
		t.Fatalf("%d reset tokens left", n)
	}
}
