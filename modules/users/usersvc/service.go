// Package usersvc is the users module's business logic: accounts, their
// passwords and who may change what. It knows nothing of HTTP or ent; the
// API, the CLI and the auth module (through authn.Accounts) all call it.
package usersvc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/textfield"
	"github.com/acme/monolith/platform/throttle"
)

// User is an account as the business layer sees it.
type User struct {
	ID           uuid.UUID
	Email        string
	FullName     string
	PasswordHash string
	IsActive     bool
	// Kind is authn.KindUser or authn.KindService.
	Kind string
	// EmailVerified: the holder proved they receive mail at Email, at
	// EmailVerifiedAt.
	EmailVerified   bool
	EmailVerifiedAt *time.Time
	// Roles are the account's roles, Permissions what they grant
	// together (the store fills both).
	Roles       []authn.RoleRef
	Permissions authz.Set
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IsAdmin reports whether u holds the admin role (every permission): what
// clients read as is_superuser.
func (u User) IsAdmin() bool { return u.Permissions.IsAll() }

// NewUser is the input to Create. Admin gives the account the admin role.
type NewUser struct {
	Email    string
	Password string
	FullName string
	IsActive bool
	Admin    bool
}

// ProfilePatch is a user's edit of their own account: the fields that are
// non-nil change. Changing the email needs CurrentPassword.
type ProfilePatch struct {
	Email           *string
	FullName        *string
	CurrentPassword *string
}

// Patch is an administrator's edit of an account: the fields that are
// non-nil change. Admin gives or takes the admin role.
type Patch struct {
	Email    *string
	FullName *string
	Password *string
	IsActive *bool
	Admin    *bool
}

// Change is what the store writes: a Patch with the password already hashed.
type Change struct {
	Email        *string
	FullName     *string
	PasswordHash *string
	IsActive     *bool
	Admin        *bool
	// VerifiedAt, if set, marks the address verified at that time.
	VerifiedAt *time.Time
	// IfPasswordHash, if set, makes the write conditional: it applies
	// only while the stored hash is still this one (ErrNotFound if not).
	IfPasswordHash *string
}

// RemovesAdmin reports whether c could take an account out of the active
// admins (the store then guards the last one).
func (c Change) RemovesAdmin() bool {
	return (c.IsActive != nil && !*c.IsActive) || (c.Admin != nil && !*c.Admin)
}

// Storer persists users and roles. The store translates driver errors
// into ErrNotFound, ErrEmailTaken, ErrRoleNotFound and ErrRoleNameTaken.
// Update (when the change RemovesAdmin), Delete and UnassignRole (of the
// admin role) refuse with ErrLastSuperuser, in their own transaction, to
// take the last active admin away. Every User it returns carries its
// roles and their permissions.
type Storer interface {
	Create(ctx context.Context, u NewAccount) (User, error)
	ByID(ctx context.Context, id uuid.UUID) (User, error)
	// Account is ByID for the per-request lookup: as current as ByID
	// (a change committed before the call, on any replica, shows), but it
	// may answer from memory, and without the password hash.
	Account(ctx context.Context, id uuid.UUID) (User, error)
	ByEmail(ctx context.Context, email string) (User, error)
	List(ctx context.Context, r paging.Request) (paging.Result[User], error)
	Update(ctx context.Context, id uuid.UUID, c Change) (User, error)
	Delete(ctx context.Context, id uuid.UUID) error

	ListRoles(ctx context.Context, r paging.Request) (paging.Result[Role], error)
	RoleByID(ctx context.Context, id uuid.UUID) (Role, error)
	RoleByName(ctx context.Context, name string) (Role, error)
	CreateRole(ctx context.Context, r Role) (Role, error)
	UpdateRole(ctx context.Context, id uuid.UUID, c RoleChange) (Role, error)
	// ChangeRolePermissions removes then adds permissions of a role that
	// is not built in, against its current ones, in one step: two
	// concurrent changes both apply.
	ChangeRolePermissions(ctx context.Context, id uuid.UUID, add, remove []string) (Role, error)
	DeleteRole(ctx context.Context, id uuid.UUID) error
	AssignRole(ctx context.Context, userID, roleID uuid.UUID) (User, error)
	UnassignRole(ctx context.Context, userID, roleID uuid.UUID) (User, error)
}

// NewAccount is what the store inserts: a checked NewUser with its id and
// password hash.
type NewAccount struct {
	ID           uuid.UUID
	Email        string
	FullName     string
	PasswordHash string
	IsActive     bool
	Admin        bool
	// Service makes a service account.
	Service bool
	// VerifiedAt, if set, creates the account with its address verified.
	VerifiedAt *time.Time
}

// Hasher hashes and verifies passwords.
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, encoded, pw string) (bool, error)
	VerifyDummy(ctx context.Context, pw string) error
	NeedsRehash(encoded string) bool
}

