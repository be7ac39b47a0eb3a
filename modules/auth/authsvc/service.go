// Package authsvc is the auth module's business logic: the OAuth2 password
// and refresh-token grants, sessions and their revocation, the signing key
// set, brute-force throttling and password reset. It never imports the
// users module: it finds accounts through the platform's one contract
// between the two (authn.Accounts), and provides authn.TokenVerifier and
// authn.Revoker in return.
package authsvc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/throttle"
)

// Session is one sign-in and its refresh-token family.
type Session struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	ClientID   string
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	// AMR is how the user signed in (RFC 8176); empty for a session
	// older than the record of it, which a password started.
	AMR []string
}

// RefreshToken is a stored member of a rotation chain.
type RefreshToken struct {
	ID         uuid.UUID
	SessionID  uuid.UUID
	CreatedAt  time.Time
	RotatedAt  *time.Time
	ChildNonce string
}

// SessionStore persists sessions and refresh tokens. Lookups that find
// nothing return ErrNoSession.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session, refreshHash string) error
	Session(ctx context.Context, id uuid.UUID) (Session, error)
	// ActiveSessions is one page of userID's sessions that are neither
	// revoked, nor expired at now, nor idle since before usedSince.
	ActiveSessions(ctx context.Context, userID uuid.UUID, now, usedSince time.Time, r paging.Request) (paging.Result[Session], error)
	RevokeSession(ctx context.Context, id uuid.UUID, reason string, now time.Time) error
	RevokeUserSessions(ctx context.Context, userID uuid.UUID, reason string, now time.Time) error
	RefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// Rotate marks parent rotated (only if it was not) and stores its child;
	// false means another request rotated it first.
	Rotate(ctx context.Context, parent RefreshToken, nonce, childHash string, now time.Time) (bool, error)
}

// Client describes where a request comes from. ID is the client the
// request authenticated as (Clients.Authenticate), empty when it named none.
type Client struct {
	ID        string
	UserAgent string
	IP        string
}

// Grant is a token response: an access token and the refresh token that
// renews it.
type Grant struct {
	Access  Issued
	Refresh string
}

// Options are the session lifetimes.
type Options struct {
	IdleTTL     time.Duration
	AbsoluteTTL time.Duration
	ReuseGrace  time.Duration
	ResetTTL    time.Duration
	// ResetLink is the reset email's link, {token} standing for the token.
	ResetLink string
	// Clients are the registered OAuth2 clients.
	Clients *Clients
	// Audit, if set, records sign-ins, failures, reuse and revocations;
	// Tx then makes each session write and its entry one transaction.
	Audit audit.Recorder
	Tx    Transactor
	// MFA, if set, makes a password sign-in of an account with a second
	// factor answer MFARequired, completed by LoginMFA.
	MFA *MFA
	// Links mails and keeps the email tokens; Owners applies redeemed ones.
	Links  *EmailLinks
	Owners authn.EmailOwners
}

// Errors of the auth domain.
var (
	// ErrNoSession is the store's "not found"; it never reaches a client.
	ErrNoSession = errors.New("no such session or token")
	// ErrInvalidGrant is any refresh failure: unknown, expired, revoked or
	// reused token all look the same to the client (RFC 6749 §5.2).
	ErrInvalidGrant = fault.New(fault.Refused, "invalid_grant", "The refresh token is invalid, expired or revoked.")
	// ErrSessionNotFound is a session id that is not one of the caller's.
	ErrSessionNotFound = fault.New(fault.NotFound, "session_not_found", "Session not found.")
)

// Revocation reasons, stored for the audit trail.
const (
	ReasonLogout      = "logout"
	ReasonLogoutAll   = "logout_all"
	ReasonRevoked     = "revoked"
	ReasonReuse       = "refresh_reuse"
	ReasonCredentials = "credentials_changed"
	ReasonAccount     = "account_unavailable"
	// ReasonMFAEnabled ends the sessions that did not pass the second
	// factor an enrolment just added.
	ReasonMFAEnabled = "mfa_enabled"
)

