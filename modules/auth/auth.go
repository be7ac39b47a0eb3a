// Package auth is the auth module: the OAuth2 token and revocation
// endpoints, sessions, the signing key set, throttling and password reset.
// Module is its only fx wiring.
package auth

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/modules/auth/authpages"
	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/cli"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/throttle"
)

// Module provides the auth service, the platform's TokenVerifier and
// Revoker, and the auth routes; it consumes the users module's accounts
// through authn.Accounts.
var Module = fx.Module("auth",
	config.Provide[Settings]("auth", "access tokens, the initial signing key, sessions, password reset and sign-in throttling"),
	config.Provide[EmailSettings]("auth-email", "the links mailed to verify an address or confirm an email change"),
	cli.Provide(keysCommand),
	cli.Provide(apiKeysCommand),
	cli.Provide(mfaCommand),
	fx.Provide(
		fx.Private,
		authstore.New,
		func(s *authstore.Store) authsvc.SessionStore { return s },
		newLimits,
		newResets,
		newEmailLinks,
		newSessionCache,
		authapi.NewEvents,
	),
	pruning,
	fx.Provide(
		NewKeyRing,
		newTokens,
		func(t *authsvc.Tokens) authn.TokenVerifier { return t },
		// The revoker depends on the store only, so the users module can
		// use it without a dependency cycle.
		func(p storeAudit) authn.Revoker { return authsvc.NewRevoker(p.Store, p.Store, p.Audit) },
		newMFA,
		newService,
		newAPIKeys,
		func(k *authsvc.APIKeys) authn.KeyVerifier { return k },
		func(l *authsvc.EmailLinks) authn.EmailLinks { return l },
		httpserver.AsRoutes(authapi.New),
		httpserver.AsRoutes(authpages.New),
		authapi.OAuth,
	),
)

// NewKeyRing loads the key set from the database on start, sealing the
// configured (or, in development, generated) key into it first if the set
// is empty. `app keys` (keysCommand) runs on it too.
func NewKeyRing(lc fx.Lifecycle, app config.Config, edge config.Sessions, cfg Settings, s *authstore.Store) (*authsvc.KeyRing, error) {
	ring, err := authsvc.NewKeyRing(s, edge.KeyEncryptionKey, cfg.KeyRefresh)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		initial, err := authsvc.LoadSigningKey(authsvc.KeySource{
			PEM:      cfg.PrivateKeyPEM,
			File:     cfg.PrivateKeyFile,
			Generate: !app.IsProduction(),
		})
		if err != nil {
			return err
		}
		return ring.Bootstrap(ctx, initial)
	}})
	return ring, nil
}

// newTokens checks sessions through the cache: the per-request check. A
// process that verifies tokens must hear revocations and key removals, so
// the listener comes with it; one-shot commands that never verify a token
// (users create-superuser) build neither, nor need the signing keys.
func newTokens(lc fx.Lifecycle, cfg Settings, ring *authsvc.KeyRing, c *authstore.SessionCache, db *database.DB, log *zap.Logger) *authsvc.Tokens {
	t := authsvc.NewTokens(authsvc.TokenConfig{
		Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTokenTTL,
	}, ring, c)
	listen(lc, db, c, ring, t, log)
	return t
}

// newSessionCache builds the session cache. On Postgres it is used only
// while the listener (listen) is connected, which brings it the other
// replicas' revocations; SQLite serves one process, whose own revocations
// reach the cache directly.
func newSessionCache(cfg Settings, db *database.DB, s *authstore.Store) *authstore.SessionCache {
	c := authstore.NewSessionCache(s, cfg.SessionCacheTTL, authstore.CacheSize)
	if db.Dialect != dialect.Postgres {
		c.Enable(true)
	}
	return c
}

// listen, on Postgres, holds one pool connection on LISTEN for what other
// processes announce: session revocations (the session cache drops them)
// and signing-key removals (the key ring drops the key at once, then
// reloads). While it is not connected the session cache is off, and a key
// removal reaches this replica at its next periodic reload
// (JWT_KEY_REFRESH_INTERVAL); when it reconnects, the key set is reloaded,
// since a removal may have been missed meanwhile.
func listen(lc fx.Lifecycle, db *database.DB, c *authstore.SessionCache, ring *authsvc.KeyRing, tokens *authsvc.Tokens, log *zap.Logger) {
	if db.Dialect != dialect.Postgres {
		return
	}
	log = log.Named("auth")
	if n := db.Direct().Stats().MaxOpenConnections; n == 1 {
		// The listener would hold the pool's only connection (the
		// direct pool of DATABASE_DIRECT_URL, when there is one, is
		// apart and never that small).
		log.Warn("session cache off, and signing-key removals reach this replica only at JWT_KEY_REFRESH_INTERVAL: LISTEN needs a second pool connection (DB_MAX_OPEN_CONNS=1)")
		return
	}
	listenCtx, stop := context.WithCancel(context.Background())
	var (
		reloads sync.WaitGroup
		mu      sync.Mutex
		stopped bool
	)
	// reload runs beside the listener, never in it: a database that hangs
	// must not hold up the session revocations queued behind it.
	reload := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		reloads.Go(func() {
			ctx, cancel := context.WithTimeout(listenCtx, 30*time.Second)
			defer cancel()
			if err := ring.Reload(ctx); err != nil && listenCtx.Err() == nil {
				log.Warn("reload signing keys", zap.Error(err))
			}
		})
	}
	var connected atomic.Bool // once: the first LISTEN follows the start's own load
	sub := database.Subscriber{
		Ready: func() {
			c.Enable(true)
			if connected.Swap(true) {
				reload()
			}
		},
		Notify: func(payload string) {
			if kid, ok := strings.CutPrefix(payload, authstore.KeyRemoved); ok {
				ring.Forget(kid)
				tokens.ForgetKey(kid)
				reload()
				return
			}
			c.Invalidate(payload)
		},
		Lost: func() {
			c.Enable(false)
			log.Warn("session cache off: the LISTEN connection failed; reconnecting")
		},
	}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			done := make(chan error, 1)
			go func() { done <- db.Listen(listenCtx, authstore.SessionsChannel, sub) }()
			// Not a reason to refuse to start: without the listener every
			// request checks its session in the database.
			select {
			case err := <-done:
				if err != nil {
					log.Warn("session cache off until LISTEN succeeds", zap.Error(err))
				}
			case <-ctx.Done():
				log.Warn("session cache off until LISTEN succeeds", zap.Error(ctx.Err()))
			}
			return nil
		},
		OnStop: func(context.Context) error {
			stop()
			mu.Lock()
			stopped = true
			mu.Unlock()
			reloads.Wait()
			return nil
		},
	})
}

