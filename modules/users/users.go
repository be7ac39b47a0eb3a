// Package users is the users module: accounts, profiles, roles and their
// administration. Module is its only fx wiring.
package users

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/users/userapi"
	"github.com/acme/monolith/modules/users/userstore"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/cli"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/throttle"
)

// Module provides the users service (also as the platform's
// authn.Accounts), its store, its routes and its permissions, publishes
// the account events, mails the account notices (as subscribers to those
// events) and creates the first admin at start when configured.
var Module = fx.Module("users",
	config.Provide[Settings]("users", "accounts: the first superuser and self-registration"),
	authz.Provide(usersvc.Permissions...),
	cli.Provide(usersCommand),
	cli.Provide(rolesCommand),
	cli.Provide(serviceAccountsCommand),
	fx.Provide(
		fx.Private,
		fx.Annotate(userstore.New, fx.As(new(usersvc.Storer)), fx.As(new(usersvc.Transactor))),
	),
	fx.Provide(
		newService,
		func(s *usersvc.Service) authn.Accounts { return s },
		func(s *usersvc.Service) authn.EmailOwners { return s },
		httpserver.AsRoutes(userapi.New),
	),
	// The account events, published in the transaction of each change;
	// the notice mails are this module's own subscribers to two of them.
	events.Publishes[authn.AccountCreated](),
	events.Publishes[authn.AccountEmailChanged](),
	events.Publishes[authn.AccountPasswordChanged](),
	events.Publishes[authn.AccountDeactivated](),
	events.Publishes[authn.AccountDeleted](),
	events.Subscribe[authn.AccountEmailChanged](usersvc.EmailNoticeSubscription,
		func(s mail.Sender) usersvc.EmailNotice { return usersvc.EmailNotice{Sender: s} }),
	events.Subscribe[authn.AccountPasswordChanged](usersvc.PasswordNoticeSubscription,
		func(s mail.Sender) usersvc.PasswordNotice { return usersvc.PasswordNotice{Sender: s} }),
	fx.Invoke(bootstrapSuperuser),
)

type serviceParams struct {
	fx.In
	Store  usersvc.Storer
	Hasher *password.Hasher
	Log    *zap.Logger
	Config Settings
	Events *events.Bus
	// Provided by the auth module; optional so the users module runs alone.
	Revoker authn.Revoker `optional:"true"`
	// Provided by the auth module; without it addresses are not verified.
	Links       authn.EmailLinks `optional:"true"`
	Limiter     *throttle.Limiter
	Permissions *authz.Catalogue
	Tx          usersvc.Transactor
	// Provided by the audit module; optional so the users module runs alone.
	Audit audit.Recorder `optional:"true"`
}

func newService(p serviceParams) *usersvc.Service {
	log := p.Log.Named("users")
	opts := usersvc.Options{
		SignupEnabled: p.Config.SignupEnabled,
		Events:        p.Events,
		Limiter:       p.Limiter,
		RegisterRule:  throttle.Rule{Name: "register.ip", Limit: p.Config.RegisterLimit, Window: p.Config.RegisterWindow},
		Permissions:   p.Permissions,
		Audit:         p.Audit,
		Tx:            p.Tx,
		Verification:  usersvc.Verification(p.Config.EmailVerification),
		Links:         p.Links,
	}
	if p.Revoker != nil {
		opts.Revoker = p.Revoker
	}
	return usersvc.New(p.Store, p.Hasher, log, opts)
}

// bootstrapSuperuser creates FIRST_SUPERUSER_EMAIL on start if it is absent.
func bootstrapSuperuser(lc fx.Lifecycle, cfg Settings, svc *usersvc.Service, log *zap.Logger) {
	if cfg.FirstSuperuserEmail == "" {
		return
	}
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		created, err := svc.EnsureSuperuser(ctx, cfg.FirstSuperuserEmail, cfg.FirstSuperuserPassword)
		if err != nil {
			return err
		}
		if created {
			log.Info("first superuser created", zap.String("email", cfg.FirstSuperuserEmail))
		}
		return nil
	}})
}
