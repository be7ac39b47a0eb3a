package authapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/httpserver"
)

// registerEmail registers the operations the links in verification and
// email-change mails lead to, and the resend of a verification mail.
func (r *Routes) registerEmail(api huma.API) {
	huma.Register(api, authn.Public(httpserver.WithErrors(huma.Operation{
		OperationID: "verify-email", Method: http.MethodPost, Path: "/api/auth/verify-email", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "Verify an account's email address with the token mailed to it (single use)",
		Description: "The token comes from the link of the verification email. Unknown, used, expired tokens and " +
			"tokens of another flow (a password reset, an email change) all answer 422 `invalid_email_token`; " +
			"each bad one counts against the client address (`AUTH_THROTTLE_IP_LIMIT`).",
	}, authsvc.ErrInvalidEmailToken, authsvc.ErrThrottled)), r.verify)
	huma.Register(api, authn.Public(httpserver.WithErrors(huma.Operation{
		OperationID: "resend-verification", Method: http.MethodPost, Path: "/api/auth/verify-email/resend", Tags: []string{tag},
		DefaultStatus: http.StatusAccepted,
		Summary:       "Email a new verification link",
		Description: "Always answers 202 with the same body, whether the address is unknown, verified or not; " +
			"the email is sent only to an active account's unverified address, and replaces its earlier link. " +
			"Requests count per account (`AUTH_RECOVERY_ACCOUNT_LIMIT`) and per client address (`AUTH_THROTTLE_IP_LIMIT`) " +
			"per `AUTH_THROTTLE_WINDOW`: 429 with Retry-After beyond.",
	}, authsvc.ErrThrottled)), r.resend)
	huma.Register(api, authn.Public(httpserver.WithErrors(huma.Operation{
		OperationID: "confirm-email", Method: http.MethodPost, Path: "/api/auth/confirm-email", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "Confirm an email change with the token mailed to the new address (single use)",
		Description: "The account moves to the new address, verified; the old one is told, and reset links mailed to it end. " +
			"If another account took the address meanwhile: 409 `email_taken`, and the link stays usable for as long " +
			"as it lives. Bad tokens answer and count as for `POST /api/auth/verify-email`.",
	}, authsvc.ErrInvalidEmailToken, authsvc.ErrEmailTaken, authsvc.ErrThrottled)), r.confirm)
}

type emailTokenIn struct {
	userAgent
	Body authschema.EmailToken
}

type resendIn struct {
	userAgent
	Body authschema.ResendVerification
}

func (r *Routes) verify(ctx context.Context, in *emailTokenIn) (*struct{}, error) {
	return nil, r.counted(r.svc.VerifyEmail(ctx, in.Body.Token, jsonClient(ctx, in.value)))
}

func (r *Routes) confirm(ctx context.Context, in *emailTokenIn) (*struct{}, error) {
	return nil, r.counted(r.svc.ConfirmEmailChange(ctx, in.Body.Token, jsonClient(ctx, in.value)))
}

func (r *Routes) resend(ctx context.Context, in *resendIn) (*acceptedOut, error) {
	if err := r.svc.ResendVerification(ctx, in.Body.Email, jsonClient(ctx, in.value)); err != nil {
		return nil, r.counted(err)
	}
	return &acceptedOut{Body: authschema.Accepted{Message: "If the address belongs to an account waiting for verification, a new link is on its way."}}, nil
}
