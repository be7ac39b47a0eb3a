package authsvc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/seal"
	"github.com/acme/monolith/platform/throttle"
)

// Authentication methods (RFC 8176) a session records.
const (
	AMRPassword = "pwd"
	// AMROTP is a TOTP code (RFC 6238, an RFC 8176 "otp").
	AMROTP = "otp"
	// AMRMFA is RFC 8176's "multiple-factor authentication": a recovery
	// code, which is a single-use lookup secret, not an RFC 4226/6238
	// one-time password, so it is not called "otp".
	AMRMFA = "mfa"
)

// AMR values of the sign-ins the token endpoint completes.
var (
	amrPassword = []string{AMRPassword}
	amrTOTP     = []string{AMRPassword, AMROTP}
	amrRecovery = []string{AMRPassword, AMRMFA}
)

// SecondFactor reports whether amr records a second factor.
func SecondFactor(amr []string) bool {
	return slices.Contains(amr, AMROTP) || slices.Contains(amr, AMRMFA)
}

// Factor is an account's TOTP factor as stored: the secret sealed.
type Factor struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	Sealed      []byte
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	LastStep    int64
}

// Challenge is a stored mfa_token: its account and client.
type Challenge struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	ClientID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MFAStore persists second factors, recovery codes and mfa_tokens.
// Lookups that find nothing return ErrNoSession.
type MFAStore interface {
	Factor(ctx context.Context, userID uuid.UUID) (Factor, error)
	// PutPendingFactor stores f in place of userID's unconfirmed factor;
	// ErrMFAEnabled if a confirmed one exists.
	PutPendingFactor(ctx context.Context, f Factor) error
	// ConfirmFactor confirms userID's pending factor at step (unless it
	// was confirmed meanwhile or step is not after its last one) and
	// replaces the recovery codes with codeHashes; false if it did not.
	ConfirmFactor(ctx context.Context, userID uuid.UUID, step int64, codeHashes []string, now time.Time) (bool, error)
	// AcceptStep records step as userID's last accepted code unless it
	// is not after the last one (a replay); false then.
	AcceptStep(ctx context.Context, userID uuid.UUID, step int64) (bool, error)
	// UseRecoveryCode marks userID's unused code with this hash used;
	// false if there is none.
	UseRecoveryCode(ctx context.Context, userID uuid.UUID, codeHash string, now time.Time) (bool, error)
	RecoveryCodesLeft(ctx context.Context, userID uuid.UUID) (int, error)
	// DeleteFactor removes userID's factor, recovery codes and mfa_tokens.
	DeleteFactor(ctx context.Context, userID uuid.UUID) error
	CreateChallenge(ctx context.Context, c Challenge, tokenHash string) error
	Challenge(ctx context.Context, tokenHash string) (Challenge, error)
	// ConsumeChallenge deletes the challenge if it is unexpired at now;
	// false if it was used or expired already.
	ConsumeChallenge(ctx context.Context, id uuid.UUID, now time.Time) (bool, error)
	// SecureAccount, on enrolment: revokes userID's API keys and every
	// session but keep, and records amr on keep.
	SecureAccount(ctx context.Context, userID, keep uuid.UUID, amr []string, now time.Time) error
}

// Errors of two-factor authentication.
var (
	ErrMFAEnabled    = fault.New(fault.Conflict, "mfa_already_enabled", "Two-factor authentication is already enabled; disable it first to enrol a new authenticator.")
	ErrMFANotEnabled = fault.New(fault.Conflict, "mfa_not_enabled", "Two-factor authentication is not enabled.")
	ErrMFANoPending  = fault.New(fault.Conflict, "mfa_enrollment_not_started", "Start an enrolment first.")
	// ErrMFACode is a wrong, replayed or expired code (or password, on
	// disabling): which one is not said.
	ErrMFACode = fault.New(fault.Invalid, "invalid_mfa_code", "The code (or password) is incorrect.")
	// ErrMFAGrant is any failure of an MFA grant: unknown, expired, used
	// or foreign mfa_token, wrong or replayed code all read the same.
	// Not declared (fault.New): the catalogue lists invalid_grant once, as
	// the refresh grant's; this is the same OAuth2 code.
	ErrMFAGrant = &fault.Error{Kind: fault.Refused, Code: "invalid_grant", Message: "The mfa_token or the code is invalid or expired."}
	// ErrMFAEnrolmentRequired refuses the sign-in of an administrator
	// without a second factor when AUTH_MFA_REQUIRED_FOR_ADMINS is on.
	ErrMFAEnrolmentRequired = fault.New(fault.Forbidden, "mfa_enrollment_required",
		"Administrators must use two-factor authentication: enrol while you do not hold the admin role (another administrator can take it away and give it back), then sign in with your code.")
)

