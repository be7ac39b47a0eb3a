// Command bench is the performance harness behind `make bench`. It builds
// the application and the hand-written baseline (bench/baseline), starts
// each as its own process on a fresh Postgres database and on SQLite,
// seeds users through the API, drives load over loopback from this
// process, and reports throughput, latency, errors, CPU per request and
// peak memory per scenario as ratios to baselines measured in the same
// run; then a soak at 70% of the maximum rate. Results go to
// bench/results (JSON, a markdown summary and an SVG chart).
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/monolith/bench/load"
	"github.com/acme/monolith/bench/proc"
	"github.com/acme/monolith/bench/report"
	"github.com/acme/monolith/platform/migrator"
)

type options struct {
	duration    time.Duration
	soak        time.Duration
	workers     int
	maxRequests int
	users       int
	dbs         string
	staticDBs   string
	pgURL       string
	base        string
	out         string
	starts      int
	peer        string
	core        bool
	authz       bool
	replicas    int
	goBench     bool
	readme      string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "time per scenario (each is also capped by -max-requests)")
	flag.DurationVar(&o.soak, "soak", 5*time.Minute, "soak length at 70% of the maximum read rate; 0 skips it")
	flag.IntVar(&o.workers, "workers", 32, "concurrent connections of the load generator")
	flag.IntVar(&o.maxRequests, "max-requests", 300000, "request cap per scenario")
	flag.IntVar(&o.users, "users", 64, "users to seed (the first -workers of them sign in)")
	flag.StringVar(&o.dbs, "dbs", "postgres,sqlite", "databases to run the load scenarios on (\"\" runs none: only the static measures)")
	flag.StringVar(&o.staticDBs, "static-dbs", "sqlite", "databases on which cold start and idle RSS are measured (sqlite, postgres)")
	flag.StringVar(&o.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "Postgres server where a fresh database is created and dropped")
	flag.StringVar(&o.base, "base", "", "a previous revision (any git rev) whose binary size, cold start and idle RSS are measured for comparison")
	flag.StringVar(&o.out, "out", "bench/results", "directory for results.json, summary.md and chart.svg")
	flag.IntVar(&o.starts, "starts", 7, "cold starts measured per binary (the median is reported)")
	flag.StringVar(&o.peer, "peer", "github.com/pocketbase/pocketbase/examples/base@v0.36.8", "the peer measured on SQLite beside the baseline (package@version from the Go module proxy; \"\" skips it)")
	flag.BoolVar(&o.core, "core", true, "the scenarios against the baseline (read, list, login, refresh, write) and the soak; false runs only the parts below")
	flag.BoolVar(&o.authz, "authz", true, "the read behind a permission check and the read with an API key, against the plain read")
	flag.IntVar(&o.replicas, "replica-rounds", 20, "authorization changes made on one replica and watched from a second (Postgres only); 0 skips it")
	flag.BoolVar(&o.goBench, "gobench", true, "the Go benchmarks run after the load (jobs vs bare River, an enqueue in a write, allocations per read) on the databases of -dbs")
	flag.StringVar(&o.readme, "readme", "README.md", "README whose headline block (between the bench:headline markers) is rewritten with this run's budgets (\"\" leaves it alone)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

type harness struct {
	o        options
	tmp      string
	app      string
	baseline string
	peer     string // the peer's binary, when built
	keyFile  string
	kek      string // JWT_KEY_ENCRYPTION_KEY for this run
	run      *report.Run
	idleRSS  int64
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	h := &harness{o: o, tmp: tmp, run: &report.Run{
		Started: time.Now().UTC(), Commit: commit(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		Settings: report.Settings{Duration: o.duration.String(), Workers: o.workers, MaxRequests: o.maxRequests, Soak: o.soak.String(), Users: o.users},
	}}
	log.Printf("building the application and the baseline")
	h.app = filepath.Join(tmp, "app")
	h.baseline = filepath.Join(tmp, "baseline")
	if err := build(ctx, ".", "./cmd/app", h.app); err != nil {
		return err
	}
	if err := build(ctx, ".", "./bench/baseline", h.baseline); err != nil {
		return err
	}
	if o.peer != "" && slices.Contains(strings.Split(strings.ReplaceAll(o.dbs, " ", ""), ","), "sqlite") {
		log.Printf("building the peer %s", o.peer)
		if h.peer, err = buildPeer(ctx, o.peer, tmp); err != nil {
			return err
		}
	}
	if h.keyFile, err = writeKey(tmp); err != nil {
		return err
	}
	kek := make([]byte, 32)
	if _, err := rand.Read(kek); err != nil {
		return err
	}
	h.kek = base64.StdEncoding.EncodeToString(kek)

	var base string
	if o.base != "" {
		if base, err = buildRev(ctx, o.base, tmp); err != nil {
			return err
		}
	}
	for _, db := range strings.Split(o.staticDBs, ",") {
		db = strings.TrimSpace(db)
		b, err := h.static(ctx, "HEAD "+h.run.Commit, h.app, db)
		if err != nil {
			return err
		}
		h.run.Builds = append(h.run.Builds, b)
		if h.idleRSS == 0 {
			h.idleRSS = b.IdleRSS
		}
		if base != "" {
			b, err := h.static(ctx, o.base, base, db)
			if err != nil {
				return err
			}
			h.run.Builds = append(h.run.Builds, b)
		}
	}

	var dbs []string
	if o.dbs != "" {
		dbs = strings.Split(o.dbs, ",")
	}
	for i, name := range dbs {
		soak := i == 0 && o.soak > 0 && o.core // the first database (Postgres by default) gets the soak
		dr, err := h.database(ctx, strings.TrimSpace(name), soak)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		h.run.Databases = append(h.run.Databases, dr)
	}
	if o.goBench {
		var names []string
		for _, d := range dbs {
			names = append(names, strings.TrimSpace(d))
		}
		h.runGoBenches(ctx, names)
	}
	h.budgets()
	h.run.Notes = append(h.run.Notes,
		"The application runs with APP_ENV=production (JSON access log at info level to a file, OWASP argon2id parameters) and default pool sizes; the baseline has no logging.",
		"CPU per request is the server process's user+system time (/proc/<pid>/stat) divided by the requests served; peak RSS is VmHWM, reset before each scenario.",
		"Tail latency is measured open-loop from each request's scheduled start (no coordinated omission), for the application and then the baseline at one offered rate, 70% of the baseline's maximum; the budget is the ratio of their p99s, and an application that did not sustain the rate (achieved < 95%) misses it.",
		"The application remembers verified access tokens until they expire (docs/performance.md); the baseline verifies the RS256 signature on every request, as the issue specifies, so read-path ratios above 1 are expected.",
		"The login flood with 4x the clients is there for its peak memory: with the hashing cap its requests mostly queue past the scenario's end, so its request count may be 0.",
	)
	if o.authz {
		h.run.Notes = append(h.run.Notes, "The reads behind a permission check, by id and with an API key are compared with `"+scenarioMeWithRole+
			"`, measured just before them on the same accounts, not with the baseline; from there on the accounts hold a role, so the soak's /me lists it.")
	}
	if err := h.run.Write(o.out); err != nil {
		return err
	}
	fmt.Println()
	h.run.Table(os.Stdout)
	fmt.Println()
	for _, b := range h.run.Budgets {
		mark := "pass"
		if !b.Pass {
			mark = "MISS"
		}
		fmt.Printf("%-4s  %-48s goal %-28s measured %s\n", mark, b.Name, b.Goal, b.Value)
	}
	fmt.Printf("\nwrote %s/{results.json,summary.md,chart.svg}\n", o.out)
	if o.readme != "" {
		if err := writeHeadline(o.readme, h.run); err != nil {
			return err
		}
		fmt.Printf("rewrote the headline in %s\n", o.readme)
	}
	return nil
}

// writeHeadline rewrites the README's headline block with the run's
// budgets, so the numbers a newcomer reads first are the last run's.
func writeHeadline(path string, r *report.Run) error {
	doc, err := os.ReadFile(path) //nolint:gosec // the operator's README
	if err != nil {
		return err
	}
	var body strings.Builder
	r.Headline(&body)
	out, err := report.SpliceHeadline(doc, []byte(body.String()))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644) //nolint:gosec // a README is public
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); len(st) > 0 {
		c += "-dirty"
	}
	return c
}