// Service runs the grants and session management.
type Service struct {
	accounts authn.Accounts
	tokens   *Tokens
	sessions SessionStore
	limiter  Limiter
	limits   Limits
	resets   *Resets
	opts     Options
	now      func() time.Time
}

// New returns the service; limiter counts attempts by limits.
func New(accounts authn.Accounts, tokens *Tokens, sessions SessionStore, limiter Limiter, limits Limits, resets *Resets, opts Options) *Service {
	opts.Audit, opts.Tx = recorder(opts.Audit), transactor(opts.Tx)
	return &Service{accounts: accounts, tokens: tokens, sessions: sessions, limiter: limiter, limits: limits, resets: resets, opts: opts, now: time.Now}
}

// loginKeys are the counters of a sign-in, widest first: the address (so a
// flood of distinct accounts from one address stops there), the account
// from that address, the account from everywhere.
func (s *Service) loginKeys(email string, c Client) (ip, pair, account throttle.Key) {
	acct, addr := accountSubject(email), throttle.Address(c.IP)
	return s.limits.LoginIP.Key(addr), s.limits.LoginAccountIP.Key(acct, addr), s.limits.LoginAccount.Key(acct)
}

// Login exchanges credentials for tokens and starts a session. A failure
// for any reason the client could change (unknown user, wrong password,
// inactive account) is authn.ErrInvalidCredentials, and costs the same time.
//
// The attempt is reserved on every counter before the password is
// checked, so a burst gets no more checks than the limits allow. A
// failure stays counted; an attempt that ended without an answer (the
// hasher was busy, the client left, the database failed) is given back;
// a success clears this address's failures on the account and gives back
// its own attempt on the account and address counters, which go on
// counting only failures: an attacker signing in to an account of their
// own cannot wipe out the failures they caused on others.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (Grant, error) {
	ip, pair, account := s.loginKeys(email, c)
	res, err := s.limiter.Reserve(ctx, ip, pair, account)
	if err != nil {
		return Grant{}, fmt.Errorf("login: %w", err)
	}
	a, err := s.accounts.Authenticate(ctx, email, password)
	if err == nil && a.MayAct() != nil {
		// Checked after the password, so that it costs the same time.
		err = authn.ErrInvalidCredentials
	}
	switch {
	case errors.Is(err, authn.ErrInvalidCredentials):
		s.signInFailed(ctx, email, a, c)
		return Grant{}, fmt.Errorf("login: %w", err)
	case err != nil:
		// Its error is the answer; a failed release costs one attempt.
		_ = res.Release(ctx)
		return Grant{}, fmt.Errorf("login: %w", err)
	}
	if err := res.Settle(ctx, []throttle.Key{ip, account}, []throttle.Key{pair}); err != nil {
		return Grant{}, fmt.Errorf("login: %w", err)
	}
	if c.ID == "" {
		c.ID = s.opts.Clients.Default()
	}
	if s.opts.MFA != nil {
		// The password alone is not a sign-in: the mfa_token carries it
		// to the MFA grant, bound to this account and client.
		req, err := s.opts.MFA.challengeFor(ctx, a, c.ID)
		if err != nil {
			return Grant{}, fmt.Errorf("login: %w", err)
		}
		if req != nil {
			return Grant{}, req
		}
	}
	return s.signedIn(ctx, a, c, amrPassword)
}

// LoginMFA implements the MFA grants: an mfa_token from a password grant
// and a TOTP code (recovery false) or a recovery code. Any failure is
// ErrMFAGrant; failures are throttled per account and per address.
func (s *Service) LoginMFA(ctx context.Context, token, code string, recovery bool, c Client) (Grant, error) {
	if s.opts.MFA == nil {
		return Grant{}, ErrMFAGrant
	}
	if c.ID == "" {
		c.ID = s.opts.Clients.Default()
	}
	userID, amr, err := s.opts.MFA.redeem(ctx, token, code, recovery, c.ID, c.IP)
	if err != nil {
		return Grant{}, err
	}
	a, err := s.accounts.Account(ctx, userID)
	if err == nil {
		err = a.MayAct()
	}
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated) {
			return Grant{}, ErrMFAGrant
		}
		return Grant{}, fmt.Errorf("mfa grant: %w", err)
	}
	return s.signedIn(ctx, a, c, amr)
}

