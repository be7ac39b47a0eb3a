// Package authschema holds the auth module's wire DTOs (RFC 6749 and RFC
// 7009 shapes, sessions, password reset). None carries a password hash or a
// token hash.
package authschema

import (
	"time"

	"github.com/google/uuid"
)

// PasswordGrant documents the form fields of the token request (RFC 6749
// §4.3.2 and §6). It is sent as application/x-www-form-urlencoded.
type PasswordGrant struct {
	GrantType    string `json:"grant_type" enum:"password,refresh_token" doc:"\"password\" to sign in, \"refresh_token\" to renew."`
	Username     string `json:"username,omitempty" doc:"password grant: the account's email address."`
	Password     string `json:"password,omitempty" writeOnly:"true" doc:"password grant: the password."`
	RefreshToken string `json:"refresh_token,omitempty" writeOnly:"true" doc:"refresh_token grant: the refresh token."`
	Scope        string `json:"scope,omitempty" doc:"Ignored: tokens carry no scopes."`
	ClientID     string `json:"client_id,omitempty" doc:"Optional public client id; a refresh token only works for the client it was issued to."`
}

// Token is the successful token response (RFC 6749 §5.1).
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type" enum:"bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"Lifetime of the access token in seconds."`
	RefreshToken string `json:"refresh_token" doc:"Single use: each refresh returns a new one."`
}

// Error is the token endpoint's error response (RFC 6749 §5.2). It is not
// problem JSON, because OAuth2 clients parse this shape.
type Error struct {
	Error            string `json:"error" enum:"invalid_request,invalid_client,invalid_grant,unauthorized_client,unsupported_grant_type,invalid_scope,server_error,temporarily_unavailable"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// Revocation documents the RFC 7009 §2.1 request (form-encoded).
type Revocation struct {
	Token         string `json:"token" writeOnly:"true"`
	TokenTypeHint string `json:"token_type_hint,omitempty" enum:"refresh_token,access_token"`
}

// JWKS is the public key set (RFC 7517 §5).
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is one RSA public key.
type JWK struct {
	KTY string `json:"kty"`
	KID string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// Session is one active sign-in of the caller.
type Session struct {
	ID         uuid.UUID `json:"id"`
	ClientID   string    `json:"client_id"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current" doc:"The session of the token making this request."`
}

// PasswordRecovery asks for a reset email.
type PasswordRecovery struct {
	Email string `json:"email" maxLength:"254" minLength:"1"`
}

// ResetPassword redeems a reset token.
type ResetPassword struct {
	Token       string `json:"token" maxLength:"128" minLength:"1" writeOnly:"true"`
	NewPassword string `json:"new_password" maxLength:"128" minLength:"1" writeOnly:"true"`
}

// Accepted is the answer to a recovery request, whether or not the email
// belongs to an account.
type Accepted struct {
	Message string `json:"message"`
}
