package authstore

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authsvc"
)

// SessionCache answers the per-request session check from memory for a few
// seconds after a lookup, so that an authenticated request costs one query
// (the account) instead of two.
//
// It stays correct across replicas because every change that can end or
// shorten a session is announced (Store.announce): the changing process
// drops its own entries after the commit, and on Postgres the change's
// transaction also sends NOTIFY, which every replica's listener applies.
// While the listener is not connected the cache is empty and bypassed, so
// a missed notification can cost queries, never let a revoked session
// through. A generation counter keeps a lookup that raced with a change
// from storing what it read before the change.
type SessionCache struct {
	store *Store
	ttl   time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	live    map[uuid.UUID]cachedSession
	gen     uint64 // bumped by every invalidation
	enabled bool   // invalidations can reach this process
}

type cachedSession struct {
	session authsvc.Session
	until   time.Time
}

// CacheSize is how many sessions a cache keeps. Its TTL (SESSION_CACHE_TTL)
// bounds the one failure announcements cannot cover: a listener connection
// broken without either end noticing (TCP keepalive takes minutes).
const CacheSize = 4096

// NewSessionCache returns a cache over store, disabled until Enable. The
// store sends it every invalidation from this process.
func NewSessionCache(store *Store, ttl time.Duration, size int) *SessionCache {
	c := &SessionCache{store: store, ttl: ttl, max: size, now: time.Now, live: make(map[uuid.UUID]cachedSession)}
	store.local = c.Invalidate
	return c
}

// Session implements the tokens' session lookup.
func (c *SessionCache) Session(ctx context.Context, id uuid.UUID) (authsvc.Session, error) {
	if c.ttl <= 0 {
		return c.store.Session(ctx, id)
	}
	c.mu.Lock()
	if e, ok := c.live[id]; ok && c.enabled && c.now().Before(e.until) {
		c.mu.Unlock()
		return e.session, nil
	}
	gen := c.gen
	c.mu.Unlock()

	s, err := c.store.Session(ctx, id)
	if err != nil || s.RevokedAt != nil {
		return s, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.enabled || c.gen != gen {
		return s, nil
	}
	if len(c.live) >= c.max {
		c.evict()
	}
	c.live[id] = cachedSession{session: s, until: c.now().Add(c.ttl)}
	return s, nil
}

// evict drops expired entries, or any half when none has expired. Called
// with mu held.
func (c *SessionCache) evict() {
	now := c.now()
	for id, e := range c.live {
		if !now.Before(e.until) {
			delete(c.live, id)
		}
	}
	for id := range c.live {
		if len(c.live) < c.max/2 {
			break
		}
		delete(c.live, id)
	}
}

// Invalidate applies one announcement: "s:<session id>", "u:<user id>"
// (every session of the user), a removed signing key (no session changes:
// the key ring handles it), or anything else, which drops everything.
func (c *SessionCache) Invalidate(payload string) {
	if strings.HasPrefix(payload, KeyRemoved) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	kind, raw, _ := strings.Cut(payload, ":")
	id, err := uuid.Parse(raw)
	switch {
	case err == nil && kind == "s":
		delete(c.live, id)
	case err == nil && kind == "u":
		for sid, e := range c.live {
			if e.session.UserID == id {
				delete(c.live, sid)
			}
		}
	default:
		clear(c.live)
	}
}

// Enable starts (true) or stops (false) using the cache; either way it
// starts empty, since announcements may have been missed in between.
func (c *SessionCache) Enable(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.live)
	c.enabled = on
}
