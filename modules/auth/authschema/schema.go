// Package authschema holds the auth module's wire DTOs (RFC 6749 and RFC
// 7009 shapes, sessions, password reset). None carries a password hash or a
// token hash. None is marked writeOnly: input shapes are input-only already,
// and code generators turn writeOnly fields into optional pointers.
package authschema

import (
	"time"

	"github.com/google/uuid"
)

// PasswordGrant documents the form fields of the token request (RFC 6749
// §4.3.2 and §6). It is sent as application/x-www-form-urlencoded.
type PasswordGrant struct {
	GrantType    string `json:"grant_type" enum:"password,refresh_token,http://auth0.com/oauth/grant-type/mfa-otp,http://auth0.com/oauth/grant-type/mfa-recovery-code" doc:"\"password\" to sign in, \"refresh_token\" to renew, the MFA grants to complete a sign-in answered mfa_required." example:"password"`
	Username     string `json:"username,omitempty" doc:"password grant: the account's email address." example:"ada@example.com"`
	Password     string `json:"password,omitempty" doc:"password grant: the password." example:"correct horse battery staple"`
	RefreshToken string `json:"refresh_token,omitempty" doc:"refresh_token grant: the refresh token." example:"hR3tY0s9cQ2m7Vn1bK8xW4aF6dJ5eL0pZ_uI-gT2rOs"`
	MFAToken     string `json:"mfa_token,omitempty" doc:"MFA grants: the mfa_token of the mfa_required answer." example:"mfa_kP0cYb9Qm4Zr1sVt7XwA3nL8uJ5dH6gE2iO0yKqTz8w"`
	OTP          string `json:"otp,omitempty" doc:"mfa-otp grant: the 6-digit code of the authenticator app." example:"123456"`
	RecoveryCode string `json:"recovery_code,omitempty" doc:"mfa-recovery-code grant: one of the recovery codes given at enrolment (dashes and case do not matter)." example:"abcdef-ghijkl-mnopqr-stuvwx"`
	Scope        string `json:"scope,omitempty" doc:"Ignored: tokens carry no scopes." example:""`
	ClientID     string `json:"client_id,omitempty" doc:"The registered client (OAUTH_CLIENTS), unless it authenticates with an HTTP Basic header instead; without either, the default public client. A refresh token only works for the client it was issued to." example:"web"`
	ClientSecret string `json:"client_secret,omitempty" doc:"A confidential client's secret, with client_id, unless it uses an HTTP Basic header instead." example:""`
}

// Token is the successful token response (RFC 6749 §5.1).
type Token struct {
	AccessToken  string `json:"access_token" doc:"An RS256 JWT (RFC 9068); send it as Authorization: Bearer." example:"eyJhbGciOiJSUzI1NiIsImtpZCI6IjNrX2V4YW1wbGUiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiIwYjlhMmMxZSJ9.c2lnbmF0dXJl"`
	TokenType    string `json:"token_type" enum:"bearer" example:"bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"Lifetime of the access token in seconds." example:"900"`
	RefreshToken string `json:"refresh_token" doc:"Single use: each refresh returns a new one." example:"hR3tY0s9cQ2m7Vn1bK8xW4aF6dJ5eL0pZ_uI-gT2rOs"`
}

// Error is the token endpoint's error response (RFC 6749 §5.2). It is not
// problem JSON, because OAuth2 clients parse this shape.
type Error struct {
	Error            string `json:"error" enum:"invalid_request,invalid_client,invalid_grant,unauthorized_client,unsupported_grant_type,invalid_scope,server_error,temporarily_unavailable" example:"invalid_grant"`
	ErrorDescription string `json:"error_description,omitempty" example:"Incorrect email or password."`
}