// AuthenticateClient checks the client credentials of a token or
// revocation request (RFC 6749 §2.3.1) and returns the client's id, or ""
// for a request that named no client.
//
// A presented secret is a guess at a credential (RFC 6749 §2.3.1: the
// endpoint must be protected against brute force): it reserves an attempt
// from the client address's allowance first, which a right secret gives
// back and a wrong one keeps.
func (s *Service) AuthenticateClient(ctx context.Context, ip, id, secret string) (string, error) {
	if secret == "" {
		return s.opts.Clients.Authenticate(id, secret)
	}
	res, err := s.limiter.Reserve(ctx, s.limits.ClientIP.Key(throttle.Address(ip)))
	if err != nil {
		return "", fmt.Errorf("authenticate client: %w", err)
	}
	got, err := s.opts.Clients.Authenticate(id, secret)
	if err == nil {
		_ = res.Release(ctx)
	}
	return got, err
}

// signedIn completes a sign-in by the methods amr: one transaction
// starts the session, records it and drops the reset tokens.
func (s *Service) signedIn(ctx context.Context, a authn.Account, c Client, amr []string) (Grant, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	raw := newOpaqueToken()
	sess := Session{
		ID: uuid.New(), UserID: a.UserID, ClientID: c.ID, UserAgent: truncate(c.UserAgent, 256), IP: truncate(c.IP, 64),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.opts.AbsoluteTTL), AMR: amr,
	}
	err := s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		// Whoever signs in knows the password: a reset token mailed
		// earlier is no longer needed and must not stay usable.
		if err := s.resets.store.DeleteResets(ctx, a.UserID); err != nil {
			return err
		}
		if err := s.sessions.CreateSession(ctx, sess, hashToken(raw)); err != nil {
			return err
		}
		e := sessionEntry(audit.User(a.UserID.String()), ActionSignIn, a.UserID, sess.ID, "")
		e.Payload = audit.Payload{"user_id": a.UserID.String(), "client_id": audit.Clip(c.ID), "amr": strings.Join(amr, " ")}
		e.ClientIP = c.IP
		return s.opts.Audit.Record(ctx, e)
	})
	if err != nil {
		return Grant{}, fmt.Errorf("start session: %w", err)
	}
	access, err := s.tokens.IssueFor(ctx, a, c.ID, sess.ID, sess.CreatedAt, amr)
	if err != nil {
		return Grant{}, err
	}
	return Grant{Access: access, Refresh: raw}, nil
}

// Refresh implements the refresh-token grant (RFC 6749 §6) with rotation
// and reuse detection (RFC 9700 §4.14.2): every use returns a new refresh
// token; presenting an already-rotated one revokes the whole session,
// except inside the grace window, where concurrent requests with the same
// token all get the same child.
func (s *Service) Refresh(ctx context.Context, raw string, c Client) (Grant, error) {
	// Only failures count: every other outcome gives the attempt back.
	res, err := s.limiter.Reserve(ctx, s.limits.RefreshIP.Key(throttle.Address(c.IP)))
	if err != nil {
		return Grant{}, fmt.Errorf("refresh: %w", err)
	}
	g, err := s.refresh(ctx, raw, c)
	if !errors.Is(err, ErrInvalidGrant) {
		// The token may have rotated already: a failed release must not
		// lose the new one; it costs one attempt.
		_ = res.Release(ctx)
	}
	return g, err
}