func build(ctx context.Context, dir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out+".build", pkg) //nolint:gosec // fixed tool, harness paths
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return rewritePaged(out+".build", out)
}

// rewritePaged copies the binary in 4 KiB writes. The page cache keeps a
// file in folios as large as the writes that made it (ext4 on Linux 6.x),
// and a fault maps the whole folio, so how the linker happened to write
// the file moved idle RSS by megabytes between identical programs; written
// a page at a time, RSS counts the pages the program touches (and the
// kernel's fault-around), the same for every revision compared.
func rewritePaged(from, to string) error {
	src, err := os.Open(from) //nolint:gosec // path built by the harness in its temp dir
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700) //nolint:gosec // path built by the harness in its temp dir
	if err != nil {
		return err
	}
	// Wrapped, so that io.CopyBuffer cannot hand the copy to
	// copy_file_range and its own write sizes.
	if _, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 4096)); err != nil {
		_ = dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Remove(from)
}

// buildRev checks rev out into a temporary worktree and builds its binary.
func buildRev(ctx context.Context, rev, tmp string) (string, error) {
	dir := filepath.Join(tmp, "base-src")
	if b, err := exec.CommandContext(ctx, "git", "worktree", "add", "--detach", dir, rev).CombinedOutput(); err != nil { //nolint:gosec // rev is the operator's
		return "", fmt.Errorf("git worktree add %s: %w\n%s", rev, err, b)
	}
	defer func() { _ = exec.Command("git", "worktree", "remove", "--force", dir).Run() }() //nolint:gosec // our temp dir
	bin := filepath.Join(tmp, "app-base")
	log.Printf("building %s", rev)
	return bin, build(ctx, dir, "./cmd/app", bin)
}