// Errors of the users domain.
var (
	ErrNotFound          = fault.New(fault.NotFound, "user_not_found", "User not found.")
	ErrEmailTaken        = fault.New(fault.Conflict, "email_taken", "A user with this email already exists.")
	ErrIncorrectPassword = fault.New(fault.Invalid, "incorrect_password", "the current password is incorrect")
	ErrSamePassword      = fault.New(fault.Invalid, "password_unchanged", "the new password must differ from the current one")
	ErrSignupDisabled    = fault.New(fault.Forbidden, "signup_disabled", "Open registration is disabled.")
	ErrDeleteSelf        = fault.New(fault.Forbidden, "cannot_delete_self", "You cannot delete your own account here.")
	ErrDemoteSelf        = fault.New(fault.Forbidden, "cannot_demote_self", "You cannot deactivate yourself or drop your own admin role.")
	// ErrInvalidEmail is authn.NormalizeEmail's refusal.
	ErrInvalidEmail = authn.ErrInvalidEmail

	// ErrSelfService keeps the admin route from bypassing the current
	// password: one's own credentials change only where it is asked for.
	ErrSelfService = fault.New(fault.Forbidden, "self_service_required",
		"Change your own email with PATCH /api/users/me and your password with POST /api/users/me/password; both ask for your current password.")
	// ErrLastSuperuser keeps the platform administrable: the store refuses,
	// inside the change's transaction, what would leave no active admin
	// (the code keeps its name from when admins were superusers: clients
	// switch on it).
	ErrLastSuperuser = fault.New(fault.Conflict, "last_superuser",
		"At least one active admin must remain: give another active account the admin role first.")
	// ErrCurrentPasswordRequired is an email change without re-authentication.
	ErrCurrentPasswordRequired = fault.New(fault.Invalid, "required", "is required with email")
)

// MaxFullName is the longest full name, in characters.
const MaxFullName = 255

// Limiter reserves attempts before the work they guard; the platform's
// throttle.Limiter satisfies it.
type Limiter interface {
	Reserve(ctx context.Context, keys ...throttle.Key) (*throttle.Reservation, error)
}

// Service holds the users' business rules.
type Service struct {
	store         Storer
	hasher        Hasher
	log           *zap.Logger
	signupEnabled bool
	revoker       authn.Revoker
	events        Publisher
	now           func() time.Time
	limiter       Limiter
	registerRule  throttle.Rule
	perms         *authz.Catalogue
	audit         audit.Recorder
	tx            Transactor
	verification  Verification
	links         authn.EmailLinks
}

// Verification is how the service treats email addresses.
type Verification string

// The EMAIL_VERIFICATION modes.
const (
	// VerificationOff: addresses are taken on trust; registration answers
	// with the new account and an email change applies at once.
	VerificationOff Verification = "off"
	// VerificationOptional: registration mails a verification link and
	// answers alike for a new and a taken address; an email change
	// applies when the new address confirms it. Unverified accounts may
	// sign in.
	VerificationOptional Verification = "optional"
	// VerificationRequired: as optional, and an unverified account's
	// correct password is answered authn.ErrEmailUnverified.
	VerificationRequired Verification = "required"
)

