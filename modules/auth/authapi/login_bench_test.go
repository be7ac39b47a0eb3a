package authapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/fx"
	"golang.org/x/crypto/argon2"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// BenchmarkLoginCPU: the process CPU time (user + system, getrusage) of a
// password login through the assembled application, against the CPU time
// of a bare argon2id hash with the same parameters (production's OWASP
// minimum), both in this process, in alternating batches so the machine's
// noise falls on both alike. Like the harness (bench/cmd/bench), 32
// clients sign in at once and the raw hashes run one per core. Requests
// are handed straight to the fiber handler, so no client's CPU is counted.
// The budget is the ratio: a login within 1.1x of a hash.
//
//	go test -run '^$' -bench LoginCPU -benchtime 64x ./modules/auth/authapi/
func BenchmarkLoginCPU(b *testing.B) {
	const clients, batch = 32, 32
	for _, dia := range testkit.ReachableDialects(b) {
		b.Run(dia, func(b *testing.B) {
			db := testkit.NewDB(b, dia)
			var srv *httpserver.Server
			app := apptest.Start(b, db,
				testkit.WithFx(fx.Populate(&srv)),
				testkit.WithConfig(func(c *config.Config) {
					// Production's parameters: config refuses less there.
					c.Password.MemoryKiB, c.Password.Iterations, c.Password.Parallelism = 19456, 2, 1
					c.Password.Queue = 1024
					c.Password.QueueTimeout = time.Minute
				}),
				testkit.WithEnv("OAUTH_CLIENTS", "default,bench"),
				testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "500"),
				testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "1000"),
				testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "100000"),
			)
			p := app.Config.Password
			raws := make([][]byte, clients)
			for i := range raws {
				u := app.NewUser(false)
				form := url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}, "client_id": {"bench"}}.Encode()
				raws[i] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
					authapi.TokenPath, len(form), form)
			}
			h := srv.App().Handler()
			login := func(raw []byte) {
				var ctx fasthttp.RequestCtx
				if err := ctx.Request.Read(bufio.NewReader(bytes.NewReader(raw))); err != nil {
					b.Error(err)
					return
				}
				h(&ctx)
				if c := ctx.Response.StatusCode(); c != fasthttp.StatusOK {
					b.Errorf("status %d: %s", c, ctx.Response.Body())
				}
			}
			hash := func(int) {
				salt := make([]byte, 16)
				_ = argon2.IDKey([]byte("bench passphrase"), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
			}
			// run does n calls of f on workers goroutines and returns the
			// process CPU time they took.
			run := func(n, workers int, f func(i int)) time.Duration {
				var next atomic.Int64
				var wg sync.WaitGroup
				before := cpuTime(b)
				for range workers {
					wg.Go(func() {
						for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
							f(i)
						}
					})
				}
				wg.Wait()
				return cpuTime(b) - before
			}
			loginOne := func(i int) { login(raws[i%clients]) }
			run(clients, clients, loginOne) // warm: pools, caches, the first signature
			run(runtime.NumCPU(), runtime.NumCPU(), hash)

			var loginCPU, hashCPU time.Duration
			var logins, hashes int
			var loginGC, hashGC uint64
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				gc := gcCycles()
				loginCPU += run(n, clients, loginOne)
				loginGC += gcCycles() - gc
				logins += n
				b.StopTimer()
				gc = gcCycles()
				hashCPU += run(n, runtime.NumCPU(), hash)
				hashGC += gcCycles() - gc
				hashes += n
				b.StartTimer()
			}
			b.ReportMetric(float64(loginGC)/float64(logins), "gc/login")
			b.ReportMetric(float64(hashGC)/float64(hashes), "gc/hash")
			perLogin := float64(loginCPU.Microseconds()) / float64(logins) / 1000
			perHash := float64(hashCPU.Microseconds()) / float64(hashes) / 1000
			b.ReportMetric(perLogin, "cpu-ms/login")
			b.ReportMetric(perHash, "cpu-ms/hash")
			b.ReportMetric(perLogin/perHash, "ratio")
		})
	}
}

// gcCycles is how many garbage collections this process has completed.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
