// Package authschema holds the auth module's wire DTOs (RFC 6749 shapes).
package authschema

// PasswordGrant documents the form fields of the token request (RFC 6749
// §4.3.2). It is sent as application/x-www-form-urlencoded.
type PasswordGrant struct {
	GrantType string `json:"grant_type" enum:"password" doc:"Must be \"password\"."`
	Username  string `json:"username" doc:"The account's email address."`
	Password  string `json:"password" writeOnly:"true"`
	Scope     string `json:"scope,omitempty" doc:"Ignored: tokens carry no scopes."`
	ClientID  string `json:"client_id,omitempty" doc:"Optional public client id."`
}

// Token is the successful token response (RFC 6749 §5.1).
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type" enum:"bearer"`
	ExpiresIn   int    `json:"expires_in" doc:"Lifetime of the access token in seconds."`
}

// Error is the token endpoint's error response (RFC 6749 §5.2). It is not
// problem JSON, because OAuth2 clients parse this shape.
type Error struct {
	Error            string `json:"error" enum:"invalid_request,invalid_client,invalid_grant,unauthorized_client,unsupported_grant_type,invalid_scope,server_error"`
	ErrorDescription string `json:"error_description,omitempty"`
}
