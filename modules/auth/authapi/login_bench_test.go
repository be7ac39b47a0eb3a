package authapi_test

import (
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/argon2"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// BenchmarkLoginCPU: the process CPU time (user + system, getrusage) of a
// password login through the assembled application, against the CPU time
// of a bare argon2id hash with the same parameters (production's OWASP
// minimum), both in this process, in alternating batches so the machine's
// noise falls on both alike. Like the harness (bench/cmd/bench), 32
// clients sign in at once over loopback keep-alive connections (so the
// server watches each waiting client's connection as in production) and
// the raw hashes run one per core. The client is fasthttp's, whose few
// tens of microseconds per request are counted with the server's CPU. The
// budget is the ratio: a login within 1.1x of a hash.
//
//	go test -run '^$' -bench LoginCPU -benchtime 64x ./modules/auth/authapi/
func BenchmarkLoginCPU(b *testing.B) {
	const clients, batch = 32, 32
	for _, dia := range testkit.ReachableDialects(b) {
		b.Run(dia, func(b *testing.B) {
			// Production's parameters: config refuses less there.
			app, loginOne := startLogins(b, dia, clients, config.Password{MemoryKiB: 19456, Iterations: 2, Parallelism: 1})
			p := app.Config.Password
			hash := func(int) {
				salt := make([]byte, 16)
				_ = argon2.IDKey([]byte("bench passphrase"), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
			}
			run(b, clients, clients, loginOne) // warm: pools, caches, the first signature
			run(b, runtime.NumCPU(), runtime.NumCPU(), hash)

			var loginCPU, hashCPU time.Duration
			var logins, hashes int
			var loginGC, hashGC uint64
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				gc := gcCycles()
				loginCPU += run(b, n, clients, loginOne)
				loginGC += gcCycles() - gc
				logins += n
				b.StopTimer()
				gc = gcCycles()
				hashCPU += run(b, n, runtime.NumCPU(), hash)
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

// BenchmarkLoginOverhead: the process CPU time of a password login whose
// hash is argon2id's cheapest (8 KiB, one pass), so what it measures is
// what a login costs beyond its hash (signing, the throttle's statements,
// the session, the HTTP exchange) without the hash's noise, which on a
// shared machine is larger than all of it. With production's parameters
// that part is the login budget's margin (BenchmarkLoginCPU).
//
//	go test -run '^$' -bench LoginOverhead -benchtime 2000x ./modules/auth/authapi/
func BenchmarkLoginOverhead(b *testing.B) {
	const clients = 32
	for _, dia := range testkit.ReachableDialects(b) {
		b.Run(dia, func(b *testing.B) {
			_, loginOne := startLogins(b, dia, clients, config.Password{MemoryKiB: 8, Iterations: 1, Parallelism: 1})
			run(b, 4*clients, clients, loginOne) // warm
			b.ResetTimer()
			gc := gcCycles()
			cpu := run(b, b.N, clients, loginOne)
			b.ReportMetric(float64(gcCycles()-gc)/float64(b.N), "gc/login")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/login")
		})
	}
}

// startLogins starts the application with the password parameters of p
// and returns it with a function that signs in the i-th of clients
// accounts (i modulo clients) over a keep-alive connection.
func startLogins(b *testing.B, dia string, clients int, p config.Password) (*apptest.App, func(i int)) {
	db := testkit.NewDB(b, dia)
	app := apptest.Start(b, db,
		testkit.WithConfig(func(c *config.Config) {
			c.Password.MemoryKiB, c.Password.Iterations, c.Password.Parallelism = p.MemoryKiB, p.Iterations, p.Parallelism
			c.Password.Queue = 1024
			c.Password.QueueTimeout = time.Minute
		}),
		testkit.WithEnv("OAUTH_CLIENTS", "default,bench"),
		testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "500"),
		testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "1000"),
		testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "100000"),
	)
	forms := make([][]byte, clients)
	for i := range forms {
		u := app.NewUser(false)
		forms[i] = []byte(url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}, "client_id": {"bench"}}.Encode())
	}
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(app.URL, "http://"), MaxConns: clients, ReadTimeout: time.Minute}
	b.Cleanup(client.CloseIdleConnections)
	return app, func(i int) {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		req.SetRequestURI(app.URL + authapi.TokenPath)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBody(forms[i%clients])
		if err := client.Do(req, res); err != nil {
			b.Error(err)
			return
		}
		if c := res.StatusCode(); c != fasthttp.StatusOK {
			b.Errorf("status %d: %s", c, res.Body())
		}
	}
}

// run does n calls of f on workers goroutines and returns the process CPU
// time they took.
func run(b *testing.B, n, workers int, f func(i int)) time.Duration {
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
