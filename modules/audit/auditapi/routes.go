// Package auditapi exposes the audit log to administrators over HTTP:
// routing, status codes and input validation. Business rules live in
// auditsvc.
package auditapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/monolith/modules/audit/auditschema"
	"github.com/acme/monolith/modules/audit/auditsvc"
	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/paging"
)

// Routes registers the audit operations.
type Routes struct {
	svc  *auditsvc.Service
	auth *authn.Resolver
}

// New returns the routes.
func New(svc *auditsvc.Service, auth *authn.Resolver) *Routes {
	return &Routes{svc: svc, auth: auth}
}

const path = "/api/audit-events"

// Register implements httpserver.Routes.
func (r *Routes) Register(api huma.API) {
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "list-audit-events", Method: http.MethodGet, Path: path,
		Summary: "Query the audit log", Tags: []string{"audit"},
		Description: "Newest first, a page at a time: pass `next` as `cursor` for the following page " +
			"(also in the `Link` header, with the filters); a cursor belongs to its filters. " +
			"Filters combine: `from` <= time < `to`, both RFC 3339.",
	}, paging.ErrInvalidCursor, auditsvc.ErrBadTime.On("from"), auditsvc.ErrTimeRange.On("to"),
		auditsvc.ErrBadActorKind.On("actor_kind"), auditsvc.ErrBadAction.On("action"), auditsvc.ErrTargetID.On("target_id")),
		auditsvc.PermRead), r.list)
}

type listIn struct {
	ActorKind  string `query:"actor_kind" maxLength:"16" doc:"user, service or system."`
	Actor      string `query:"actor" maxLength:"128" doc:"The actor's id."`
	Action     string `query:"action" maxLength:"64" doc:"An action, such as auth.sign_in.failed." example:"users.role.assigned"`
	TargetType string `query:"target_type" maxLength:"64" doc:"What kind of thing was acted on (user, role, session)." example:"user"`
	TargetID   string `query:"target_id" maxLength:"128" doc:"Its id (with target_type)."`
	From       string `query:"from" maxLength:"64" doc:"Entries at or after this RFC 3339 time." example:"2026-03-01T00:00:00Z"`
	To         string `query:"to" maxLength:"64" doc:"Entries before this RFC 3339 time." example:"2026-04-01T00:00:00Z"`
	paging.Params
}

// query is the filters as the Link header repeats them, and as the list
// name binds a cursor to them.
func (in *listIn) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"actor_kind": in.ActorKind, "actor": in.Actor, "action": in.Action,
		"target_type": in.TargetType, "target_id": in.TargetID, "from": in.From, "to": in.To,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func parseTime(field, s string) (time.Time, *fault.Error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, auditsvc.ErrBadTime.On(field)
	}
	return t, nil
}

func (in *listIn) filter() (auditsvc.Filter, error) {
	f := auditsvc.Filter{
		ActorKind: audit.ActorKind(in.ActorKind), ActorID: in.Actor, Action: in.Action,
		TargetType: in.TargetType, TargetID: in.TargetID,
	}
	var errs fault.Multi
	var e *fault.Error
	if f.From, e = parseTime("from", in.From); e != nil {
		errs = append(errs, e)
	}
	if f.To, e = parseTime("to", in.To); e != nil {
		errs = append(errs, e)
	}
	if err := errs.Err(); err != nil {
		return f, err
	}
	return f, f.Check()
}

func (r *Routes) list(ctx context.Context, in *listIn) (*paging.Response[auditschema.Event], error) {
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	q := in.query()
	list := "audit-events?" + q.Encode()
	req, err := in.Request(list)
	if err != nil {
		return nil, err
	}
	l, err := r.svc.List(ctx, f, req)
	if err != nil {
		return nil, err
	}
	out := paging.Respond(list, path, req, l, toDTO)
	if out.Link != "" {
		q.Set("cursor", out.Body.Next)
		q.Set("limit", strconv.Itoa(req.Limit))
		out.Link = "<" + path + "?" + q.Encode() + `>; rel="next"`
	}
	return out, nil
}

func toDTO(v auditsvc.Event) auditschema.Event {
	return auditschema.Event{
		ID: v.ID, Time: v.Time, Action: v.Action,
		Actor:    auditschema.Actor{Kind: string(v.Actor.Kind), ID: v.Actor.ID},
		Target:   auditschema.Target{Type: v.Target.Type, ID: v.Target.ID},
		ClientIP: v.ClientIP, RequestID: v.RequestID, Payload: v.Payload,
	}
}
