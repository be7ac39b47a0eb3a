package authsvc

import (
	"strings"
	"sync"
	"time"

	"github.com/acme/monolith/platform/authn"
)

// verifiedCap bounds the cache of verified tokens: about 1 KiB each, so at
// most ~4 MiB, enough for every client active within one token lifetime of
// a busy replica. Beyond it, entries are evicted.
const verifiedCap = 4096

// verified remembers access tokens whose signature and claims already
// checked out, until they expire. The RSA verification and the JSON
// decoding of a token are a third of the CPU of an authenticated read
// (make bench, pprof); a client sends the same token for its lifetime.
//
// It is safe because the key is the exact token text: any other bytes
// miss and get the full check, and expiry is re-checked on every hit with
// the parser's leeway. It caches only the token's own cryptographic
// validity: on every request the signing key must still be in the key set,
// the session must still be live and the user active, so withdrawing a
// key, logout, revocation and deactivation all still cut a token off at
// once.
type verified struct {
	mu  sync.RWMutex
	m   map[string]verifiedEntry
	cap int
	now func() time.Time
}

type verifiedEntry struct {
	v   authn.Claims
	kid string
	exp time.Time
}

func newVerified(capacity int) *verified {
	// Not pre-sized: a map made for capacity entries writes all of its
	// control bytes at once, about a megabyte resident before any token.
	return &verified{m: make(map[string]verifiedEntry), cap: capacity, now: time.Now}
}

func (v *verified) get(raw string) (authn.Claims, string, bool) {
	v.mu.RLock()
	e, ok := v.m[raw]
	v.mu.RUnlock()
	if !ok || !v.now().Before(e.exp.Add(leeway)) {
		return authn.Claims{}, "", false
	}
	return e.v, e.kid, true
}

func (v *verified) put(raw string, t authn.Claims, kid string, exp time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= v.cap {
		// Evict an eighth: the expired first, then whatever the map's
		// randomised order yields. Amortised O(1), never above cap.
		now := v.now()
		for k, e := range v.m {
			if !now.Before(e.exp.Add(leeway)) {
				delete(v.m, k)
			}
		}
		for k := range v.m {
			if len(v.m) < v.cap-v.cap/8 {
				break
			}
			delete(v.m, k)
		}
	}
	// The server may hand us a string backed by a reused request buffer
	// (fiber): keep our own copy.
	v.m[strings.Clone(raw)] = verifiedEntry{v: t, kid: kid, exp: exp}
}

// forgetKey drops the tokens signed by kid.
func (v *verified) forgetKey(kid string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, e := range v.m {
		if e.kid == kid {
			delete(v.m, k)
		}
	}
}

func (v *verified) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.m)
}