// MFAError is the token endpoint's 403: the two-factor answers, in
// Auth0's shape (mfa_required carries the mfa_token that continues the
// sign-in; the other errors are Error's).
type MFAError struct {
	Error            string `json:"error" enum:"mfa_required,mfa_enrollment_required" example:"mfa_required"`
	ErrorDescription string `json:"error_description,omitempty" example:"Multifactor authentication required: send the mfa_token with a code."`
	MFAToken         string `json:"mfa_token,omitempty" doc:"With mfa_required: continues the sign-in at an MFA grant (single use, short-lived)." example:"mfa_kP0cYb9Qm4Zr1sVt7XwA3nL8uJ5dH6gE2iO0yKqTz8w"`
}

// Revocation documents the RFC 7009 §2.1 request (form-encoded).
type Revocation struct {
	Token         string `json:"token" example:"hR3tY0s9cQ2m7Vn1bK8xW4aF6dJ5eL0pZ_uI-gT2rOs"`
	TokenTypeHint string `json:"token_type_hint,omitempty" enum:"refresh_token,access_token" example:"refresh_token"`
	ClientID      string `json:"client_id,omitempty" doc:"The client the token was issued to, unless it authenticates with an HTTP Basic header instead; a public client may leave it out." example:"web"`
	ClientSecret  string `json:"client_secret,omitempty" doc:"A confidential client's secret, with client_id." example:""`
}

// JWKS is the public key set (RFC 7517 §5). Keys is never null.
type JWKS struct {
	Keys []JWK `json:"keys" nullable:"false"`
}

// JWK is one RSA public key.
type JWK struct {
	KTY string `json:"kty" example:"RSA"`
	KID string `json:"kid" doc:"RFC 7638 thumbprint." example:"3k8nQy1vX0bGZr4fJm2cT7wLp9sHd6eA5uVx0iOq_Eo"`
	Alg string `json:"alg" example:"RS256"`
	Use string `json:"use" example:"sig"`
	N   string `json:"n" doc:"Modulus, base64url." example:"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"`
	E   string `json:"e" doc:"Exponent, base64url." example:"AQAB"`
}

// Session is one active sign-in of the caller.
type Session struct {
	ID         uuid.UUID `json:"id"`
	ClientID   string    `json:"client_id" example:"web"`
	UserAgent  string    `json:"user_agent" example:"Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"`
	IP         string    `json:"ip" example:"203.0.113.7"`
	CreatedAt  time.Time `json:"created_at" example:"2026-03-14T09:26:53Z"`
	LastUsedAt time.Time `json:"last_used_at" example:"2026-03-15T18:02:11Z"`
	ExpiresAt  time.Time `json:"expires_at" example:"2026-04-13T09:26:53Z"`
	Current    bool      `json:"current" doc:"The session of the token making this request." example:"true"`
}

// PasswordRecovery asks for a reset email.
type PasswordRecovery struct {
	Email string `json:"email" maxLength:"254" minLength:"1" example:"ada@example.com"`
}

// ResetPassword redeems a reset token.
type ResetPassword struct {
	Token       string `json:"token" maxLength:"128" minLength:"1" doc:"The token from the reset email." example:"Zk3pQ9vT1xW7mB2nR5sY8cH4dJ6fL0aE_uG-iK3oPq"`
	NewPassword string `json:"new_password" maxLength:"128" minLength:"1" example:"a new long passphrase"`
}

// Accepted is the answer to a recovery request, whether or not the email
// belongs to an account.
type Accepted struct {
	Message string `json:"message" example:"If the address belongs to an account, a reset email is on its way."`
}

// NewAPIKey asks for a personal API key.
type NewAPIKey struct {
	Name        string   `json:"name" minLength:"1" maxLength:"100" doc:"What the key is for; shown in the list." example:"deploy script"`
	Permissions []string `json:"permissions" nullable:"false" maxItems:"256" doc:"At most the permissions you hold now; the key never acts beyond what you hold at the time of each request." example:"[\"users:read\"]"`
	ExpiresIn   int64    `json:"expires_in,omitempty" minimum:"0" doc:"Lifetime in seconds; 0 or absent: API_KEY_DEFAULT_TTL. At most API_KEY_MAX_TTL." example:"2592000"`
}

