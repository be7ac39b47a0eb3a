package auth

import (
	"net/url"
	"strings"
	"time"

	"github.com/acme/monolith/modules/auth/authpages"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/config"
)

// DefaultSigningKeyFile is where development keeps its generated key.
const DefaultSigningKeyFile = "./var/jwt-signing-key.pem"

// Settings are the auth module's variables: access tokens, the initial
// signing key, sessions, password reset and sign-in throttling. The
// key-encryption key is the platform's (the attempt limiter keys its
// counters with it too).
type Settings struct {
	Issuer         string        "env:\"JWT_ISSUER\" envDefault:\"{service}\" doc:\"`iss` of access tokens\""
	Audience       string        "env:\"JWT_AUDIENCE\" envDefault:\"{service}-api\" doc:\"`aud` of access tokens\""
	AccessTokenTTL time.Duration "env:\"ACCESS_TOKEN_TTL\" envDefault:\"15m\" min:\"1m\" max:\"24h\" doc:\"access-token lifetime (1m to 24h)\""
	// JWT_PRIVATE_KEY: the PEM itself (from a Secret)
	PrivateKeyPEM string "env:\"JWT_PRIVATE_KEY\" secret:\"true\" doc:\"the RS256 signing key (PEM); a Secret in the pods\""
	// a path to the PEM; development defaults to DefaultSigningKeyFile
	PrivateKeyFile string "env:\"JWT_PRIVATE_KEY_FILE\" shown:\"dev: `./var/jwt-signing-key.pem`\" doc:\"or a path to it (e.g. a mounted Secret)\""
	// how often replicas reload the key set
	KeyRefresh time.Duration "env:\"JWT_KEY_REFRESH_INTERVAL\" envDefault:\"1m\" min:\"1s\" doc:\"how often each replica reloads the signing-key set; never rotate more often. A removed key (`app keys remove`) ends at once on replicas that hear the announcement; this bounds how long one whose `LISTEN` connection broke silently still trusts it\""
	// SessionCacheTTL is how long a replica reuses a session it checked;
	// revocations invalidate it at once (LISTEN/NOTIFY). 0 turns it off.
	SessionCacheTTL time.Duration "env:\"SESSION_CACHE_TTL\" envDefault:\"3s\" min:\"0s\" max:\"1m\" doc:\"how long a replica reuses a session it checked (revocations reach every replica at once through Postgres LISTEN/NOTIFY; this bounds a silently broken LISTEN connection); at most `1m`, `0` turns the cache off. Each replica holds one pool connection for LISTEN, also with `0` (signing-key removals use it too); with `DB_MAX_OPEN_CONNS=1` there is no listener: the cache stays off and key removals wait for `JWT_KEY_REFRESH_INTERVAL`\""
	// a session unused this long ends
	RefreshIdleTTL time.Duration "env:\"REFRESH_TOKEN_IDLE_TTL\" envDefault:\"336h\" min:\"1s\" doc:\"a session unused this long ends\""
	// no session outlives this
	RefreshAbsoluteTTL time.Duration "env:\"REFRESH_TOKEN_ABSOLUTE_TTL\" envDefault:\"720h\" min:\"1s\" doc:\"no session outlives this\""
	// concurrent refreshes with one token get the same child
	RefreshReuseGrace time.Duration "env:\"REFRESH_TOKEN_REUSE_GRACE\" envDefault:\"10s\" min:\"1ns\" max:\"1m\" doc:\"concurrent refreshes with one token inside this window share the new token; a later reuse revokes the session\""
	// where the reset email's link leads; empty: the page this module serves
	ResetURL      string        "env:\"PASSWORD_RESET_URL\" shown:\"`{PUBLIC_URL}/reset-password#token={token}`\" doc:\"the link in the password-reset email, `{token}` standing for the token: a page of your own frontend, which sends the token and the new password to `POST /api/auth/reset-password`. By default the page this binary serves. Put the token in the fragment (`#token=`), which browsers never send to a server, rather than the query, which access logs and proxies record\""
	ResetTokenTTL time.Duration "env:\"PASSWORD_RESET_TTL\" envDefault:\"30m\" min:\"1s\" max:\"24h\" doc:\"lifetime of a password-reset token\""
	// Sign-in failures allowed per window: per account from one client
	// address (tight), per account from all addresses (loose, so an
	// attacker's address cannot lock the owner out), per address (for
	// every account; also refresh and reset failures).
	ThrottleAccountIP int           "env:\"AUTH_THROTTLE_ACCOUNT_IP_LIMIT\" envDefault:\"5\" min:\"1\" max:\"1000\" doc:\"failed sign-ins for one account from one client address per window before 429 (the tight limit; [security.md](security.md#brute-force-and-enumeration-asvs-v63))\""
	ThrottleAccount   int           "env:\"AUTH_THROTTLE_ACCOUNT_LIMIT\" envDefault:\"50\" min:\"2\" max:\"1000000\" doc:\"failed sign-ins for one account from all addresses per window (at least 2 × the above). Before this release it was the only per-account limit (default 5), which let any address lock the owner out: raise it back only knowingly\""
	ThrottleIP        int           "env:\"AUTH_THROTTLE_IP_LIMIT\" envDefault:\"100\" min:\"5\" max:\"1000000\" doc:\"failed sign-ins for all accounts from one address per window (at least 5 × `AUTH_THROTTLE_ACCOUNT_IP_LIMIT`); also refresh failures, reset failures, recovery requests and presented client secrets per address\""
	ThrottleWindow    time.Duration "env:\"AUTH_THROTTLE_WINDOW\" envDefault:\"15m\" min:\"1s\" max:\"24h\" doc:\"the window of every sign-in, refresh, recovery and reset counter (at most 24h)\""
	// password-recovery requests (emails) per account per window
	RecoveryAccount int "env:\"AUTH_RECOVERY_ACCOUNT_LIMIT\" envDefault:\"5\" min:\"1\" max:\"1000\" doc:\"password-recovery requests (emails) per account per window\""
	// API keys: the prefix secret scanners look for, and their lifetimes.
	APIKeyPrefix     string        "env:\"API_KEY_PREFIX\" envDefault:\"mk\" doc:\"start of every API key: personal keys read `<prefix>p_` then 36 base62 characters (30 random, 6 of CRC32 checksum); 2 to 12 lower-case letters and digits. Register the pattern with your secret scanner ([security.md](security.md#api-keys)); changing it makes every existing key unusable\""
	APIKeyDefaultTTL time.Duration "env:\"API_KEY_DEFAULT_TTL\" envDefault:\"720h\" min:\"1m\" doc:\"lifetime of an API key whose creator names none (at most `API_KEY_MAX_TTL`)\""
	APIKeyMaxTTL     time.Duration "env:\"API_KEY_MAX_TTL\" envDefault:\"8760h\" min:\"1m\" doc:\"the longest lifetime an API key may be given\""
	// Two-factor authentication (TOTP): the mfa_token's lifetime, failed
	// codes allowed per account per window, and whether admins need it.
	MFATokenTTL      time.Duration "env:\"AUTH_MFA_TOKEN_TTL\" envDefault:\"5m\" min:\"30s\" max:\"30m\" doc:\"lifetime of the `mfa_token` a password grant answers an account with two-factor authentication with (single use)\""
	MFAThrottle      int           "env:\"AUTH_MFA_THROTTLE_LIMIT\" envDefault:\"5\" min:\"1\" max:\"100\" doc:\"failed two-factor codes (TOTP or recovery) per account per `AUTH_THROTTLE_WINDOW` before 429\""
	MFAThrottleDaily int           "env:\"AUTH_MFA_THROTTLE_DAILY_LIMIT\" envDefault:\"20\" min:\"1\" max:\"1000\" doc:\"failed two-factor codes per account per 24 hours before 429 (at least `AUTH_MFA_THROTTLE_LIMIT`): with the default and a ±1 step window, a guesser who knows the password has about 1 chance in 16,000 a day\""
	MFARequireAdmins bool          "env:\"AUTH_MFA_REQUIRED_FOR_ADMINS\" envDefault:\"false\" doc:\"`true`: a password sign-in of an account holding the `admin` role that has no second factor is refused (403 `mfa_enrollment_required`): an administrator enrols before being given the role, or has it taken away to enrol; turn it on once the administrators have enrolled ([security.md](security.md#two-factor-authentication-asvs-v63-v65))\""
	// the first-party OAuth2 clients (clients.go reads them)
	ClientList    []string "env:\"OAUTH_CLIENTS\" envDefault:\"default\" doc:\"first-party OAuth2 clients of the token and revocation endpoints, comma-separated: `ID` for a public client (a browser app, the Swagger UI, a CLI: it names itself, holds no secret), `ID=sha256:HEX` for a confidential one (HEX is the SHA-256 of its secret: `printf %s \\\"$SECRET\\\" | sha256sum`; use a random secret of 32 bytes or more). Clients send their id and secret in an HTTP Basic header or as `client_id`/`client_secret` in the body\""
	DefaultClient string   "env:\"OAUTH_DEFAULT_CLIENT\" envDefault:\"default\" doc:\"the public client a token request that names no client acts as\""
	// registered is ClientList read by Validate.
	registered []authsvc.ClientRegistration
}

