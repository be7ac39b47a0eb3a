package authsvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/acme/monolith/platform/fault"
)

// ThrottleStore keeps fixed-window counters in the database, so every
// replica counts the same attempts.
type ThrottleStore interface {
	// BlockedUntil returns when the block on id ends (zero: not blocked).
	BlockedUntil(ctx context.Context, id string, now time.Time) (time.Time, error)
	// Hit counts one attempt in the current window and blocks id until the
	// window ends once the count reaches limit.
	Hit(ctx context.Context, id string, limit int, window time.Duration, now time.Time) error
	// Clear forgets id.
	Clear(ctx context.Context, id string) error
}

// ThrottleLimits are the per-window limits.
type ThrottleLimits struct {
	Account int
	IP      int
	Window  time.Duration
}

// Throttle limits brute force per account and per client IP.
type Throttle struct {
	store  ThrottleStore
	limits ThrottleLimits
	now    func() time.Time
}

// NewThrottle returns a throttle.
func NewThrottle(store ThrottleStore, limits ThrottleLimits) *Throttle {
	return &Throttle{store: store, limits: limits, now: time.Now}
}

// ErrThrottled is the 429 every throttled request gets: the same body
// whichever counter tripped, so it reveals nothing about the account.
var ErrThrottled = fault.New(fault.TooManyRequests, "too_many_requests", "Too many attempts; try again later.")

// ThrottledError carries the Retry-After delay.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return ErrThrottled.Error() }

// Unwrap makes errors.Is(err, ErrThrottled) and fault.As work.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// RetryAfterSeconds is the Retry-After header value (RFC 9110 §10.2.3).
func (e *ThrottledError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// AccountKey is the counter of an action on an account. The email is
// hashed: the table holds no personal data in clear.
func (t *Throttle) AccountKey(action, email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return action + ":acct:" + hex.EncodeToString(sum[:20])
}

// IPKey is the counter of an action from a client address.
func (t *Throttle) IPKey(action, ip string) string {
	sum := sha256.Sum256([]byte(ip))
	return action + ":ip:" + hex.EncodeToString(sum[:20])
}

func (t *Throttle) limit(key string) int {
	if strings.Contains(key, ":ip:") {
		return t.limits.IP
	}
	return t.limits.Account
}

// Check returns a *ThrottledError if any key is blocked.
func (t *Throttle) Check(ctx context.Context, keys ...string) error {
	now := t.now().UTC()
	var until time.Time
	for _, k := range keys {
		u, err := t.store.BlockedUntil(ctx, k, now)
		if err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
		if u.After(until) {
			until = u
		}
	}
	if until.After(now) {
		return &ThrottledError{RetryAfter: until.Sub(now)}
	}
	return nil
}

// Fail counts a failed (or, for email-sending actions, any) attempt.
func (t *Throttle) Fail(ctx context.Context, keys ...string) error {
	now := t.now().UTC().Truncate(time.Microsecond)
	for _, k := range keys {
		if err := t.store.Hit(ctx, k, t.limit(k), t.limits.Window, now); err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
	}
	return nil
}

// Clear resets a counter (an account's, after a successful sign-in).
func (t *Throttle) Clear(ctx context.Context, key string) error {
	if err := t.store.Clear(ctx, key); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}