func writeKey(dir string) (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "jwt.pem")
	return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func (h *harness) appEnv(addr, dbURL string) []string {
	// Each process its own metrics listener: the default port is one per
	// machine, held by whichever process (a second replica, another run)
	// took it first.
	metrics, _ := freeAddr()
	return []string{
		"METRICS_ADDR=" + metrics,
		"APP_ENV=production", "HTTP_ADDR=" + addr, "DATABASE_URL=" + dbURL,
		"JWT_PRIVATE_KEY_FILE=" + h.keyFile, "HTTP_DOCS=false",
		// Production seals the signing keys it stores; older revisions
		// (BASE) ignore the variable.
		"JWT_KEY_ENCRYPTION_KEY=" + h.kek,
		// The load generator is one address with up to 4 x -workers
		// connections, like an ingress: no per-address cap (older
		// revisions ignore the variable).
		"HTTP_MAX_CONNS_PER_IP=0",
		// The scenarios sign in as the public client "bench" (older
		// revisions accept any client id and ignore the variable).
		"OAUTH_CLIENTS=default,bench",
		// The login scenarios measure hashing throughput with more clients
		// than slots: a queue as long as the load keeps them comparable
		// with revisions before the bounded queue (which would refuse the
		// excess with 503, by design). Older revisions ignore it.
		"PASSWORD_HASH_QUEUE=1024", "PASSWORD_HASH_QUEUE_TIMEOUT=30s",
		// Attempts in flight count against the sign-in throttle, and the
		// load comes from one address: lift it (within what older
		// revisions accept, which ignore the pair limit).
		"AUTH_THROTTLE_ACCOUNT_IP_LIMIT=500", "AUTH_THROTTLE_ACCOUNT_LIMIT=1000", "AUTH_THROTTLE_IP_LIMIT=100000",
	}
}