// MFARequired is the password grant's answer for an account with a
// second factor: the password was right, and Token, the mfa_token,
// continues the sign-in at the MFA grants.
type MFARequired struct {
	Token     string
	ExpiresIn time.Duration
}

func (e *MFARequired) Error() string { return "mfa_required" }

// MFAOptions configure two-factor authentication.
type MFAOptions struct {
	// Issuer names the service in authenticator apps (otpauth issuer).
	Issuer string
	// ChallengeTTL is the mfa_token's lifetime.
	ChallengeTTL time.Duration
	// AccountRule counts failed codes per account, DailyRule too over a
	// longer window (so a patient guesser gets few tries a day), IPRule
	// failed mfa_tokens per address.
	AccountRule, DailyRule, IPRule throttle.Rule
	// RequireForAdmins refuses a password sign-in of an account holding
	// the admin role that has no second factor.
	RequireForAdmins bool
	Audit            audit.Recorder
	Tx               Transactor
}

// MFA runs enrolment, verification and the MFA grants.
type MFA struct {
	store    MFAStore
	accounts authn.Accounts
	limiter  Limiter
	sealer   seal.Box
	opts     MFAOptions
	now      func() time.Time
	// dummy is a sealed secret verified when there is none, so a wrong
	// mfa_token costs what a wrong code costs.
	dummy []byte
}

// NewMFA returns the two-factor service; kek seals the TOTP secrets.
func NewMFA(store MFAStore, accounts authn.Accounts, limiter Limiter, kek []byte, opts MFAOptions) (*MFA, error) {
	sl, err := seal.New(kek)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	opts.Audit, opts.Tx = recorder(opts.Audit), transactor(opts.Tx)
	m := &MFA{store: store, accounts: accounts, limiter: limiter, sealer: sl, opts: opts, now: time.Now}
	m.dummy = m.seal(uuid.Nil, newSecret())
	return m, nil
}

// SetClock makes m read the time from now (tests).
func (m *MFA) SetClock(now func() time.Time) { m.now = now }

// TOTP parameters: what every authenticator app supports (RFC 6238's
// defaults); the window is one step either side, for clock drift.
const (
	totpPeriod  = 30
	totpDigits  = otp.DigitsSix
	secretBytes = 20 // 160 bits, RFC 4226 §4's recommendation
)

// Actions of two-factor authentication the auth module records.
const (
	ActionMFAEnabled  = "auth.mfa.enabled"
	ActionMFADisabled = "auth.mfa.disabled"
	ActionMFARecovery = "auth.mfa.recovery_code_used"
)

func newSecret() []byte {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return b
}

// seal encrypts a TOTP secret, bound to its account.
func (m *MFA) seal(userID uuid.UUID, secret []byte) []byte {
	return m.sealer.Seal(secret, []byte("mfa-totp:"+userID.String()))
}

func (m *MFA) open(userID uuid.UUID, sealed []byte) ([]byte, error) {
	return m.sealer.Open(sealed, []byte("mfa-totp:"+userID.String()))
}

// Status is whether an account has a second factor.
type Status struct {
	Enabled           bool
	EnabledAt         *time.Time
	Pending           bool
	RecoveryCodesLeft int
}

// Status reports userID's two-factor state.
func (m *MFA) Status(ctx context.Context, userID uuid.UUID) (Status, error) {
	f, err := m.store.Factor(ctx, userID)
	if errors.Is(err, ErrNoSession) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("mfa status: %w", err)
	}
	if f.ConfirmedAt == nil {
		return Status{Pending: true}, nil
	}
	n, err := m.store.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return Status{}, fmt.Errorf("mfa status: %w", err)
	}
	return Status{Enabled: true, EnabledAt: f.ConfirmedAt, RecoveryCodesLeft: n}, nil
}

// Enrolment is a new, unconfirmed factor: what the authenticator app needs.
type Enrolment struct {
	Secret string // base32, for typing in
	URI    string // otpauth://totp/...
	QRPNG  []byte
}