func (s *Service) refresh(ctx context.Context, raw string, c Client) (Grant, error) {
	if len(raw) != opaqueLen {
		return Grant{}, ErrInvalidGrant
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	rt, err := s.sessions.RefreshToken(ctx, hashToken(raw))
	if errors.Is(err, ErrNoSession) {
		return Grant{}, ErrInvalidGrant
	}
	if err != nil {
		return Grant{}, fmt.Errorf("refresh: %w", err)
	}
	sess, err := s.sessions.Session(ctx, rt.SessionID)
	if errors.Is(err, ErrNoSession) {
		return Grant{}, ErrInvalidGrant
	}
	if err != nil {
		return Grant{}, fmt.Errorf("refresh: %w", err)
	}
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || !now.Before(sess.LastUsedAt.Add(s.opts.IdleTTL)) {
		return Grant{}, ErrInvalidGrant
	}
	// RFC 6749 §6: a refresh token is bound to the client it was issued to.
	client, err := s.opts.Clients.boundClient(c.ID, sess.ClientID)
	if err != nil {
		return Grant{}, err
	}
	if client != sess.ClientID {
		return Grant{}, ErrInvalidGrant
	}
	a, err := s.accounts.Account(ctx, sess.UserID)
	if err == nil {
		err = a.MayAct()
	}
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated) {
			_ = s.sessions.RevokeSession(ctx, sess.ID, ReasonAccount, now)
			return Grant{}, ErrInvalidGrant
		}
		return Grant{}, fmt.Errorf("refresh: %w", err)
	}

	var child string
	if rt.RotatedAt == nil {
		nonce := newNonce()
		child = deriveChild(raw, nonce)
		ok, err := s.sessions.Rotate(ctx, rt, nonce, hashToken(child), now)
		if err != nil {
			return Grant{}, fmt.Errorf("refresh: %w", err)
		}
		if !ok { // a concurrent request rotated it first: take its child
			if rt, err = s.sessions.RefreshToken(ctx, hashToken(raw)); err != nil {
				return Grant{}, fmt.Errorf("refresh: %w", err)
			}
			child = ""
		}
	}
	if child == "" {
		if child, err = s.graceChild(ctx, raw, rt, now); err != nil {
			if errors.Is(err, ErrInvalidGrant) {
				// Reuse of a rotated token: someone holds a copy. End the
				// session, which also kills its access tokens (sid check).
				rerr := s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
					if err := s.sessions.RevokeSession(ctx, sess.ID, ReasonReuse, now); err != nil {
						return err
					}
					// Nobody in particular acted: the system noticed a copy.
					e := sessionEntry(audit.System, ActionRefreshReuse, sess.UserID, sess.ID, ReasonReuse)
					e.ClientIP = c.IP
					return s.opts.Audit.Record(ctx, e)
				})
				if rerr != nil {
					return Grant{}, fmt.Errorf("revoke reused session: %w", rerr)
				}
			}
			return Grant{}, err
		}
	}
	// The session's methods, so a second factor survives the refresh.
	amr := sess.AMR
	if len(amr) == 0 {
		amr = amrPassword
	}
	access, err := s.tokens.IssueFor(ctx, a, sess.ClientID, sess.ID, sess.CreatedAt, amr)
	if err != nil {
		return Grant{}, err
	}
	return Grant{Access: access, Refresh: child}, nil
}

// graceChild returns the child of an already-rotated token when the reuse
// is inside the grace window and that child is still the live one.
func (s *Service) graceChild(ctx context.Context, raw string, rt RefreshToken, now time.Time) (string, error) {
	if rt.RotatedAt == nil || rt.ChildNonce == "" || now.Sub(*rt.RotatedAt) > s.opts.ReuseGrace {
		return "", ErrInvalidGrant
	}
	child := deriveChild(raw, rt.ChildNonce)
	ct, err := s.sessions.RefreshToken(ctx, hashToken(child))
	if errors.Is(err, ErrNoSession) || (err == nil && ct.RotatedAt != nil) {
		return "", ErrInvalidGrant
	}
	if err != nil {
		return "", fmt.Errorf("refresh: %w", err)
	}
	return child, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, sessionID uuid.UUID) error {
	err := s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.sessions.RevokeSession(ctx, sessionID, ReasonLogout, s.now().UTC()); err != nil {
			return err
		}
		by := actor(ctx)
		return s.opts.Audit.Record(ctx, sessionEntry(by, ActionSignOut, uuidOf(by), sessionID, ReasonLogout))
	})
	if err != nil && !errors.Is(err, ErrNoSession) {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// LogoutAll ends every session of a user.
func (s *Service) LogoutAll(ctx context.Context, userID uuid.UUID) error {
	err := s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.sessions.RevokeUserSessions(ctx, userID, ReasonLogoutAll, s.now().UTC()); err != nil {
			return err
		}
		return s.opts.Audit.Record(ctx, audit.Entry{
			Actor: actor(ctx), Action: ActionSignOutAll,
			Target: audit.Target{Type: targetUser, ID: userID.String()}, Payload: audit.Payload{"reason": ReasonLogoutAll},
		})
	})
	if err != nil {
		return fmt.Errorf("logout everywhere: %w", err)
	}
	return nil
}

