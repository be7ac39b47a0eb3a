// Package audit is the audit module: it stores the audit log that every
// module appends to through platform/audit's Recorder, serves it to
// administrators (GET /api/audit-events, `app audit list`) and prunes it
// after AUDIT_RETENTION. Module is its only fx wiring.
package audit

import (
	"context"

	"go.uber.org/fx"

	"github.com/acme/monolith/modules/audit/auditapi"
	"github.com/acme/monolith/modules/audit/auditstore"
	"github.com/acme/monolith/modules/audit/auditsvc"
	platformaudit "github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/cli"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/logging"
)

// Module provides the platform's audit.Recorder, the audit service, its
// route, its permission (audit:read), its settings section, its
// `app audit` command and the hourly pruning.
var Module = fx.Module("audit",
	config.Provide[Settings]("audit", "the audit log's retention"),
	authz.Provide(auditsvc.Permissions...),
	cli.Provide(auditCommand),
	fx.Provide(
		fx.Private,
		fx.Annotate(auditstore.New, fx.As(new(auditsvc.Storer))),
	),
	fx.Provide(
		newService,
		func(s *auditsvc.Service) platformaudit.Recorder { return s },
		httpserver.AsRoutes(auditapi.New),
	),
	pruning,
)

// requestContext is what the platform's request middleware put in ctx.
func requestContext(ctx context.Context) (string, string) {
	return httpserver.ClientIP(ctx), logging.RequestID(ctx)
}

func newService(store auditsvc.Storer, cfg Settings) *auditsvc.Service {
	return auditsvc.New(store, auditsvc.Options{Retention: cfg.Retention, Context: requestContext})
}
