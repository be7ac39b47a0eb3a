package main

import (
	"bufio"
	"bytes"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/valyala/fasthttp"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// BenchmarkReadAllocs: allocations per authenticated read (GET
// /api/users/me) in the assembled application and in this baseline, on
// the same database, the same user and the same token, each request handed
// straight to the fiber handler so that no client's allocations are
// counted. The budget is the ratio: the application within 1.5x.
//
//	go test -run '^$' -bench ReadAllocs ./bench/baseline/
func BenchmarkReadAllocs(b *testing.B) {
	for _, dia := range testkit.ReachableDialects(b) {
		b.Run(dia, func(b *testing.B) {
			db := testkit.NewDB(b, dia)
			var srv *httpserver.Server
			app := apptest.Start(b, db, testkit.WithFx(fx.Populate(&srv)))
			u := app.NewUser(false)
			key, err := publicKey([]byte(testkit.SigningKeyPEM(b)))
			if err != nil {
				b.Fatal(err)
			}
			base := newApp(newServer(db.SQL, db.Dialect == dialect.Postgres, key, buildinfo.Service, buildinfo.Service+"-api"))

			// Each read parses the request from its bytes as the server
			// would (the application checks the raw header section), into
			// reused buffers, so parsing costs both sides the same nothing.
			raw := []byte("GET /api/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + u.Token + "\r\n\r\n")
			read := func(h fasthttp.RequestHandler) func() {
				var ctx fasthttp.RequestCtx
				rd := bytes.NewReader(raw)
				br := bufio.NewReader(rd)
				return func() {
					rd.Reset(raw)
					br.Reset(rd)
					ctx.Request.Reset()
					ctx.Response.Reset()
					if err := ctx.Request.Read(br); err != nil {
						b.Fatal(err)
					}
					h(&ctx)
					if c := ctx.Response.StatusCode(); c != fasthttp.StatusOK {
						b.Fatalf("status %d: %s", c, ctx.Response.Body())
					}
				}
			}
			ours, theirs := read(srv.App().Handler()), read(base.Handler())
			ours() // warm: the first read verifies the token and fills the caches
			theirs()
			appAllocs := testing.AllocsPerRun(2000, ours)
			baseAllocs := testing.AllocsPerRun(2000, theirs)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ours()
			}
			b.ReportMetric(appAllocs, "app-allocs/read")
			b.ReportMetric(baseAllocs, "baseline-allocs/read")
			b.ReportMetric(appAllocs/baseAllocs, "ratio")
		})
	}
}