// Revoke implements RFC 7009: a refresh token or an access token ends its
// session, if client (as for Refresh: the authenticated client, or "" for
// none named) may act for the client it was issued to. Invalid tokens are
// not an error (§2.2): the answer is the same, so the endpoint cannot be
// used to test tokens.
func (s *Service) Revoke(ctx context.Context, token, hint, client string) error {
	now := s.now().UTC()
	refreshSession := func() (uuid.UUID, bool, error) {
		if len(token) != opaqueLen {
			return uuid.Nil, false, nil
		}
		rt, err := s.sessions.RefreshToken(ctx, hashToken(token))
		if errors.Is(err, ErrNoSession) {
			return uuid.Nil, false, nil
		}
		return rt.SessionID, err == nil, err
	}
	accessSession := func() (uuid.UUID, bool, error) {
		claims, err := s.tokens.Verify(ctx, token)
		if err != nil {
			return uuid.Nil, false, nil
		}
		return claims.SessionID, true, nil
	}
	order := []func() (uuid.UUID, bool, error){refreshSession, accessSession}
	if hint == "access_token" {
		order[0], order[1] = order[1], order[0]
	}
	for _, f := range order {
		id, found, err := f()
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		if !found {
			continue
		}
		sess, err := s.sessions.Session(ctx, id)
		if errors.Is(err, ErrNoSession) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		acting, err := s.opts.Clients.boundClient(client, sess.ClientID)
		switch {
		case errors.Is(err, ErrInvalidGrant):
			// Its client is no longer registered: no client owns the
			// session any more, and ending it only takes access away.
		case err != nil:
			return err
		case acting != sess.ClientID:
			return ErrUnauthorizedClient
		}
		err = s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
			if err := s.sessions.RevokeSession(ctx, id, ReasonRevoked, now); err != nil {
				return err
			}
			// The token's holder acted; the session names its user.
			return s.opts.Audit.Record(ctx, sessionEntry(audit.User(sess.UserID.String()), ActionSignOut, sess.UserID, id, ReasonRevoked))
		})
		if err != nil && !errors.Is(err, ErrNoSession) {
			return fmt.Errorf("revoke: %w", err)
		}
		return nil
	}
	return nil
}