// Options are the service's settings.
type Options struct {
	// Permissions are every module's; roles grant only these.
	Permissions   *authz.Catalogue
	SignupEnabled bool
	// Revoker, if set, is told when a user's sessions or reset tokens must
	// end; without it (the users module alone) there are none.
	Revoker authn.Revoker
	// Events, if set, publishes the account events (authn.Account*) in
	// the transaction of each change; the notice mails subscribe to them.
	Events Publisher
	// Limiter, if set, counts registrations per client address by
	// RegisterRule.
	Limiter      Limiter
	RegisterRule throttle.Rule
	// Audit, if set, records the security-relevant changes; Tx then makes
	// each change and its entry one transaction.
	Audit audit.Recorder
	Tx    Transactor
	// Verification is the EMAIL_VERIFICATION mode; anything but off needs
	// Links, which mails the links (without it, the mode is off).
	Verification Verification
	Links        authn.EmailLinks
}

// New returns the service.
func New(store Storer, hasher Hasher, log *zap.Logger, opts Options) *Service {
	s := &Service{
		store: store, hasher: hasher, log: log, signupEnabled: opts.SignupEnabled,
		revoker: opts.Revoker, events: opts.Events, now: time.Now,
		limiter: opts.Limiter, registerRule: opts.RegisterRule, perms: opts.Permissions,
		audit: opts.Audit, tx: opts.Tx, verification: opts.Verification, links: opts.Links,
	}
	if s.links == nil || s.verification == "" {
		s.verification = VerificationOff
	}
	if s.audit == nil {
		s.audit = audit.Discard{}
	}
	if s.tx == nil {
		s.tx = direct{}
	}
	if s.events == nil {
		s.events = discard{}
	}
	return s
}

// endSessions cuts off every token of a user whose password changed or
// whose account was deactivated or deleted.
func (s *Service) endSessions(ctx context.Context, id uuid.UUID) error {
	if s.revoker == nil {
		return nil
	}
	return s.revoker.RevokeUserSessions(ctx, id)
}

// endResets voids the reset tokens of a user whose password or email
// changed or whose account was deactivated or deleted: a token mailed
// before must not undo the change (or reach an address that is no longer
// the account's).
func (s *Service) endResets(ctx context.Context, id uuid.UUID) error {
	if s.revoker == nil {
		return nil
	}
	return s.revoker.RevokePasswordResets(ctx, id)
}

// Register creates an ordinary, active account (open signup) for a client
// at clientIP. Every request counts against the address's allowance,
// reserved before any work: each one may answer email_taken, which tells
// whether an email has an account, and each costs a password hash.
//
// With verification on, the answer is the same for a new address and a
// taken one (ASVS 5.0 V6.3.8): Pending, no account. Both paths hash the
// password and hand one mail to the sender inside a transaction: the new
// address gets its verification link, the holder of a taken one a mail
// saying someone tried.
func (s *Service) Register(ctx context.Context, email, pw, fullName, clientIP string) (Registration, error) {
	if !s.signupEnabled {
		return Registration{}, ErrSignupDisabled
	}
	if s.limiter != nil {
		if _, err := s.limiter.Reserve(ctx, s.registerRule.Key(throttle.Address(clientIP))); err != nil {
			return Registration{}, fmt.Errorf("register: %w", err)
		}
	}
	nu := NewUser{Email: email, Password: pw, FullName: fullName, IsActive: true}
	if s.verification == VerificationOff {
		u, err := s.create(ctx, ActionUserRegistered, nu)
		return Registration{User: u}, err
	}
	_, err := s.create(ctx, ActionUserRegistered, nu)
	if errors.Is(err, ErrEmailTaken) {
		err = s.registeredAgain(ctx, nu.Email)
	}
	if err != nil {
		return Registration{}, err
	}
	return Registration{Pending: true}, nil
}

// Registration is the outcome of Register: the new account, or, with
// verification on, only that a mail is on its way (Pending).
type Registration struct {
	User    User
	Pending bool
}

