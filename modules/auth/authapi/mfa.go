package authapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/httpserver"
)

// MFAPath is the caller's second factor.
const MFAPath = "/api/auth/mfa"

type mfaStatusOut struct {
	Body authschema.MFAStatus
}

type enrolmentOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         authschema.MFAEnrolment
}

type recoveryOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         authschema.MFARecoveryCodes
}

// registerMFA adds two-factor enrolment. Every operation needs a session
// (an API key never manages the factor that guards its owner); starting
// an enrolment and disabling need a recent sign-in.
func (r *Routes) registerMFA(api huma.API) {
	huma.Register(api, r.auth.ProtectSession(api, huma.Operation{
		OperationID: "get-mfa", Method: http.MethodGet, Path: MFAPath, Tags: []string{tag},
		Summary: "Your two-factor status",
	}), r.mfaStatus)
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "start-mfa-enrolment", Method: http.MethodPost, Path: MFAPath + "/enrolment", Tags: []string{tag},
		Summary: "Start a TOTP enrolment: a new secret, its otpauth URI and QR code",
		Description: "The factor stays pending (sign-in ignores it) until `POST " + MFAPath + "/enrolment/confirm` " +
			"receives a valid code from it; starting again replaces a pending one. The secret is stored sealed with " +
			"`JWT_KEY_ENCRYPTION_KEY` and shown only in this answer.",
	}), authn.ErrReauthenticate, authsvc.ErrMFAEnabled)), r.startEnrolment)
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "confirm-mfa-enrolment", Method: http.MethodPost, Path: MFAPath + "/enrolment/confirm", Tags: []string{tag},
		Summary: "Confirm the enrolment with a code; returns ten recovery codes, shown once",
		Description: "From now on every password sign-in needs a code (the `mfa_required` answer of the token endpoint). " +
			"Every credential that did not pass the second factor ends: your API keys are revoked and your other " +
			"sessions signed out; this session is kept and its refreshed tokens carry `amr` `[\"pwd\",\"otp\"]`. " +
			"Failed codes are throttled per account (`AUTH_MFA_THROTTLE_LIMIT`).",
	}, authsvc.ErrMFACode.On("code"), authsvc.ErrMFANoPending, authsvc.ErrMFAEnabled, authsvc.ErrThrottled)), r.confirmEnrolment)
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "disable-mfa", Method: http.MethodPost, Path: MFAPath + "/disable", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "Disable two-factor authentication (password and a code)",
		Description:   "A wrong password and a wrong code get the same answer; failures are throttled per account.",
	}), authn.ErrReauthenticate, authsvc.ErrMFACode.On("code"), authsvc.ErrMFANotEnabled, authsvc.ErrThrottled)), r.disableMFA)
}

func (r *Routes) mfaStatus(ctx context.Context, _ *struct{}) (*mfaStatusOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	st, err := r.mfa.Status(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return &mfaStatusOut{Body: authschema.MFAStatus{
		Enabled: st.Enabled, EnabledAt: st.EnabledAt, Pending: st.Pending, RecoveryCodesLeft: st.RecoveryCodesLeft,
	}}, nil
}

func (r *Routes) startEnrolment(ctx context.Context, _ *struct{}) (*enrolmentOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	e, err := r.mfa.Enrol(ctx, p.Account)
	if err != nil {
		return nil, err
	}
	return &enrolmentOut{CacheControl: "no-store", Body: authschema.MFAEnrolment{
		Secret: e.Secret, OTPAuthURI: e.URI, QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG),
	}}, nil
}

func (r *Routes) confirmEnrolment(ctx context.Context, in *struct{ Body authschema.MFACode }) (*recoveryOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := r.mfa.Confirm(ctx, p.UserID, p.SessionID, in.Body.Code)
	if err != nil {
		return nil, codeError(err)
	}
	return &recoveryOut{CacheControl: "no-store", Body: authschema.MFARecoveryCodes{RecoveryCodes: codes}}, nil
}

func (r *Routes) disableMFA(ctx context.Context, in *struct{ Body authschema.MFADisable }) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.mfa.Disable(ctx, p.Account, in.Body.Password, in.Body.Code); err != nil {
		return nil, codeError(err)
	}
	return nil, nil
}

// codeError names the field of a wrong code; other errors pass as they are.
func codeError(err error) error {
	if errors.Is(err, authsvc.ErrMFACode) {
		return authsvc.ErrMFACode.On("code")
	}
	return err
}
