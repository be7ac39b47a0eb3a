package authsvc

import (
	"context"
	"crypto/sha256"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zaptest"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/throttle"
)

// The fakes below hold in memory what the service's consumer-declared
// interfaces promise (the doc comments of SessionStore, ResetStore,
// Limiter, authn.Accounts), so the service's rules run without a database.
// authstore's tests hold the real store to the same promises on SQLite and
// Postgres.

// memStore is SessionStore and ResetStore.
type memStore struct {
	mu       sync.Mutex
	sessions map[uuid.UUID]Session
	reasons  map[uuid.UUID]string
	tokens   map[string]RefreshToken // by hash
	resets   map[string]memReset     // by hash
	// beforeRotate, when set, runs inside Rotate before the conditional
	// update: a concurrent request's rotation slips in there.
	beforeRotate func()
	// listed is what the last ActiveSessions was asked.
	listed struct{ now, usedSince time.Time }
}

type memReset struct {
	user    uuid.UUID
	expires time.Time
	used    bool
}

func newMemStore() *memStore {
	return &memStore{
		sessions: map[uuid.UUID]Session{}, reasons: map[uuid.UUID]string{},
		tokens: map[string]RefreshToken{}, resets: map[string]memReset{},
	}
}

func (m *memStore) CreateSession(_ context.Context, s Session, refreshHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = s
	m.tokens[refreshHash] = RefreshToken{ID: uuid.New(), SessionID: s.ID, CreatedAt: s.CreatedAt}
	return nil
}

func (m *memStore) Session(_ context.Context, id uuid.UUID) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return Session{}, ErrNoSession
	}
	return s, nil
}

func (m *memStore) ActiveSessions(_ context.Context, userID uuid.UUID, now, usedSince time.Time, r paging.Request) (paging.Result[Session], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.listed.now, m.listed.usedSince = now, usedSince
	var out []Session
	for _, s := range m.sessions {
		if s.UserID == userID && s.RevokedAt == nil && s.ExpiresAt.After(now) && s.LastUsedAt.After(usedSince) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return paging.Result[Session]{Items: out}, nil
}

func (m *memStore) RevokeSession(_ context.Context, id uuid.UUID, reason string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revoke(id, reason, now)
	return nil
}

func (m *memStore) RevokeUserSessions(_ context.Context, userID uuid.UUID, reason string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.sessions {
		if s.UserID == userID {
			m.revoke(id, reason, now)
		}
	}
	return nil
}

// revoke keeps the first reason, as the store does. Called with mu held.
func (m *memStore) revoke(id uuid.UUID, reason string, now time.Time) {
	s, ok := m.sessions[id]
	if !ok || s.RevokedAt != nil {
		return
	}
	s.RevokedAt = &now
	m.sessions[id] = s
	m.reasons[id] = reason
}

func (m *memStore) RefreshToken(_ context.Context, hash string) (RefreshToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt, ok := m.tokens[hash]
	if !ok {
		return RefreshToken{}, ErrNoSession
	}
	return rt, nil
}

func (m *memStore) Rotate(_ context.Context, parent RefreshToken, nonce, childHash string, now time.Time) (bool, error) {
	if m.beforeRotate != nil {
		f := m.beforeRotate
		m.beforeRotate = nil
		f()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rotate(parent.ID, nonce, childHash, now), nil
}

// rotate is the conditional update: only a parent not yet rotated.
// Called with mu held.
func (m *memStore) rotate(parentID uuid.UUID, nonce, childHash string, now time.Time) bool {
	for h, rt := range m.tokens {
		if rt.ID != parentID {
			continue
		}
		if rt.RotatedAt != nil {
			return false
		}
		rt.RotatedAt, rt.ChildNonce = &now, nonce
		m.tokens[h] = rt
		m.tokens[childHash] = RefreshToken{ID: uuid.New(), SessionID: rt.SessionID, CreatedAt: now}
		s := m.sessions[rt.SessionID]
		s.LastUsedAt = now
		m.sessions[rt.SessionID] = s
		return true
	}
	return false
}

func (m *memStore) CreateReset(_ context.Context, userID uuid.UUID, hash string, _, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, r := range m.resets {
		if r.user == userID {
			delete(m.resets, h)
		}
	}
	m.resets[hash] = memReset{user: userID, expires: expires}
	return nil
}

func (m *memStore) ConsumeReset(_ context.Context, hash string, now time.Time) (uuid.UUID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.resets[hash]
	if !ok || r.used || !r.expires.After(now) {
		return uuid.Nil, ErrNoSession
	}
	r.used = true
	m.resets[hash] = r
	return r.user, nil
}

func (m *memStore) DeleteResets(_ context.Context, userID uuid.UUID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, r := range m.resets {
		if r.user == userID {
			delete(m.resets, h)
		}
	}
	return nil
}

func (m *memStore) session(t *testing.T, id uuid.UUID) (Session, string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		t.Fatalf("no session %s", id)
	}
	return s, m.reasons[id]
}

func (m *memStore) resetCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.resets)
}

// errNoAccount is the users module's "not found", as authn.Accounts
// documents it: a NotFound fault.
var errNoAccount = fault.New(fault.NotFound, "authsvc_test_no_account", "No such account.")

// memAccounts is authn.Accounts over a few accounts.
type memAccounts struct {
	mu        sync.Mutex
	byID      map[uuid.UUID]authn.Account
	passwords map[uuid.UUID]string
	// fail, when set, is the error of every lookup (an outage).
	fail          error
	authenticated int
	resetTo       map[uuid.UUID]string
}