// Enrol starts (or restarts) an enrolment for the account: a new secret,
// pending until Confirm sees a valid code from it.
func (m *MFA) Enrol(ctx context.Context, a authn.Account) (Enrolment, error) {
	secret := newSecret()
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: m.opts.Issuer, AccountName: a.Email, Period: totpPeriod, Digits: totpDigits,
		Algorithm: otp.AlgorithmSHA1, Secret: secret,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("enrol: %w", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return Enrolment{}, fmt.Errorf("enrol: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("enrol: QR code: %w", err)
	}
	now := m.now().UTC().Truncate(time.Microsecond)
	f := Factor{ID: uuid.New(), UserID: a.UserID, Sealed: m.seal(a.UserID, secret), CreatedAt: now}
	if err := m.store.PutPendingFactor(ctx, f); err != nil {
		if errors.Is(err, ErrMFAEnabled) {
			return Enrolment{}, ErrMFAEnabled
		}
		return Enrolment{}, fmt.Errorf("enrol: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URI: key.URL(), QRPNG: buf.Bytes()}, nil
}

// recoveryCodes is how many recovery codes an enrolment gives.
const recoveryCodes = 10

// Confirm completes the enrolment of the caller's pending factor with a
// code from it, and returns the recovery codes, shown this once. Every
// credential that did not pass the second factor ends with it: the
// account's API keys and its other sessions; the caller's session (sid)
// has just shown a code and is recorded as such.
func (m *MFA) Confirm(ctx context.Context, userID, sessionID uuid.UUID, code string) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := m.reserve(ctx, userID, func(ctx context.Context) error {
		f, err := m.store.Factor(ctx, userID)
		if errors.Is(err, ErrNoSession) {
			return ErrMFANoPending
		}
		if err != nil {
			return err
		}
		if f.ConfirmedAt != nil {
			return ErrMFAEnabled
		}
		step, ok := m.match(userID, f, code)
		if !ok {
			return ErrMFACode
		}
		now := m.now().UTC().Truncate(time.Microsecond)
		return m.opts.Tx.InTx(ctx, func(ctx context.Context) error {
			ok, err := m.store.ConfirmFactor(ctx, userID, step, hashes, now)
			if err != nil {
				return err
			}
			if !ok {
				return ErrMFACode
			}
			if err := m.store.SecureAccount(ctx, userID, sessionID, amrTOTP, now); err != nil {
				return err
			}
			return m.opts.Audit.Record(ctx, audit.Entry{Actor: actor(ctx), Action: ActionMFAEnabled,
				Target: audit.Target{Type: targetUser, ID: userID.String()}})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	return codes, nil
}

// Disable removes the account's second factor; it needs the password
// and a current code (or a recovery code). A wrong password uses up no
// code, and is told apart from a wrong code by neither answer nor work.
func (m *MFA) Disable(ctx context.Context, a authn.Account, password, code string) error {
	err := m.reserve(ctx, a.UserID, func(ctx context.Context) error {
		_, perr := m.accounts.Authenticate(ctx, a.Email, password)
		if perr != nil && !errors.Is(perr, authn.ErrInvalidCredentials) {
			return perr
		}
		f, err := m.store.Factor(ctx, a.UserID)
		if errors.Is(err, ErrNoSession) || (err == nil && f.ConfirmedAt == nil) {
			return ErrMFANotEnabled
		}
		if err != nil {
			return err
		}
		return m.opts.Tx.InTx(ctx, func(ctx context.Context) error {
			ok, err := m.checkCode(ctx, a.UserID, f, code, perr == nil)
			if err != nil {
				return err
			}
			if !ok || perr != nil {
				return ErrMFACode
			}
			if err := m.store.DeleteFactor(ctx, a.UserID); err != nil {
				return err
			}
			return m.opts.Audit.Record(ctx, audit.Entry{Actor: actor(ctx), Action: ActionMFADisabled,
				Target: audit.Target{Type: targetUser, ID: a.UserID.String()}})
		})
	})
	if err != nil {
		return fmt.Errorf("disable mfa: %w", err)
	}
	return nil
}

// Reset removes userID's second factor without a code: an operator's
// recovery for an owner who lost the authenticator and the recovery codes.
func (m *MFA) Reset(ctx context.Context, userID uuid.UUID) error {
	err := m.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := m.store.DeleteFactor(ctx, userID); err != nil {
			return err
		}
		return m.opts.Audit.Record(ctx, audit.Entry{Actor: actor(ctx), Action: ActionMFADisabled,
			Target: audit.Target{Type: targetUser, ID: userID.String()}, Payload: audit.Payload{"reason": "operator_reset"}})
	})
	if err != nil {
		return fmt.Errorf("reset mfa: %w", err)
	}
	return nil
}

// checkCode accepts a TOTP code (recording its step) or, when code is no
// TOTP code, a recovery code (using it up).
// Unless use is set, it only looks: a code of that kind is not used up,
// though the same queries run.
func (m *MFA) checkCode(ctx context.Context, userID uuid.UUID, f Factor, code string, use bool) (bool, error) {
	owner := userID
	if !use {
		owner = uuid.Nil
	}
	if len(code) == totpDigits.Length() {
		step, ok := m.match(userID, f, code)
		accepted, err := m.store.AcceptStep(ctx, owner, max(step, 0))
		return ok && accepted, err
	}
	return m.useRecovery(ctx, owner, code)
}

func (m *MFA) useRecovery(ctx context.Context, userID uuid.UUID, code string) (bool, error) {
	h, ok := recoveryHash(code)
	if !ok {
		return false, nil
	}
	used, err := m.store.UseRecoveryCode(ctx, userID, h, m.now().UTC().Truncate(time.Microsecond))
	if err != nil || !used {
		return false, err
	}
	e := audit.Entry{Actor: audit.User(userID.String()), Action: ActionMFARecovery, Target: audit.Target{Type: targetUser, ID: userID.String()}}
	return true, m.opts.Audit.Record(ctx, e)
}

// match finds the time step (now, or one either side) whose code is code,
// after the last step accepted. It compares in constant time and always
// computes all three codes.
func (m *MFA) match(userID uuid.UUID, f Factor, code string) (int64, bool) {
	secret, openErr := m.open(userID, f.Sealed)
	if openErr != nil {
		secret = make([]byte, secretBytes)
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	cur := m.now().Unix() / totpPeriod
	var found int64 = -1
	for d := int64(-1); d <= 1; d++ {
		step := cur + d
		if step < 0 {
			continue // a clock before 1970
		}
		counter := uint64(step)
		want, err := hotp.GenerateCodeCustom(enc, counter, hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > f.LastStep && found < 0 {
			found = step
		}
	}
	return found, found >= 0 && openErr == nil
}

// reserve runs check as one throttled attempt against userID: a failure
// (ErrMFACode) stays counted, anything else gives the attempt back.
func (m *MFA) reserve(ctx context.Context, userID uuid.UUID, check func(ctx context.Context) error) error {
	res, err := m.limiter.Reserve(ctx, m.accountKeys(mfaSubject(userID))...)
	if err != nil {
		return err
	}
	err = check(ctx)
	if !errors.Is(err, ErrMFACode) {
		_ = res.Release(ctx)
	}
	return err
}

// accountKeys are the counters of failed codes for s; a rule without a
// limit (tests of the service alone) is left out.
func (m *MFA) accountKeys(s throttle.Subject) []throttle.Key {
	var keys []throttle.Key
	for _, r := range []throttle.Rule{m.opts.AccountRule, m.opts.DailyRule} {
		if r.Limit > 0 {
			keys = append(keys, r.Key(s))
		}
	}
	return keys
}

// mfaSubject is an account's counter of second-factor attempts (by id:
// the mfa_token names no email).
func mfaSubject(userID uuid.UUID) throttle.Subject { return throttle.Account("mfa:" + userID.String()) }

// challengeFor is what a right password for a leads to: nil when it needs
// no second factor, else a new mfa_token (or, for an administrator without
// one while they are required, ErrMFAEnrolmentRequired).
func (m *MFA) challengeFor(ctx context.Context, a authn.Account, clientID string) (*MFARequired, error) {
	f, err := m.store.Factor(ctx, a.UserID)
	enrolled := err == nil && f.ConfirmedAt != nil
	if err != nil && !errors.Is(err, ErrNoSession) {
		return nil, fmt.Errorf("mfa challenge: %w", err)
	}
	if !enrolled {
		if m.opts.RequireForAdmins && isAdmin(a) {
			return nil, ErrMFAEnrolmentRequired
		}
		return nil, nil
	}
	raw := "mfa_" + newOpaqueToken()
	now := m.now().UTC().Truncate(time.Microsecond)
	c := Challenge{ID: uuid.New(), UserID: a.UserID, ClientID: clientID, CreatedAt: now, ExpiresAt: now.Add(m.opts.ChallengeTTL)}
	if err := m.store.CreateChallenge(ctx, c, hashToken(raw)); err != nil {
		return nil, fmt.Errorf("mfa challenge: %w", err)
	}
	return &MFARequired{Token: raw, ExpiresIn: m.opts.ChallengeTTL}, nil
}

// adminRole is the users module's built-in role holding every permission.
const adminRole = "admin"

func isAdmin(a authn.Account) bool {
	return slices.ContainsFunc(a.Roles, func(r authn.RoleRef) bool { return r.Name == adminRole })
}

// mfaTokenLen is "mfa_" and an opaque token.
const mfaTokenLen = 4 + opaqueLen

// redeem checks an MFA grant: the mfa_token, issued to client, and a TOTP
// code (recovery false) or a recovery code. It returns the account and
// the amr of the sign-in; the token is used up. Every failure is
// ErrMFAGrant, after the same work (one challenge lookup, one counter
// reservation, one factor lookup, the code check), whichever part failed.
func (m *MFA) redeem(ctx context.Context, token, code string, recovery bool, client, ip string) (uuid.UUID, []string, error) {
	h := hashToken(token)
	ch, err := m.store.Challenge(ctx, h)
	valid := err == nil
	if err != nil && !errors.Is(err, ErrNoSession) {
		return uuid.Nil, nil, fmt.Errorf("mfa grant: %w", err)
	}
	now := m.now().UTC()
	if len(token) != mfaTokenLen || (valid && (!now.Before(ch.ExpiresAt) || ch.ClientID != client)) {
		valid = false
	}
	subject := throttle.Account("mfa-token:" + h)
	if valid {
		subject = mfaSubject(ch.UserID)
	}
	res, err := m.limiter.Reserve(ctx, append([]throttle.Key{m.opts.IPRule.Key(throttle.Address(ip))}, m.accountKeys(subject)...)...)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("mfa grant: %w", err)
	}
	userID := ch.UserID
	if !valid {
		userID = uuid.Nil
	}
	f, err := m.store.Factor(ctx, userID)
	if err != nil && !errors.Is(err, ErrNoSession) {
		_ = res.Release(ctx)
		return uuid.Nil, nil, fmt.Errorf("mfa grant: %w", err)
	}
	if err != nil || f.ConfirmedAt == nil {
		valid, f = false, Factor{Sealed: m.dummy}
	}
	amr := amrTOTP
	var ok bool
	err = m.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if recovery {
			amr = amrRecovery
			h, _ := recoveryHash(code)
			if !valid {
				_, err := m.store.UseRecoveryCode(ctx, uuid.Nil, h, now)
				return err
			}
			var err error
			if ok, err = m.useRecovery(ctx, userID, code); err != nil || !ok {
				return err
			}
		} else {
			step, matched := m.match(userID, f, code)
			if !valid || !matched {
				return nil
			}
			var err error
			if ok, err = m.store.AcceptStep(ctx, userID, step); err != nil || !ok {
				return err
			}
		}
		consumed, err := m.store.ConsumeChallenge(ctx, ch.ID, now)
		if err != nil {
			return err
		}
		if !consumed {
			// Used meanwhile: undo the code's use with the transaction.
			ok = false
			return errMFARaced
		}
		return nil
	})
	if errors.Is(err, errMFARaced) {
		err = nil
	}
	if err != nil {
		_ = res.Release(ctx)
		return uuid.Nil, nil, fmt.Errorf("mfa grant: %w", err)
	}
	if !ok {
		return uuid.Nil, nil, ErrMFAGrant
	}
	if err := res.Release(ctx); err != nil {
		return uuid.Nil, nil, fmt.Errorf("mfa grant: %w", err)
	}
	return userID, amr, nil
}

var errMFARaced = errors.New("mfa_token used by a concurrent request")

// Recovery codes: 24 base32 characters (120 random bits, above the 112
// that let ASVS V6.5.2 store them with a plain hash), shown in four
// groups of six; typed back in any case, with or without dashes.
const recoveryChars = 24

var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newRecoveryCodes() (codes, hashes []string) {
	for range recoveryCodes {
		b := make([]byte, 15)
		_, _ = rand.Read(b)
		s := recoveryEncoding.EncodeToString(b)
		codes = append(codes, s[0:6]+"-"+s[6:12]+"-"+s[12:18]+"-"+s[18:24])
		h, _ := recoveryHash(s)
		hashes = append(hashes, h)
	}
	return codes, hashes
}

// recoveryHash is the stored form of a recovery code as typed; false if
// it cannot be one.
func recoveryHash(code string) (string, bool) {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	if len(c) != recoveryChars {
		return hashToken("invalid recovery code"), false
	}
	if _, err := recoveryEncoding.DecodeString(c); err != nil {
		return hashToken("invalid recovery code"), false
	}
	return hashToken("recovery:" + c), true
}