// registeredAgain tells the holder of a taken address that someone tried
// to register it. The holder may have moved to another address since the
// insert failed (then there is nobody to tell).
func (s *Service) registeredAgain(ctx context.Context, email string) error {
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		u, err := s.byEmail(ctx, email)
		if err != nil {
			return err
		}
		if u.Kind == authn.KindService {
			return nil // nobody reads a service account's mail
		}
		return s.links.SendRegistrationAttempt(ctx, account(u))
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}

// Create is an administrator's creation of an account; only an admin may
// create another admin.
func (s *Service) Create(ctx context.Context, by Caller, nu NewUser) (User, error) {
	if nu.Admin && !by.Permissions.IsAll() {
		return User{}, notHeld("")
	}
	return s.create(ctx, ActionUserCreated, nu)
}

func (s *Service) create(ctx context.Context, action string, nu NewUser) (User, error) {
	email, err := authn.NormalizeEmail(nu.Email)
	var errs fault.Multi
	if err != nil {
		errs = append(errs, ErrInvalidEmail.On("email"))
	}
	if err := password.Check("password", nu.Password); err != nil {
		errs = append(errs, err)
	}
	if err := checkFullName(nu.FullName); err != nil {
		errs = append(errs, err)
	}
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	na := NewAccount{
		ID: uuid.New(), Email: email, FullName: nu.FullName, PasswordHash: hash,
		IsActive: nu.IsActive, Admin: nu.Admin,
	}
	// A signup's address is unverified until its link is opened (with
	// verification off no link is sent: it stays unverified, and can ask
	// for one later); an administrator (or the operator, for the first
	// superuser) vouches for the address they type.
	signup := action == ActionUserRegistered
	if !signup {
		at := s.now().UTC().Truncate(time.Microsecond)
		na.VerifiedAt = &at
	}
	var u User
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		u, err = s.store.Create(ctx, na)
		if err != nil {
			return err
		}
		if signup && s.verification != VerificationOff {
			if err := s.links.SendVerification(ctx, account(u)); err != nil {
				return err
			}
		}
		e := audit.Entry{
			Actor: actor(ctx), Action: action, Target: audit.Target{Type: targetUser, ID: u.ID.String()},
			Payload: audit.Payload{"admin": strconv.FormatBool(nu.Admin), "active": strconv.FormatBool(nu.IsActive)},
		}
		by := changedBy(ctx)
		if action == ActionUserRegistered {
			e.Actor = audit.User(u.ID.String()) // who signed up is the new account
			by = authn.BySelf
		}
		if err := s.audit.Record(ctx, e); err != nil {
			return err
		}
		return s.publish(ctx, authn.AccountCreated{UserID: u.ID, Email: u.Email, Kind: u.Kind, Active: u.IsActive, By: by, At: s.now()})
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// CreateServiceAccount creates an active service account: no password
// (its stored hash matches none, and Authenticate refuses the kind
// before looking), no roles until given some, API keys only.
func (s *Service) CreateServiceAccount(ctx context.Context, email, fullName string) (User, error) {
	norm, err := authn.NormalizeEmail(email)
	var errs fault.Multi
	if err != nil {
		errs = append(errs, ErrInvalidEmail.On("email"))
	}
	if err := checkFullName(fullName); err != nil {
		errs = append(errs, err)
	}
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	var u User
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		u, err = s.store.Create(ctx, NewAccount{
			ID: uuid.New(), Email: norm, FullName: fullName, PasswordHash: noPassword, IsActive: true, Service: true,
			VerifiedAt: new(s.now().UTC().Truncate(time.Microsecond)),
		})
		if err != nil {
			return err
		}
		return s.publish(ctx, authn.AccountCreated{UserID: u.ID, Email: u.Email, Kind: u.Kind, Active: u.IsActive, By: changedBy(ctx), At: s.now()})
	})
	if err != nil {
		return User{}, fmt.Errorf("create service account: %w", err)
	}
	return u, nil
}

// noPassword is a service account's stored hash: not of the form any
// hash has, so no password verifies against it.
const noPassword = "!service-account"