func newMemAccounts() *memAccounts {
	return &memAccounts{byID: map[uuid.UUID]authn.Account{}, passwords: map[uuid.UUID]string{}, resetTo: map[uuid.UUID]string{}}
}

func (m *memAccounts) add(email, password string) authn.Account {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := authn.Account{UserID: uuid.New(), Email: email, Active: true}
	m.byID[a.UserID], m.passwords[a.UserID] = a, password
	return a
}

func (m *memAccounts) setActive(id uuid.UUID, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.byID[id]
	a.Active = on
	m.byID[id] = a
}

func (m *memAccounts) remove(id uuid.UUID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, id)
}

func (m *memAccounts) Authenticate(_ context.Context, email, password string) (authn.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.authenticated++
	if m.fail != nil {
		return authn.Account{}, m.fail
	}
	for id, a := range m.byID {
		if strings.EqualFold(a.Email, email) && m.passwords[id] == password {
			return a, nil
		}
	}
	return authn.Account{}, authn.ErrInvalidCredentials
}

func (m *memAccounts) Account(_ context.Context, id uuid.UUID) (authn.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return authn.Account{}, m.fail
	}
	a, ok := m.byID[id]
	if !ok {
		return authn.Account{}, errNoAccount
	}
	return a, nil
}

func (m *memAccounts) AccountByEmail(_ context.Context, email string) (authn.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return authn.Account{}, m.fail
	}
	for _, a := range m.byID {
		if strings.EqualFold(a.Email, email) {
			return a, nil
		}
	}
	return authn.Account{}, errNoAccount
}

func (m *memAccounts) ResetPassword(_ context.Context, id uuid.UUID, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.passwords[id], m.resetTo[id] = password, password
	return nil
}

// memLimiter grants every attempt unless refuse is set, and records what
// was forgotten. Its reservations are nil, which Release
// accepts: what a reservation gives back is platform/throttle's rule,
// tested there and by the attack suite.
type memLimiter struct {
	mu        sync.Mutex
	refuse    bool
	reserved  [][]throttle.Key
	forgotten []string // rule names
}

func (l *memLimiter) Reserve(_ context.Context, keys ...throttle.Key) (*throttle.Reservation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refuse {
		return nil, ErrThrottled
	}
	l.reserved = append(l.reserved, keys)
	return nil, nil
}

func (l *memLimiter) Forget(_ context.Context, rule throttle.Rule, _ throttle.Subject) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgotten = append(l.forgotten, rule.Name)
	return nil
}

// memMail delivers to a channel, or fails with fail.
type memMail struct {
	sent chan mail.Message
	fail error
}

func (m *memMail) Send(_ context.Context, msg mail.Message) error {
	if m.fail != nil {
		return m.fail
	}
	m.sent <- msg
	return nil
}

// clock is a settable time. It starts at the real present because the JWT
// parser checks iat and exp against the real clock: a token is issued and
// verified while the clock is there, and moving the clock only moves what
// the service itself decides by time (sessions, grace, resets).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The lifetimes of the rig: far apart, so each rule is told apart.
const (
	rigIdle     = time.Hour
	rigAbsolute = 24 * time.Hour
	rigGrace    = 10 * time.Second
	rigResetTTL = 30 * time.Minute
	rigTokenTTL = 15 * time.Minute
	rigSecret   = "backend secret"
)

// rig is a Service over the fakes: "web" is the default public client,
// "backend" a confidential one.
type rig struct {
	svc      *Service
	tokens   *Tokens
	store    *memStore
	accounts *memAccounts
	limiter  *memLimiter
	mail     *memMail
	clock    *clock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{
		store: newMemStore(), accounts: newMemAccounts(), limiter: &memLimiter{},
		mail: &memMail{sent: make(chan mail.Message, 8)}, clock: &clock{t: time.Now().UTC().Truncate(time.Second)},
	}
	r.tokens = NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: rigTokenTTL}, StaticKeys{testKey(t)}, r.store)
	r.tokens.now = r.clock.now
	secret := sha256.Sum256([]byte(rigSecret))
	clients := NewClients([]ClientRegistration{{ID: "web"}, {ID: "backend", SecretSHA256: secret[:]}}, "web")
	limits := NewLimits(LimitSettings{AccountIP: 5, Account: 10, IP: 20, RecoveryAccount: 3, Window: time.Hour})
	r.svc = New(r.accounts, r.tokens, r.store, r.limiter, limits, NewResets(r.store, r.mail, zaptest.NewLogger(t)), Options{
		IdleTTL: rigIdle, AbsoluteTTL: rigAbsolute, ReuseGrace: rigGrace, ResetTTL: rigResetTTL,
		ResetLink: "https://app.example.test/reset-password#token={token}", Clients: clients,
	})
	r.svc.now = r.clock.now
	return r
}

// login signs a new account in as client and returns the account and grant.
func (r *rig) login(t *testing.T, client string) (authn.Account, Grant) {
	t.Helper()
	a := r.accounts.add(uuid.NewString()[:8]+"@example.test", "a long passphrase")
	g, err := r.svc.Login(t.Context(), a.Email, "a long passphrase", Client{ID: client, IP: "203.0.113.7", UserAgent: "test"})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return a, g
}

// sessionOf is the session an access token belongs to.
func (r *rig) sessionOf(t *testing.T, access string) uuid.UUID {
	t.Helper()
	c, err := r.tokens.Verify(t.Context(), access)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return c.SessionID
}

func isInvalidGrant(err error) bool { return errors.Is(err, ErrInvalidGrant) }
