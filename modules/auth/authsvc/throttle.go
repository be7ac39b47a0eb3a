package authsvc

import (
	"context"
	"time"

	"github.com/acme/monolith/platform/throttle"
)

// Limiter reserves attempts before the work they guard; the platform's
// throttle.Limiter satisfies it.
type Limiter interface {
	Reserve(ctx context.Context, keys ...throttle.Key) (*throttle.Reservation, error)
	// Forget deletes every counter of rule about s, pairs included.
	Forget(ctx context.Context, rule throttle.Rule, s throttle.Subject) error
}

// ErrThrottled is the 429 every throttled request gets (throttle.ErrLimited):
// the same body whichever counter tripped, so it reveals nothing about the
// account.
var ErrThrottled = throttle.ErrLimited

// Limits are the throttling rules of the auth endpoints, in fixed windows.
type Limits struct {
	// Sign-in failures: per account from one address (tight), per account
	// from every address (loose: an attacker on one address cannot lock
	// the owner out elsewhere), per address for every account.
	LoginAccountIP, LoginAccount, LoginIP throttle.Rule
	// Refresh failures per address: a refresh token names no account
	// until it is valid.
	RefreshIP throttle.Rule
	// Recovery requests (every one may send an email) per account and per
	// address.
	RecoverAccount, RecoverIP throttle.Rule
	// Reset failures (bad tokens) per address.
	ResetIP throttle.Rule
	// Verification resends (every one may send an email) per account and
	// per address, and bad email tokens per address.
	VerifyAccount, VerifyIP, EmailTokenIP throttle.Rule
	// Client secrets presented at the token and revocation endpoints per
	// address (wrong ones stay counted).
	ClientIP throttle.Rule
}

// LimitSettings are the configured numbers behind Limits.
type LimitSettings struct {
	AccountIP, Account, IP, RecoveryAccount int
	Window                                  time.Duration
}

// NewLimits names the rules; the names are part of every stored counter.
func NewLimits(s LimitSettings) Limits {
	rule := func(name string, limit int) throttle.Rule {
		return throttle.Rule{Name: name, Limit: limit, Window: s.Window}
	}
	return Limits{
		LoginAccountIP: rule("login.account-ip", s.AccountIP),
		LoginAccount:   rule("login.account", s.Account),
		LoginIP:        rule("login.ip", s.IP),
		RefreshIP:      rule("refresh.ip", s.IP),
		RecoverAccount: rule("recover.account", s.RecoveryAccount),
		RecoverIP:      rule("recover.ip", s.IP),
		ResetIP:        rule("reset.ip", s.IP),
		ClientIP:       rule("client.ip", s.IP),
		VerifyAccount:  rule("verify.account", s.RecoveryAccount),
		VerifyIP:       rule("verify.ip", s.IP),
		EmailTokenIP:   rule("email-token.ip", s.IP),
	}
}