// APIKey is a key as lists show it: never its secret nor its hash.
type APIKey struct {
	ID          uuid.UUID  `json:"id"`
	Name        string     `json:"name" example:"deploy script"`
	Prefix      string     `json:"prefix" doc:"The start of the key, to recognise it by." example:"mkp_Xq3b"`
	Permissions []string   `json:"permissions" nullable:"false" example:"[\"users:read\"]"`
	CreatedAt   time.Time  `json:"created_at" example:"2026-03-14T09:26:53Z"`
	LastUsedAt  *time.Time `json:"last_used_at" doc:"Recorded at most once a minute; null if never used." example:"2026-03-15T18:02:11Z"`
	ExpiresAt   time.Time  `json:"expires_at" example:"2026-04-13T09:26:53Z"`
}

// CreatedAPIKey is a new key with its secret, shown this once only.
type CreatedAPIKey struct {
	APIKey
	Secret string `json:"secret" doc:"Send it as Authorization: Bearer. Shown only in this answer; only its hash is stored." example:"mkp_Xq3bT9vLm2RkP8sW1cZ4nY7hD0aE5fG6jQbC1a2B"`
}

// APIKeys is the caller's live keys, newest first.
type APIKeys struct {
	Items []APIKey `json:"items" nullable:"false"`
}

// MFAStatus is whether the caller's account has a second factor.
type MFAStatus struct {
	Enabled           bool       `json:"enabled" doc:"A confirmed TOTP factor: every password sign-in needs a code." example:"true"`
	EnabledAt         *time.Time `json:"enabled_at,omitempty" doc:"When the enrolment was confirmed." example:"2026-03-14T09:26:53Z"`
	Pending           bool       `json:"pending" doc:"An enrolment was started and awaits its first code." example:"false"`
	RecoveryCodesLeft int        `json:"recovery_codes_left" doc:"Unused recovery codes." example:"10"`
}

// MFAEnrolment is a new, unconfirmed TOTP factor: what an authenticator
// app needs. The secret is shown here only; it is stored sealed.
type MFAEnrolment struct {
	Secret     string `json:"secret" doc:"The shared secret, base32, for typing into an authenticator app." example:"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"`
	OTPAuthURI string `json:"otpauth_uri" doc:"The otpauth:// URI (Google Authenticator's key-URI format): SHA1, 6 digits, 30 s." example:"otpauth://totp/example:ada@example.com?algorithm=SHA1&digits=6&issuer=example&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"`
	QRCode     string `json:"qr_code" doc:"The URI as a QR code: a data: URI of a 256x256 PNG, for an img element." example:"data:image/png;base64,iVBORw0KGgo="`
}

// MFACode is a code from the authenticator app.
type MFACode struct {
	Code string `json:"code" minLength:"6" maxLength:"6" pattern:"^[0-9]{6}$" doc:"The current 6-digit code." example:"123456"`
}

// MFARecoveryCodes are the recovery codes of a confirmed enrolment, shown
// this once; each works once, in place of a code.
type MFARecoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes" nullable:"false" doc:"Ten single-use codes: keep them somewhere safe." example:"[\"abcdef-ghijkl-mnopqr-stuvwx\"]"`
}

// MFADisable is what disabling two-factor authentication needs.
type MFADisable struct {
	Password string `json:"password" maxLength:"1024" doc:"The account's password." example:"correct horse battery staple"`
	Code     string `json:"code" minLength:"6" maxLength:"40" doc:"A current 6-digit code, or a recovery code." example:"123456"`
}

// EmailToken redeems a verification or email-change token.
type EmailToken struct {
	Token string `json:"token" maxLength:"128" minLength:"1" doc:"The token from the email's link." example:"Zk3pQ9vT1xW7mB2nR5sY8cH4dJ6fL0aE_uG-iK3oPq"`
}

// ResendVerification asks for a new verification email.
type ResendVerification struct {
	Email string `json:"email" maxLength:"254" minLength:"1" example:"ada@example.com"`
}