// newAPIKeys builds the API-key service; failed key attempts count per
// client address under the sign-in window and address limit.
func newAPIKeys(cfg Settings, sa storeAudit, l *throttle.Limiter, c *authz.Catalogue) *authsvc.APIKeys {
	s := sa.Store
	return authsvc.NewAPIKeys(s, l, c, authsvc.APIKeyOptions{
		Audit: sa.Audit, Tx: s,
		Format:      authsvc.KeyFormat{Prefix: cfg.APIKeyPrefix},
		DefaultTTL:  cfg.APIKeyDefaultTTL,
		MaxTTL:      cfg.APIKeyMaxTTL,
		FailureRule: throttle.Rule{Name: "apikey.ip", Limit: cfg.ThrottleIP, Window: cfg.ThrottleWindow},
		TouchEvery:  time.Minute,
	})
}

func newLimits(cfg Settings) authsvc.Limits {
	return authsvc.NewLimits(authsvc.LimitSettings{
		AccountIP: cfg.ThrottleAccountIP, Account: cfg.ThrottleAccount, IP: cfg.ThrottleIP,
		RecoveryAccount: cfg.RecoveryAccount, Window: cfg.ThrottleWindow,
	})
}

func newResets(s *authstore.Store, m mail.Sender, log *zap.Logger) *authsvc.Resets {
	return authsvc.NewResets(s, m, log.Named("auth"))
}

// newEmailLinks depends on the store and the sender only: the users
// module calls it while it builds its own service.
func newEmailLinks(cfg EmailSettings, http config.HTTP, s *authstore.Store, m mail.Sender) *authsvc.EmailLinks {
	return authsvc.NewEmailLinks(s, m, cfg.EmailLinks(http.PublicURL))
}

// storeAudit is the store and the audit module's recorder, optional so
// the auth module runs without the audit module.
type storeAudit struct {
	fx.In
	Store *authstore.Store
	Audit audit.Recorder `optional:"true"`
}

// accounts is what the users module provides the auth service.
type accounts struct {
	fx.In
	Accounts authn.Accounts
	Owners   authn.EmailOwners
}

func newService(cfg Settings, http config.HTTP, u accounts, t *authsvc.Tokens, s authsvc.SessionStore, l *throttle.Limiter, limits authsvc.Limits, r *authsvc.Resets, m *authsvc.MFA, links *authsvc.EmailLinks, sa storeAudit) *authsvc.Service {
	return authsvc.New(u.Accounts, t, s, l, limits, r, authsvc.Options{
		IdleTTL: cfg.RefreshIdleTTL, AbsoluteTTL: cfg.RefreshAbsoluteTTL,
		ReuseGrace: cfg.RefreshReuseGrace, ResetTTL: cfg.ResetTokenTTL,
		ResetLink: cfg.ResetLink(http.PublicURL), Clients: cfg.Clients(),
		Audit: sa.Audit, Tx: sa.Store, MFA: m, Links: links, Owners: u.Owners,
	})
}

// newMFA builds two-factor authentication: TOTP secrets sealed with the
// key-encryption key, like the signing keys; failed codes counted per
// account (and, for mfa_tokens, per address) under the sign-in window.
func newMFA(cfg Settings, edge config.Sessions, u authn.Accounts, l *throttle.Limiter, sa storeAudit) (*authsvc.MFA, error) {
	return authsvc.NewMFA(sa.Store, u, l, edge.KeyEncryptionKey, authsvc.MFAOptions{
		Issuer: cfg.Issuer, ChallengeTTL: cfg.MFATokenTTL,
		AccountRule:      throttle.Rule{Name: "mfa.account", Limit: cfg.MFAThrottle, Window: cfg.ThrottleWindow},
		DailyRule:        throttle.Rule{Name: "mfa.account-day", Limit: cfg.MFAThrottleDaily, Window: 24 * time.Hour},
		IPRule:           throttle.Rule{Name: "mfa.ip", Limit: cfg.ThrottleIP, Window: cfg.ThrottleWindow},
		RequireForAdmins: cfg.MFARequireAdmins,
		Audit:            sa.Audit, Tx: sa.Store,
	})
}