// static measures binary size, cold start to ready on a migrated
// database (median of -starts) and idle RSS one second after ready.
func (h *harness) static(ctx context.Context, label, bin, dbName string) (report.Build, error) {
	log.Printf("cold starts of %s on %s", label, dbName)
	b := report.Build{Rev: label, DB: dbName, Starts: h.o.starts}
	st, err := os.Stat(bin)
	if err != nil {
		return b, err
	}
	b.BinaryBytes = st.Size()
	var db string
	env := []string{}
	switch dbName {
	case "sqlite":
		db = "sqlite://" + filepath.Join(h.tmp, fmt.Sprintf("static-%d.db", time.Now().UnixNano()))
	case "postgres":
		u, drop, err := migrator.CreatePostgresDatabase(ctx, h.o.pgURL, "bench_"+randomHex())
		if err != nil {
			return b, fmt.Errorf("create Postgres database (is Postgres running at -pg?): %w", err)
		}
		defer drop()
		// Production refuses pending migrations: the first start applies
		// them, the measured ones find none.
		db, env = u, append(env, "MIGRATE_ON_START=true")
	default:
		return b, fmt.Errorf("unknown database %q (postgres or sqlite)", dbName)
	}
	var starts []time.Duration
	var rss, anon []int64
	for i := range h.o.starts + 1 {
		addr, err := freeAddr()
		if err != nil {
			return b, err
		}
		s, ready, err := start(bin, []string{"serve"}, append(h.appEnv(addr, db), env...), addr, filepath.Join(h.tmp, "static.log"))
		if err != nil {
			return b, err
		}
		if i > 0 { // the first start creates and migrates the database
			starts = append(starts, ready)
			time.Sleep(time.Second)
			if ps, err := proc.Read(s.pid()); err == nil {
				rss = append(rss, ps.RSS)
				anon = append(anon, ps.AnonRSS)
			}
		}
		s.stop()
	}
	slices.Sort(starts)
	slices.Sort(rss)
	slices.Sort(anon)
	b.ColdStartMS = float64(starts[len(starts)/2]) / float64(time.Millisecond)
	if len(rss) > 0 {
		b.IdleRSS = rss[len(rss)/2]
		b.IdleAnonRSS = anon[len(anon)/2]
	}
	return b, nil
}

