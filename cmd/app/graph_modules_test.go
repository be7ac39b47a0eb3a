package main

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
)

// Ten feature modules shaped like generated ones, beside users and auth:
// each provides a service built on the platform's database and logger,
// consumes the services of the modules it builds on, and adds its routes
// to the group (a signed-in CRUD resource). The graph tests draw the
// application with them to check that the picture stays readable as teams
// add modules.
type (
	customers     struct{}
	products      struct{}
	inventory     struct{}
	orders        struct{}
	invoices      struct{}
	payments      struct{}
	shipments     struct{}
	reviews       struct{}
	coupons       struct{}
	notifications struct{}
)

func newCustomers(*ent.Client, *zap.Logger) *customers             { return &customers{} }
func newProducts(*ent.Client, *zap.Logger) *products               { return &products{} }
func newInventory(*ent.Client, *products) *inventory               { return &inventory{} }
func newNotifications(*zap.Logger, config.Config) *notifications   { return &notifications{} }
func newInvoices(*ent.Client, *orders, *customers) *invoices       { return &invoices{} }
func newPayments(*ent.Client, *invoices, *notifications) *payments { return &payments{} }
func newReviews(*ent.Client, *products, *customers) *reviews       { return &reviews{} }
func newCoupons(*ent.Client, *products) *coupons                   { return &coupons{} }
func newShipments(*ent.Client, *orders, *inventory, *notifications) *shipments {
	return &shipments{}
}

func newOrders(*ent.Client, *zap.Logger, *customers, *products, *inventory, *notifications) *orders {
	return &orders{}
}

// crudRoutes serves GET /api/<name>, signed in, over the module's service.
type crudRoutes struct {
	path string
	auth *authn.Resolver
}

func (r *crudRoutes) Register(api huma.API) {
	huma.Register(api, r.auth.Protect(api, huma.Operation{OperationID: "list" + r.path, Method: http.MethodGet, Path: r.path}),
		func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
}

func routesOver[S any](path string) func(S, *authn.Resolver) *crudRoutes {
	return func(_ S, auth *authn.Resolver) *crudRoutes { return &crudRoutes{path: path, auth: auth} }
}

// tenModules are the ten modules, in the order cmd/app/modules would list them.
func tenModules() []fx.Option {
	mod := func(name string, service any, routes any) fx.Option {
		return fx.Module(name, fx.Provide(service, httpserver.AsRoutes(routes)))
	}
	return []fx.Option{
		mod("customers", newCustomers, routesOver[*customers]("/api/customers")),
		mod("products", newProducts, routesOver[*products]("/api/products")),
		mod("inventory", newInventory, routesOver[*inventory]("/api/inventory")),
		mod("orders", newOrders, routesOver[*orders]("/api/orders")),
		mod("invoices", newInvoices, routesOver[*invoices]("/api/invoices")),
		mod("payments", newPayments, routesOver[*payments]("/api/payments")),
		mod("shipments", newShipments, routesOver[*shipments]("/api/shipments")),
		mod("reviews", newReviews, routesOver[*reviews]("/api/reviews")),
		mod("coupons", newCoupons, routesOver[*coupons]("/api/coupons")),
		mod("notifications", newNotifications, routesOver[*notifications]("/api/notifications")),
	}
}