// Sessions lists a page of a user's active sessions, oldest first.
func (s *Service) Sessions(ctx context.Context, userID uuid.UUID, r paging.Request) (paging.Result[Session], error) {
	now := s.now().UTC()
	out, err := s.sessions.ActiveSessions(ctx, userID, now, now.Add(-s.opts.IdleTTL), r)
	if err != nil {
		return paging.Result[Session]{}, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// EndSession ends one of the user's own sessions; another user's session
// is reported as not found.
func (s *Service) EndSession(ctx context.Context, userID, sessionID uuid.UUID) error {
	sess, err := s.sessions.Session(ctx, sessionID)
	if errors.Is(err, ErrNoSession) || (err == nil && (sess.UserID != userID || sess.RevokedAt != nil)) {
		return ErrSessionNotFound
	}
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	err = s.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.sessions.RevokeSession(ctx, sessionID, ReasonLogout, s.now().UTC()); err != nil {
			return err
		}
		return s.opts.Audit.Record(ctx, sessionEntry(actor(ctx), ActionSignOut, userID, sessionID, ReasonLogout))
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Revoker implements authn.Revoker for the users module: password
// change, reset, deactivation and deletion end every session; those and
// an email change end outstanding reset tokens. It depends on the stores
// only, so the users module can use it without a dependency cycle.
type Revoker struct {
	sessions SessionStore
	resets   ResetStore
	audit    audit.Recorder
}

// NewRevoker returns the revoker; rec (nil: none) records each revocation
// of a user's sessions, in the caller's transaction if there is one.
func NewRevoker(sessions SessionStore, resets ResetStore, rec audit.Recorder) *Revoker {
	return &Revoker{sessions: sessions, resets: resets, audit: recorder(rec)}
}

// RevokeUserSessions ends every session of userID.
func (r *Revoker) RevokeUserSessions(ctx context.Context, userID uuid.UUID) error {
	if err := r.sessions.RevokeUserSessions(ctx, userID, ReasonCredentials, time.Now().UTC()); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	err := r.audit.Record(ctx, audit.Entry{
		Actor: actor(ctx), Action: ActionSignOutAll,
		Target: audit.Target{Type: targetUser, ID: userID.String()}, Payload: audit.Payload{"reason": ReasonCredentials},
	})
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// RevokePasswordResets ends every outstanding reset token of userID.
func (r *Revoker) RevokePasswordResets(ctx context.Context, userID uuid.UUID) error {
	if err := r.resets.DeleteResets(ctx, userID); err != nil {
		return fmt.Errorf("revoke password resets: %w", err)
	}
	return nil
}

// accountSubject is the throttling subject of an email as typed: the
// account's own form (authn.NormalizeEmail), so that every spelling of one
// address shares its counters. Text that is no address keeps its
// lower-cased self: it cannot sign in, but its attempts still count.
func accountSubject(email string) throttle.Subject {
	if norm, err := authn.NormalizeEmail(email); err == nil {
		email = norm
	}
	return throttle.Account(email)
}

// opaqueLen is the length of a refresh or reset token: 32 random bytes,
// base64url without padding (256 bits, RFC 9700 asks for >= 128).
const opaqueLen = 43

func newOpaqueToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newNonce() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// deriveChild computes a rotated token from its parent and a per-rotation
// nonce. Only someone holding the parent (and the stored nonce) can
// recompute it, which is what lets concurrent refreshes share one child
// without storing any token in clear.
func deriveChild(parent, nonce string) string {
	m := hmac.New(sha256.New, []byte(parent))
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// hashToken is how opaque tokens are stored: they are 256-bit random
// values, so a fast hash is enough (no dictionary to guess from).
func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// truncate bounds a client-supplied label to n bytes of valid UTF-8 without
// NUL (Postgres refuses both invalid UTF-8 and NUL in text).
func truncate(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// signInFailed records a failed sign-in on its own: there is no change to
// join, and the failure must be on record even though the request fails.
// The target is the account when the password was right but the account
// may not act, otherwise the email as typed when it is a well-formed one
// (a password typed into the email field is not); never what was typed
// as the password.
func (s *Service) signInFailed(ctx context.Context, email string, a authn.Account, c Client) {
	t := audit.Target{Type: "email"}
	if a.UserID != uuid.Nil {
		t = audit.Target{Type: targetUser, ID: a.UserID.String()}
	} else if norm, err := authn.NormalizeEmail(email); err == nil && len(norm) <= audit.MaxID {
		t.ID = norm
	}
	err := s.opts.Audit.Record(ctx, audit.Entry{Actor: audit.Actor{Kind: audit.ActorUser}, Action: ActionSignInFailed, Target: t, ClientIP: c.IP})
	if err != nil {
		logging.FromContext(ctx).Error("audit entry of a failed sign-in not written", zap.Error(err))
	}
}

// uuidOf is the user id of a user actor, or uuid.Nil.
func uuidOf(a audit.Actor) uuid.UUID {
	id, _ := uuid.Parse(a.ID)
	return id
}