// rawHashRate is how many argon2id hashes the cores compute per second
// with nothing else around them, and the CPU time one hash costs. The CPU
// figure is what the login budget uses: on a shared machine, wall-clock
// rates measured a minute apart differ by more than the effect being
// measured, CPU time per hash does not.
//
// The hashes run in a process of their own (the baseline's -hash mode)
// started with exactly the application's environment: the same argon2id
// parameters, read by the same configuration code, and the same runtime
// settings (GOGC, GOMEMLIMIT: the operator's, which the harness itself
// runs with, reach neither), and a garbage collector that has nothing but
// the hashes to look after, like the harness's own process had not.
func (h *harness) rawHashRate(ctx context.Context, env []string, workers int, d time.Duration) (rate float64, cpuPerHash time.Duration, err error) {
	cmd := exec.CommandContext(ctx, h.baseline, "-hash", d.String(), "-workers", strconv.Itoa(workers)) //nolint:gosec // the harness's own build
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("raw argon2id hashes: %w", err)
	}
	var r struct {
		Hashes  int64         `json:"hashes"`
		Elapsed time.Duration `json:"elapsed_ns"`
		CPU     time.Duration `json:"cpu_ns"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.Hashes == 0 || r.Elapsed <= 0 {
		return 0, 0, fmt.Errorf("raw argon2id hashes: unexpected output %q", out)
	}
	return float64(r.Hashes) / r.Elapsed.Seconds(), r.CPU / time.Duration(r.Hashes), nil
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// database runs every scenario on one fresh database.
func (h *harness) database(ctx context.Context, name string, soak bool) (report.DBRun, error) {
	dr := report.DBRun{Name: name}
	var dbURL string
	switch name {
	case "postgres":
		u, drop, err := migrator.CreatePostgresDatabase(ctx, h.o.pgURL, "bench_"+randomHex())
		if err != nil {
			return dr, fmt.Errorf("create Postgres database (is Postgres running at -pg?): %w", err)
		}
		defer drop()
		dbURL = u
	case "sqlite":
		dbURL = "sqlite://" + filepath.Join(h.tmp, "bench-"+randomHex()+".db")
	default:
		return dr, fmt.Errorf("unknown database %q (postgres or sqlite)", name)
	}
	addr, _ := freeAddr()
	pprofAddr, _ := freeAddr()
	rootEmail, rootPassword := "bench-root@example.test", "bench root passphrase "+randomHex()
	env := append(h.appEnv(addr, dbURL),
		"MIGRATE_ON_START=true", "DEBUG_PPROF_ADDR="+pprofAddr,
		"FIRST_SUPERUSER_EMAIL="+rootEmail, "FIRST_SUPERUSER_PASSWORD="+rootPassword)
	log.Printf("%s: starting the application", name)
	app, _, err := start(h.app, []string{"serve"}, env, addr, filepath.Join(h.tmp, name+"-app.log"))
	if err != nil {
		return dr, err
	}
	defer app.stop()
	app.pprof = "http://" + pprofAddr

	log.Printf("%s: seeding %d users", name, h.o.users)
	root, accts, err := seed(ctx, app.url, rootEmail, rootPassword, h.o.users, min(h.o.workers, h.o.users))
	if err != nil {
		return dr, err
	}
	baseAddr, _ := freeAddr()
	base, _, err := start(h.baseline, []string{"-addr", baseAddr, "-db", dbURL, "-key", h.keyFile}, nil, baseAddr, filepath.Join(h.tmp, name+"-baseline.log"))
	if err != nil {
		return dr, err
	}
	defer base.stop()

	opts := load.Options{Workers: h.o.workers, Duration: h.o.duration, MaxRequests: h.o.maxRequests}

	var readMax float64
	if h.o.core {
		if readMax, err = h.core(ctx, name, app, base, env, root, accts, opts, &dr); err != nil {
			return dr, err
		}
	}
	if h.o.authz {
		ss, err := h.authzReads(ctx, name, app, rootEmail, rootPassword, accts, opts)
		if err != nil {
			return dr, fmt.Errorf("permission and API-key reads: %w", err)
		}
		dr.Scenarios = append(dr.Scenarios, ss...)
	}
	if name == "postgres" && h.o.replicas > 0 {
		if dr.Replicas, err = h.replicas(ctx, name, dbURL, app, rootEmail, rootPassword, h.o.replicas, accts, opts); err != nil {
			return dr, fmt.Errorf("two replicas: %w", err)
		}
	}

	if soak {
		base.stop()
		dr.Soak = h.soak(ctx, name, app, 0.7*readMax, getMe(app.url, accts))
	}
	return dr, ctx.Err()
}

// core runs the scenarios measured against the baseline and returns the
// maximum read rate (the soak runs at 70% of it).
func (h *harness) core(ctx context.Context, name string, app, base *server, env []string, root tokenResponse, accts []account, opts load.Options, dr *report.DBRun) (float64, error) {
	const baselineName = "bench/baseline"

	// 1. The authenticated read path; then its latency and the baseline's
	// at one offered rate, 70% of the baseline's maximum.
	s := report.Scenario{Name: scenarioMe, BaseName: baselineName}
	s.App = h.measure(ctx, name, s.Name, app, opts, getMe(app.url, accts))
	s.Baseline = h.measure(ctx, name, s.Name+" (baseline)", base, opts, getMe(base.url, accts))
	s.Ratio = ratio(s.App, s.Baseline)
	readMax := s.App.Rate
	at := opts
	at.Rate = 0.7 * s.Baseline.Rate
	log.Printf("%s: %s at %.0f req/s, the application then the baseline", name, s.Name, at.Rate)
	r := load.Run(ctx, load.NewClient(at.Workers), at, getMe(app.url, accts))
	s.AtRate = &r
	rb := load.Run(ctx, load.NewClient(at.Workers), at, getMe(base.url, accts))
	s.BaseAtRate = &rb
	dr.Scenarios = append(dr.Scenarios, s)
	if name == "sqlite" && h.peer != "" {
		p, err := h.peerRead(ctx, name, opts, s.App)
		if err != nil {
			return 0, err
		}
		dr.Scenarios = append(dr.Scenarios, p)
	}

	// 2. The superuser listing.
	s = report.Scenario{Name: "GET /api/users?limit=50 (superuser)", BaseName: baselineName}
	s.App = h.measure(ctx, name, s.Name, app, opts, listUsers(app.url, root.AccessToken))
	s.Baseline = h.measure(ctx, name, s.Name+" (baseline)", base, opts, listUsers(base.url, root.AccessToken))
	s.Ratio = ratio(s.App, s.Baseline)
	dr.Scenarios = append(dr.Scenarios, s)

	// 3. Password login: bound by argon2id; a flood of -workers clients.
	// The raw hash rate is measured just before and just after, under the
	// same noise, in a process started with the application's environment.
	log.Printf("%s: raw argon2id hash rate on %d cores", name, runtime.NumCPU())
	// Two measurements bracket the login run. Interference slows the
	// application's hashes as much as the raw loop's (argon2id is
	// memory-hard: other processes' cache and memory traffic raise its CPU
	// time, not only its wall-clock time), so the CPU yardstick is their
	// mean, the noise the login run met; keeping the faster of the two
	// compared one login run with the raw loop's best moment.
	raw, rawCPU, err := h.rawHashRate(ctx, env, runtime.NumCPU(), max(opts.Duration/2, 3*time.Second))
	if err != nil {
		return 0, err
	}
	s = report.Scenario{Name: "POST /api/auth/login (password)", BaseName: "raw argon2id"}
	s.App = h.measure(ctx, name, s.Name, app, opts, passwordGrant(app.url, accts))
	raw2, rawCPU2, err := h.rawHashRate(ctx, env, runtime.NumCPU(), max(opts.Duration/2, 3*time.Second))
	if err != nil {
		return 0, err
	}
	raw, rawCPU = (raw+raw2)/2, (rawCPU+rawCPU2)/2
	h.run.RawHashRate = raw
	s.Baseline = &report.Measure{Result: load.Result{Rate: raw}, CPUPerReqUS: float64(rawCPU.Microseconds())}
	s.Ratio = ratio(s.App, s.Baseline)
	dr.Scenarios = append(dr.Scenarios, s)
	// The same flood with four times the clients: with the hashing cap,
	// peak memory must not follow the number of clients.
	flood := opts
	flood.Workers = 4 * opts.Workers
	s = report.Scenario{Name: fmt.Sprintf("POST /api/auth/login (password, %d clients, for memory)", flood.Workers)}
	s.App = h.measure(ctx, name, s.Name, app, flood, passwordGrant(app.url, accts))
	dr.Scenarios = append(dr.Scenarios, s)

	// 4. Refresh-token rotation, when the server has the grant.
	s = report.Scenario{Name: "POST /api/auth/login (refresh rotation)"}
	chains, ok, err := refreshChains(ctx, app.url, accts, h.o.workers)
	switch {
	case err != nil:
		return 0, err
	case !ok:
		s.NA = "n/a (no refresh grant)"
	default:
		s.App = h.measure(ctx, name, s.Name, app, opts, refreshRotation(app.url, chains))
	}
	dr.Scenarios = append(dr.Scenarios, s)

	// 5. The write path.
	s = report.Scenario{Name: "PATCH /api/users/me", BaseName: baselineName}
	s.App = h.measure(ctx, name, s.Name, app, opts, patchMe(app.url, accts))
	s.Baseline = h.measure(ctx, name, s.Name+" (baseline)", base, opts, patchMe(base.url, accts))
	s.Ratio = ratio(s.App, s.Baseline)
	dr.Scenarios = append(dr.Scenarios, s)

	return readMax, nil
}

// scenarioMe is the authenticated read measured against the baseline.
const scenarioMe = "GET /api/users/me"

func ratio(app, base *report.Measure) float64 {
	if app == nil || base == nil || base.Rate == 0 {
		return 0
	}
	return app.Rate / base.Rate
}

// measure warms up, then runs one scenario and charges the server's CPU
// time and peak RSS to it.
func (h *harness) measure(ctx context.Context, db, name string, s *server, o load.Options, call load.Call) *report.Measure {
	log.Printf("%s: %s", db, name)
	// The warm-up is bounded by count, not cut off by a deadline: the
	// server finishes a request whose client gave up, and that leftover
	// work would be charged to the measured run.
	warm := o
	warm.MaxRequests = min(o.MaxRequests, max(o.Workers*4, 200))
	if strings.Contains(name, "login (password)") {
		warm.MaxRequests = o.Workers
	}
	_ = load.Run(ctx, load.NewClient(o.Workers), warm, call)
	proc.ResetPeak(s.pid())
	before, _ := proc.Read(s.pid())
	res := load.Run(ctx, load.NewClient(o.Workers), o, call)
	after, _ := proc.Read(s.pid())
	m := &report.Measure{Result: res, PeakRSS: after.PeakRSS}
	if res.Requests > 0 {
		m.CPUPerReqUS = float64((after.CPU - before.CPU).Microseconds()) / float64(res.Requests)
	}
	return m
}

// soak holds a fixed rate and samples RSS and goroutines every tenth of
// the run (at least every 30 s).
func (h *harness) soak(ctx context.Context, db string, s *server, rate float64, call load.Call) *report.Soak {
	log.Printf("%s: soak for %s at %.0f req/s", db, h.o.soak, rate)
	out := &report.Soak{Duration: h.o.soak.String(), Rate: rate}
	o := load.Options{Workers: h.o.workers, Duration: h.o.soak, MaxRequests: 1 << 30, Rate: rate}
	done := make(chan load.Result, 1)
	began := time.Now()
	go func() { done <- load.Run(ctx, load.NewClient(o.Workers), o, call) }()
	every := min(max(h.o.soak/10, time.Second), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	sample := func() {
		st, _ := proc.Read(s.pid())
		g, err := s.goroutines(ctx)
		if err != nil {
			g = -1
		}
		out.Samples = append(out.Samples, report.SoakSample{At: time.Since(began).Round(time.Second).String(), RSS: st.RSS, Goroutines: g})
	}
	for {
		select {
		case r := <-done:
			out.Result = r
			sample()
			return out
		case <-t.C:
			sample()
		}
	}
}

// budgets checks the goals against the measurements.
func (h *harness) budgets() {
	add := func(name, goal, value string, pass bool) {
		h.run.Budgets = append(h.run.Budgets, report.Budget{Name: name, Goal: goal, Value: value, Pass: pass})
	}
	for _, db := range h.run.Databases {
		for _, s := range db.Scenarios {
			switch {
			case s.NA != "":
			case s.Name == scenarioMe:
				add(db.Name+": read path vs baseline", ">= 0.80x", fmt.Sprintf("%.2fx", s.Ratio), s.Ratio >= 0.8)
				if a, b := s.AtRate, s.BaseAtRate; a != nil && b != nil && a.P50 > 0 && b.P99 > 0 {
					// The budget is relative: on a 2-core machine the load
					// generator shares the cores, so an absolute p99/p50
					// mostly measures the machine (reported beside it).
					x := float64(a.P99) / float64(b.P99)
					target := 0.7 * s.Baseline.Rate
					add(db.Name+": read p99 vs baseline p99, same offered rate", "<= 1.5x", fmt.Sprintf("%.2fx (at %.0f req/s: p99 %.2f vs %.2f ms; p99/p50 %.1f vs %.1f; %d errors; achieved %.0f and %.0f)",
						x, target, ms(a.P99), ms(b.P99), float64(a.P99)/float64(a.P50), float64(b.P99)/float64(max(b.P50, 1)), a.Errors, a.Rate, b.Rate),
						// A rate the application did not sustain is a miss.
						x <= 1.5 && a.Errors == 0 && a.Rate >= 0.95*target)
				}
			case s.Name == peerScenario:
				add(db.Name+": read path vs "+s.BaseName, ">= 4x", fmt.Sprintf("%.2fx (%.0f vs %.0f req/s)", s.Ratio, s.App.Rate, s.Baseline.Rate), s.Ratio >= 4)
			case strings.HasPrefix(s.Name, "POST /api/auth/login (password, "):
				var first *report.Measure
				for _, o := range db.Scenarios {
					if o.Name == "POST /api/auth/login (password)" {
						first = o.App
					}
				}
				if first != nil {
					bound := first.PeakRSS + first.PeakRSS/4 + 16<<20
					add(db.Name+": login flood memory bounded", fmt.Sprintf("peak with %dx the clients <= 1.25 x peak + 16 MiB (%s)", 4, report.MiB(bound)),
						fmt.Sprintf("%s with %d clients, %s with %d", report.MiB(first.PeakRSS), h.o.workers, report.MiB(s.App.PeakRSS), 4*h.o.workers), s.App.PeakRSS <= bound)
				}
			case strings.HasPrefix(s.Name, "POST /api/auth/login (password)"):
				// CPU per login against CPU per raw hash with the same
				// parameters: what is not hashing (signing, database writes,
				// throttling bookkeeping) is the difference.
				var cpuRatio float64
				if s.Baseline != nil && s.Baseline.CPUPerReqUS > 0 {
					cpuRatio = s.App.CPUPerReqUS / s.Baseline.CPUPerReqUS
				}
				add(db.Name+": CPU per login vs per raw argon2id hash", "<= 1.10x",
					fmt.Sprintf("%.2fx (%.1f ms CPU per login, %.1f ms per raw hash; wall-clock rate ratio %.2fx)",
						cpuRatio, s.App.CPUPerReqUS/1000, s.Baseline.CPUPerReqUS/1000, s.Ratio), cpuRatio > 0 && cpuRatio <= 1.1)
			}
			if s.App != nil && s.App.Errors > 0 {
				add(db.Name+": "+s.Name+" errors", "0", fmt.Sprint(s.App.Errors), false)
			}
		}
		h.run.Budgets = append(h.run.Budgets, authzBudgets(db.Name, db.Scenarios)...)
		if rp := db.Replicas; rp != nil {
			var lags []float64
			for _, r := range rp.Rounds {
				lags = append(lags, r.LagMS)
			}
			slices.Sort(lags)
			v := fmt.Sprintf("%d stale, %d unexpected, of %d answers in %d rounds; first answer showing the change %.2f ms after the response (median; max %.2f ms)",
				rp.Stale, rp.Errors, rp.After, len(rp.Rounds), lags[len(lags)/2], lags[len(lags)-1])
			// Reported beside it, not a goal of its own: with A, B,
			// Postgres and the load on two cores, the ratio measures the
			// sharing as much as the reloads.
			if a, u := rp.ReadAlone, rp.ReadUnderEdits; a != nil && u != nil && a.Rate > 0 {
				v += fmt.Sprintf("; B's read rate while A edits a role %.2fx of alone", u.Rate/a.Rate)
			}
			add(db.Name+": authorization change on one replica, stale answers from another", "0 after the change's response", v,
				rp.Stale == 0 && rp.Errors == 0 && rp.After > 0)
		}
		if sk := db.Soak; sk != nil && len(sk.Samples) > 1 {
			first, last := sk.Samples[0], sk.Samples[len(sk.Samples)-1]
			peakRSS, peakG := int64(0), 0
			for _, x := range sk.Samples {
				peakRSS, peakG = max(peakRSS, x.RSS), max(peakG, x.Goroutines)
			}
			add(db.Name+": soak errors", "0", fmt.Sprintf("%d of %d", sk.Result.Errors, sk.Result.Requests), sk.Result.Errors == 0 && sk.Result.Requests > 0)
			add(db.Name+": soak RSS growth", "peak <= first sample + 16 MiB", fmt.Sprintf("%s -> %s (peak %s)", report.MiB(first.RSS), report.MiB(last.RSS), report.MiB(peakRSS)), peakRSS <= first.RSS+16<<20)
			add(db.Name+": soak goroutines", "peak <= first sample + 16", fmt.Sprintf("%d -> %d (peak %d)", first.Goroutines, last.Goroutines, peakG), first.Goroutines > 0 && peakG <= first.Goroutines+16)
		}
	}
	h.run.Budgets = append(h.run.Budgets, goBenchBudgets(h.run.GoBenchmarks)...)
	for _, b := range h.run.Builds {
		if strings.HasPrefix(b.Rev, "HEAD ") {
			add("idle RSS ("+b.DB+")", "<= 30 MB", report.MiB(b.IdleRSS), b.IdleRSS <= 30e6)
			add("cold start to ready ("+b.DB+", migrated)", "<= 100 ms", fmt.Sprintf("%.1f ms", b.ColdStartMS), b.ColdStartMS <= 100)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