// Validate checks the rules across variables and production's, and
// gives development its generated key.
func (s *Settings) Validate(env config.Env) error {
	var p config.Problems
	if s.Issuer == "" {
		p.Add("JWT_ISSUER", "must not be empty")
	}
	if s.Audience == "" {
		p.Add("JWT_AUDIENCE", "must not be empty")
	}
	if s.PrivateKeyPEM != "" && s.PrivateKeyFile != "" {
		p.Add("JWT_PRIVATE_KEY", "set either JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE, not both")
	}
	if s.RefreshIdleTTL > s.RefreshAbsoluteTTL {
		p.Add("REFRESH_TOKEN_IDLE_TTL", "must not exceed REFRESH_TOKEN_ABSOLUTE_TTL")
	}
	if s.ThrottleAccount < 2*s.ThrottleAccountIP {
		p.Add("AUTH_THROTTLE_ACCOUNT_LIMIT", "must be at least 2 times AUTH_THROTTLE_ACCOUNT_IP_LIMIT: otherwise one address alone could lock the owner out everywhere")
	}
	if s.ThrottleIP < 5*s.ThrottleAccountIP {
		p.Add("AUTH_THROTTLE_IP_LIMIT", "must be at least 5 times AUTH_THROTTLE_ACCOUNT_IP_LIMIT (many users share one address)")
	}
	if s.MFAThrottleDaily < s.MFAThrottle {
		p.Add("AUTH_MFA_THROTTLE_DAILY_LIMIT", "must be at least AUTH_MFA_THROTTLE_LIMIT")
	}
	if s.ResetURL != "" {
		if msg := checkLinkTemplate(s.ResetURL); msg != "" {
			p.Add("PASSWORD_RESET_URL", msg)
		}
	}
	if !authsvc.ValidKeyPrefix(s.APIKeyPrefix) {
		p.Add("API_KEY_PREFIX", "must be 2 to 12 lower-case letters and digits, starting with a letter")
	}
	if s.APIKeyDefaultTTL > s.APIKeyMaxTTL {
		p.Add("API_KEY_DEFAULT_TTL", "must not exceed API_KEY_MAX_TTL")
	}
	s.registered = clients(s.ClientList, s.DefaultClient, &p)
	switch {
	case !env.IsProduction():
		if s.PrivateKeyPEM == "" && s.PrivateKeyFile == "" {
			s.PrivateKeyFile = DefaultSigningKeyFile
		}
	case s.PrivateKeyPEM == "" && s.PrivateKeyFile == "":
		p.Add("JWT_PRIVATE_KEY", "a signing key must be provided in production (JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE)")
	case config.IsPlaceholder(s.PrivateKeyPEM):
		p.Add("JWT_PRIVATE_KEY", "is a placeholder; provide a real PEM private key")
	}
	return p.Err()
}

