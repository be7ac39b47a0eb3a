// Package shop is a test fixture of the graph tests: ten feature modules
// shaped like generated ones, beside users and auth. It is a package of its
// own so that its types are named as a module's are (shop.Orders), as
// short as they were in package main, and the picture measured is the
// same.
package shop

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

// The services of the ten modules. Each is built on the platform's
// database and logger, consumes the services of the modules it builds on,
// and adds its routes to the group (a signed-in CRUD resource). The graph
// tests draw the application with them to check that the picture stays
// readable as teams add modules.
type (
	// Customers is the customers module's service.
	Customers struct{}
	// Products is the products module's service.
	Products struct{}
	// Inventory is the inventory module's service.
	Inventory struct{}
	// Orders is the orders module's service.
	Orders struct{}
	// Invoices is the invoices module's service.
	Invoices struct{}
	// Payments is the payments module's service.
	Payments struct{}
	// Shipments is the shipments module's service.
	Shipments struct{}
	// Reviews is the reviews module's service.
	Reviews struct{}
	// Coupons is the coupons module's service.
	Coupons struct{}
	// Notifications is the notifications module's service.
	Notifications struct{}
)

// NewCustomers builds the customers service.
func NewCustomers(*ent.Client, *zap.Logger) *Customers { return &Customers{} }

// NewProducts builds the products service.
func NewProducts(*ent.Client, *zap.Logger) *Products { return &Products{} }

// NewInventory builds the inventory service.
func NewInventory(*ent.Client, *Products) *Inventory { return &Inventory{} }

// NewNotifications builds the notifications service.
func NewNotifications(*zap.Logger, config.Config) *Notifications { return &Notifications{} }

// NewInvoices builds the invoices service.
func NewInvoices(*ent.Client, *Orders, *Customers) *Invoices { return &Invoices{} }

// NewPayments builds the payments service.
func NewPayments(*ent.Client, *Invoices, *Notifications) *Payments { return &Payments{} }

// NewReviews builds the reviews service.
func NewReviews(*ent.Client, *Products, *Customers) *Reviews { return &Reviews{} }

// NewCoupons builds the coupons service.
func NewCoupons(*ent.Client, *Products) *Coupons { return &Coupons{} }

// NewShipments builds the shipments service.
func NewShipments(*ent.Client, *Orders, *Inventory, *Notifications) *Shipments {
	return &Shipments{}
}

// NewOrders builds the orders service.
func NewOrders(*ent.Client, *zap.Logger, *Customers, *Products, *Inventory, *Notifications) *Orders {
	return &Orders{}
}

// crudRoutes serves GET /api/<name>, signed in, over the module's service.
type crudRoutes struct {
	path string
	auth *authn.Resolver
}

// Register adds the operation.
func (r *crudRoutes) Register(api huma.API) {
	huma.Register(api, r.auth.Protect(api, huma.Operation{OperationID: "list" + r.path, Method: http.MethodGet, Path: r.path}),
		func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
}

func routesOver[S any](path string) func(S, *authn.Resolver) *crudRoutes {
	return func(_ S, auth *authn.Resolver) *crudRoutes { return &crudRoutes{path: path, auth: auth} }
}

// TenModules are the ten modules, in the order cmd/app/modules would list them.
func TenModules() []fx.Option {
	mod := func(name string, service any, routes any) fx.Option {
		return fx.Module(name, fx.Provide(service, httpserver.AsRoutes(routes)))
	}
	return []fx.Option{
		mod("customers", NewCustomers, routesOver[*Customers]("/api/customers")),
		mod("products", NewProducts, routesOver[*Products]("/api/products")),
		mod("inventory", NewInventory, routesOver[*Inventory]("/api/inventory")),
		mod("orders", NewOrders, routesOver[*Orders]("/api/orders")),
		mod("invoices", NewInvoices, routesOver[*Invoices]("/api/invoices")),
		mod("payments", NewPayments, routesOver[*Payments]("/api/payments")),
		mod("shipments", NewShipments, routesOver[*Shipments]("/api/shipments")),
		mod("reviews", NewReviews, routesOver[*Reviews]("/api/reviews")),
		mod("coupons", NewCoupons, routesOver[*Coupons]("/api/coupons")),
		mod("notifications", NewNotifications, routesOver[*Notifications]("/api/notifications")),
	}
}