// CreateSuperuser creates an active account holding the admin role (the
// CLI and the first-start bootstrap use it).
func (s *Service) CreateSuperuser(ctx context.Context, email, pw, fullName string) (User, error) {
	return s.create(ctx, ActionUserCreated, NewUser{Email: email, Password: pw, FullName: fullName, IsActive: true, Admin: true})
}

// EnsureSuperuser creates the superuser unless an account with that email
// exists (its password is then left alone). It reports whether it created.
func (s *Service) EnsureSuperuser(ctx context.Context, email, pw string) (bool, error) {
	norm, err := authn.NormalizeEmail(email)
	if err != nil {
		return false, fmt.Errorf("FIRST_SUPERUSER_EMAIL: %w", err)
	}
	if _, err := s.store.ByEmail(ctx, norm); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("look up first superuser: %w", err)
	}
	if _, err := s.CreateSuperuser(ctx, norm, pw, ""); err != nil {
		if errors.Is(err, ErrEmailTaken) { // another replica won the race
			return false, nil
		}
		return false, fmt.Errorf("create first superuser: %w", err)
	}
	return true, nil
}

// Get returns one user.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := s.store.ByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// Me returns the caller's own account as the resolver loaded it at the
// start of the request (authn.Principal): GET /api/users/me costs no
// query beyond the one that authenticated it.
func (s *Service) Me(p authn.Principal) User {
	a := p.Account
	return User{
		ID: a.UserID, Email: a.Email, FullName: a.FullName, IsActive: a.Active, Kind: a.Kind,
		EmailVerified: a.EmailVerified, EmailVerifiedAt: a.EmailVerifiedAt, Roles: a.Roles, Permissions: a.Permissions, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

// List returns a page of users in creation order.
func (s *Service) List(ctx context.Context, r paging.Request) (paging.Result[User], error) {
	l, err := s.store.List(ctx, r)
	if err != nil {
		return paging.Result[User]{}, fmt.Errorf("list users: %w", err)
	}
	return l, nil
}

// UpdateProfile lets users change their own email and full name. A new
// email needs the current password in the same request: with a bearer
// token alone, a stolen access token plus password recovery to the new
// address would take the account over for good (ASVS 5.0 V7.5.1). A
// current password that is sent is checked even when nothing needs it, so
// a wrong one is never silently ignored.
func (s *Service) UpdateProfile(ctx context.Context, id uuid.UUID, p ProfilePatch) (User, error) {
	c, errs := s.check(Patch{Email: p.Email, FullName: p.FullName})
	if p.Email != nil && (p.CurrentPassword == nil || *p.CurrentPassword == "") {
		errs = append(errs, ErrCurrentPasswordRequired.On("current_password"))
	}
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	var before User
	if p.CurrentPassword != nil {
		// A rename alone costs no read: this is the common write.
		var err error
		if before, err = s.store.ByID(ctx, id); err != nil {
			return User{}, fmt.Errorf("update profile: %w", err)
		}
		ok, err := s.hasher.Verify(ctx, before.PasswordHash, *p.CurrentPassword)
		if err != nil {
			return User{}, fmt.Errorf("update profile: %w", err)
		}
		if !ok {
			return User{}, ErrIncorrectPassword.On("current_password")
		}
	}
	if c.Email != nil && *c.Email != before.Email && s.verification != VerificationOff {
		// The address changes only when the new one confirms it; what
		// else the patch holds applies now.
		if err := s.requestEmailChange(ctx, before, *c.Email); err != nil {
			return User{}, fmt.Errorf("update profile: %w", err)
		}
		if c.FullName == nil {
			return before, nil
		}
		c.Email = nil
	}
	u, err := s.update(ctx, before, id, c, authn.BySelf, func(ctx context.Context, after User) error {
		if c.Email == nil || before.Email == after.Email {
			return nil // a new name is not a security event
		}
		return s.record(ctx, ActionEmailChanged, targetUser, id, nil)
	})
	if err != nil {
		return User{}, fmt.Errorf("update profile: %w", err)
	}
	return u, nil
}

// Update is an administrator's edit of any account. by may not lock
// itself out, nor change its own email or password here, where no current
// password is asked for; it must hold everything the account holds (or a
// holder of users:write could take over an admin by setting its
// password), and only an admin gives or takes the admin role.
func (s *Service) Update(ctx context.Context, by Caller, id uuid.UUID, p Patch) (User, error) {
	if by.ID == id && (p.Email != nil || p.Password != nil) {
		return User{}, ErrSelfService
	}
	if by.ID == id && ((p.IsActive != nil && !*p.IsActive) || (p.Admin != nil && !*p.Admin)) {
		return User{}, ErrDemoteSelf
	}
	c, errs := s.check(p)
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	if p.Admin != nil && !by.Permissions.IsAll() {
		return User{}, notHeld("")
	}
	before, err := s.store.ByID(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	if by.ID != id {
		if err := by.covers(before.Permissions); err != nil {
			return User{}, err
		}
	}
	if c.Email != nil && *c.Email != before.Email {
		// An administrator vouches for the address, as for the accounts
		// it creates.
		at := s.now().UTC().Truncate(time.Microsecond)
		c.VerifiedAt = &at
	}
	if p.Password != nil {
		hash, err := s.hasher.Hash(ctx, *p.Password)
		if err != nil {
			return User{}, fmt.Errorf("update user: %w", err)
		}
		c.PasswordHash = &hash
	}
	u, err := s.update(ctx, before, id, c, authn.ByAdmin, func(ctx context.Context, _ User) error {
		return s.record(ctx, ActionUserUpdated, targetUser, id, audit.Payload{"fields": changedFields(c)})
	})
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

// update writes c and, in the same transaction, what then records about
// the account as it is after the change and the account events the
// change makes (before is needed only when c changes the email).
func (s *Service) update(ctx context.Context, before User, id uuid.UUID, c Change, by authn.ChangedBy, then func(ctx context.Context, after User) error) (User, error) {
	if c.Email != nil && before.ID == id && *c.Email == before.Email {
		c.Email = nil // the same address again changes nothing (nor its verification)
	}
	var u User
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if u, err = s.store.Update(ctx, id, c); err != nil {
			return err
		}
		if err := then(ctx, u); err != nil {
			return err
		}
		if err := s.announce(ctx, before, u, c, by); err != nil {
			return err
		}
		// Cutting off sessions and reset tokens is no event: it commits
		// with the change or neither happens.
		return s.changed(ctx, before, u, c)
	})
	return u, err
}

// announce publishes what a change c of an account means to other
// modules: a new email, a new password, a deactivation.
func (s *Service) announce(ctx context.Context, before, after User, c Change, by authn.ChangedBy) error {
	at := s.now()
	if c.Email != nil && before.Email != after.Email {
		if err := s.publish(ctx, authn.AccountEmailChanged{UserID: after.ID, OldEmail: before.Email, Email: after.Email, By: by, At: at}); err != nil {
			return err
		}
	}
	if c.PasswordHash != nil {
		if err := s.publish(ctx, authn.AccountPasswordChanged{UserID: after.ID, Email: after.Email, By: by, At: at}); err != nil {
			return err
		}
	}
	if c.IsActive != nil && !*c.IsActive && before.IsActive {
		if err := s.publish(ctx, authn.AccountDeactivated{UserID: after.ID, Email: after.Email, By: by, At: at}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) publish(ctx context.Context, e events.Event) error {
	if err := s.events.Publish(ctx, e); err != nil {
		return fmt.Errorf("publish %s: %w", e.EventName(), err)
	}
	return nil
}

// check validates a patch and turns it into a change (the password not
// hashed yet), collecting every failing field.
func (s *Service) check(p Patch) (Change, fault.Multi) {
	var c Change
	var errs fault.Multi
	if p.Email != nil {
		email, err := authn.NormalizeEmail(*p.Email)
		if err != nil {
			errs = append(errs, ErrInvalidEmail.On("email"))
		}
		c.Email = &email
	}
	if p.FullName != nil {
		if err := checkFullName(*p.FullName); err != nil {
			errs = append(errs, err)
		}
		c.FullName = p.FullName
	}
	if p.Password != nil {
		if err := password.Check("password", *p.Password); err != nil {
			errs = append(errs, err)
		}
	}
	c.IsActive, c.Admin = p.IsActive, p.Admin
	return c, errs
}

// changed follows a committed change c of an account (before and after
// it) with what it implies for security, synchronously, before the
// request answers: a new password or a deactivation ends every session;
// those and a new email end outstanding reset tokens. before is needed
// only when c changes the email. A new email ends no session: it is not
// a secret a session was opened with, and the change itself needed the
// password (logout-all is there to end the others). Telling the holder
// is not done here: the notice mails subscribe to the account events.
func (s *Service) changed(ctx context.Context, before, after User, c Change) error {
	deactivated := c.IsActive != nil && !*c.IsActive
	if c.PasswordHash != nil || deactivated {
		if err := s.endSessions(ctx, after.ID); err != nil {
			return err
		}
	}
	if c.PasswordHash != nil || deactivated || (c.Email != nil && before.Email != after.Email) {
		if err := s.endResets(ctx, after.ID); err != nil {
			return err
		}
		// A pending email change asked for before must not move the
		// account once its password or address changed or it was
		// deactivated: whoever asked may be who was just locked out.
		if err := s.endEmailChange(ctx, after.ID); err != nil {
			return err
		}
	}
	return nil
}

// endEmailChange voids a pending email change (its confirmation link).
func (s *Service) endEmailChange(ctx context.Context, id uuid.UUID) error {
	if s.links == nil {
		return nil
	}
	return s.links.CancelEmailChange(ctx, id)
}

// ChangePassword replaces the caller's password after checking the current one.
func (s *Service) ChangePassword(ctx context.Context, id uuid.UUID, current, next string) error {
	if err := password.Check("new_password", next); err != nil {
		return err
	}
	u, err := s.store.ByID(ctx, id)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return ErrIncorrectPassword.On("current_password")
	}
	if current == next {
		return ErrSamePassword.On("new_password")
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	c := Change{PasswordHash: &hash}
	_, err = s.update(ctx, u, id, c, authn.BySelf, func(ctx context.Context, _ User) error {
		return s.record(ctx, ActionPasswordChanged, targetUser, id, nil)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// ResetPassword implements authn.Accounts: it sets a password without the
// current one (the auth module has verified a reset token) and ends every
// session of the account.
func (s *Service) ResetPassword(ctx context.Context, id uuid.UUID, pw string) error {
	if err := password.Check("new_password", pw); err != nil {
		return err
	}
	u, err := s.store.ByID(ctx, id)
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if u.Kind == authn.KindService {
		// A service account never gets a password.
		return fmt.Errorf("reset password: %w", ErrNotFound)
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	c := Change{PasswordHash: &hash}
	_, err = s.update(ctx, u, id, c, authn.ByReset, func(ctx context.Context, _ User) error {
		// The actor is whoever held the reset token mailed to the account.
		return s.audit.Record(ctx, audit.Entry{
			Actor: audit.User(id.String()), Action: ActionPasswordReset,
			Target: audit.Target{Type: targetUser, ID: id.String()},
		})
	})
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	return nil
}

// AccountByEmail implements authn.Accounts: an account by an email as
// typed, whether or not it may act.
func (s *Service) AccountByEmail(ctx context.Context, email string) (authn.Account, error) {
	u, err := s.byEmail(ctx, email)
	if err != nil {
		return authn.Account{}, fmt.Errorf("find account: %w", err)
	}
	return account(u), nil
}

// Delete removes an account; nobody removes their own here, and by must
// hold everything the account holds.
func (s *Service) Delete(ctx context.Context, by Caller, id uuid.UUID) error {
	if by.ID == id {
		return ErrDeleteSelf
	}
	target, err := s.store.ByID(ctx, id)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if err := by.covers(target.Permissions); err != nil {
		return err
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Delete(ctx, id); err != nil {
			return err
		}
		if err := s.record(ctx, ActionUserDeleted, targetUser, id, nil); err != nil {
			return err
		}
		if err := s.publish(ctx, authn.AccountDeleted{UserID: id, Email: target.Email, By: authn.ByAdmin, At: s.now()}); err != nil {
			return err
		}
		if err := s.endSessions(ctx, id); err != nil {
			return err
		}
		return s.endResets(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// Authenticate implements authn.Accounts. Unknown email and wrong
// password fail identically, after the same hashing work; whether the
// account may act is the caller's question (authn.Account.MayAct), asked
// after this, so an inactive account costs the same time too.
func (s *Service) Authenticate(ctx context.Context, email, pw string) (authn.Account, error) {
	u, err := s.byEmail(ctx, email)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			return authn.Account{}, fmt.Errorf("authenticate: %w", err)
		}
		// A refused or abandoned dummy check fails like a real one would:
		// otherwise a busy server would tell unknown emails apart.
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
			return authn.Account{}, fmt.Errorf("authenticate: %w", err)
		}
		return authn.Account{}, authn.ErrInvalidCredentials
	}
	if u.Kind == authn.KindService {
		// No password signs a service account in; it answers as an
		// unknown email does, after the same work.
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
			return authn.Account{}, fmt.Errorf("authenticate: %w", err)
		}
		return authn.Account{}, authn.ErrInvalidCredentials
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if err != nil {
		return authn.Account{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return authn.Account{}, authn.ErrInvalidCredentials
	}
	if s.verification == VerificationRequired && !u.EmailVerified && u.IsActive {
		// Said only to whoever typed the right password; an inactive
		// account answers as any failure does (the caller's MayAct).
		return authn.Account{}, authn.ErrEmailUnverified
	}
	if s.hasher.NeedsRehash(u.PasswordHash) {
		// Parameters were raised since this hash was made: upgrade it now
		// that the plain password is at hand. Failure only costs the upgrade.
		if hash, err := s.hasher.Hash(ctx, pw); err == nil {
			// Only over the hash just verified: a password change or
			// reset that committed meanwhile must not be undone.
			if _, err := s.store.Update(ctx, u.ID, Change{PasswordHash: &hash, IfPasswordHash: &u.PasswordHash}); err != nil && !errors.Is(err, ErrNotFound) {
				s.log.Warn("rehash password", zap.Error(err))
			}
		}
	}
	return account(u), nil
}

// Account implements authn.Accounts: the account behind a token or a
// session, whether or not it may act.
func (s *Service) Account(ctx context.Context, id uuid.UUID) (authn.Account, error) {
	u, err := s.store.Account(ctx, id)
	if err != nil {
		return authn.Account{}, fmt.Errorf("find account: %w", err)
	}
	return account(u), nil
}

func account(u User) authn.Account {
	return authn.Account{
		UserID: u.ID, Email: u.Email, FullName: u.FullName, Active: u.IsActive, Kind: u.Kind,
		EmailVerified: u.EmailVerified, EmailVerifiedAt: u.EmailVerifiedAt, Roles: u.Roles, Permissions: u.Permissions, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// byEmail finds an account by an email a client typed. Text that is no
// valid address cannot belong to an account (every stored email went
// through authn.NormalizeEmail), so it is not found without a query:
// Postgres would refuse a NUL byte or invalid UTF-8 in the parameter.
func (s *Service) byEmail(ctx context.Context, email string) (User, error) {
	norm, err := authn.NormalizeEmail(email)
	if err != nil {
		return User{}, ErrNotFound
	}
	return s.store.ByEmail(ctx, norm)
}

// fullName is the display name's rule: at most MaxFullName characters
// and no control characters (a line break or an escape in a display name
// only serves to forge output where it is shown).
var fullName = textfield.Rule{Field: "full_name", Max: MaxFullName}

func checkFullName(n string) *fault.Error { return fullName.Check(n) }