// Clients are the registered OAuth2 clients and the default one.
func (s Settings) Clients() *authsvc.Clients {
	return authsvc.NewClients(s.registered, s.DefaultClient)
}

// ResetLink is the reset email's link template ({token} for the token):
// PASSWORD_RESET_URL, or the page the module serves under publicURL.
func (s Settings) ResetLink(publicURL string) string {
	if s.ResetURL != "" {
		return s.ResetURL
	}
	return strings.TrimRight(publicURL, "/") + authpages.ResetPasswordPath + "#token={token}"
}

// EmailSettings are the auth module's variables for the links it mails
// to prove an address (verification, email change). A section of their
// own: the users module's commands build the email links too, and must
// not need the signing key or anything else of Settings.
type EmailSettings struct {
	// where the verification and email-change links lead, as ResetURL
	VerifyURL      string        "env:\"EMAIL_VERIFY_URL\" shown:\"`{PUBLIC_URL}/verify-email#token={token}`\" doc:\"the link in the verification email (`EMAIL_VERIFICATION`), `{token}` standing for the token: a page of your own frontend, which sends the token to `POST /api/auth/verify-email`. By default the page this binary serves. As for `PASSWORD_RESET_URL`, put the token in the fragment\""
	ChangeURL      string        "env:\"EMAIL_CHANGE_URL\" shown:\"`{PUBLIC_URL}/confirm-email#token={token}`\" doc:\"the link mailed to a new address to confirm an email change, `{token}` standing for the token: a page that sends it to `POST /api/auth/confirm-email`. By default the page this binary serves\""
	VerifyTokenTTL time.Duration "env:\"EMAIL_VERIFICATION_TTL\" envDefault:\"24h\" min:\"1m\" max:\"168h\" doc:\"lifetime of an email-verification link (a new one can be asked for at `POST /api/auth/verify-email/resend`)\""
	ChangeTokenTTL time.Duration "env:\"EMAIL_CHANGE_TTL\" envDefault:\"1h\" min:\"1m\" max:\"24h\" doc:\"lifetime of an email-change confirmation link\""
}

// Validate checks the link templates.
func (s *EmailSettings) Validate(config.Env) error {
	var p config.Problems
	for _, v := range []struct{ name, tmpl string }{{"EMAIL_VERIFY_URL", s.VerifyURL}, {"EMAIL_CHANGE_URL", s.ChangeURL}} {
		if v.tmpl == "" {
			continue
		}
		if msg := checkLinkTemplate(v.tmpl); msg != "" {
			p.Add(v.name, msg)
		}
	}
	return p.Err()
}

// EmailLinks are the verification and email-change links' templates and
// lifetimes: EMAIL_VERIFY_URL and EMAIL_CHANGE_URL, or the pages the
// module serves under publicURL.
func (s EmailSettings) EmailLinks(publicURL string) authsvc.EmailLinkOptions {
	base := strings.TrimRight(publicURL, "/")
	o := authsvc.EmailLinkOptions{
		VerifyLink: base + authpages.VerifyEmailPath + "#token={token}",
		ChangeLink: base + authpages.ConfirmEmailPath + "#token={token}",
		VerifyTTL:  s.VerifyTokenTTL, ChangeTTL: s.ChangeTokenTTL,
	}
	if s.VerifyURL != "" {
		o.VerifyLink = s.VerifyURL
	}
	if s.ChangeURL != "" {
		o.ChangeLink = s.ChangeURL
	}
	return o
}

// checkLinkTemplate is what is wrong with a link template, or "".
func checkLinkTemplate(tmpl string) string {
	if strings.Count(tmpl, "{token}") != 1 {
		return "must contain {token} exactly once (it stands for the token)"
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{token}", "t"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	return ""
}
