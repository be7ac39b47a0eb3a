// Package config reads the environment into one typed, validated Config.
//
// Every variable is read through a loader that records its name, so that an
// invalid value is reported by the variable's name and a test can prove that
// .env.example documents every variable the program reads.
package config

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/monolith/platform/buildinfo"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Config is the whole configuration. Sections are provided to fx separately
// so a package depends only on the part it reads.
type Config struct {
	Env      string
	LogLevel string
	LogFx    bool
	HTTP     HTTP
	Database Database
	Password Password
	// Telemetry configures metrics and tracing.
	Telemetry Telemetry
	Sessions  Sessions
	Mail      Mail
}

// HTTP configures the API server.
type HTTP struct {
	Addr            string
	PublicURL       string
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	// ShutdownDelay keeps serving (with readiness failing) this long after
	// SIGTERM before draining, for load balancers that poll readiness.
	ShutdownDelay time.Duration
	// ShutdownIdleGrace: during the drain, a keep-alive connection is
	// closed once it has been idle this long (busy ones close after their
	// response, which says Connection: close).
	ShutdownIdleGrace time.Duration
	// BodyLimit is the largest request body of an operation that does not
	// choose its own (httpserver.WithBodyLimit).
	BodyLimit int
	// MaxConns caps open connections; MaxConnsPerIP caps them per client
	// address (per /64 for IPv6), trusted proxies exempt. 0: no cap.
	MaxConns      int
	MaxConnsPerIP int
	Docs          bool
	// PprofAddr, when set, serves net/http/pprof on a separate loopback
	// listener (DEBUG_PPROF_ADDR), never on the API port.
	PprofAddr string
}

// Database configures the connection pool and migration policy.
type Database struct {
	URL string
	// DirectURL reaches Postgres without a transaction pooler in between,
	// for what needs one session throughout: the LISTEN connection and
	// migrations (their session advisory lock). Empty: URL itself (kept
	// empty rather than copied, so that code changing URL needs no care).
	DirectURL       string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// MigrateOnStart applies pending migrations when serving a Postgres
	// database. SQLite (the local default) always migrates on start.
	MigrateOnStart bool
	// DevURL is a Postgres server where `app-dev migrate diff` may create and
	// drop a scratch database to plan the next migration.
	DevURL string
	// AllowInsecureTransport lets production reach a remote Postgres
	// without TLS, for a sidecar or service mesh that encrypts the hop.
	AllowInsecureTransport bool
	// QueryTimeout bounds every database call (waiting for a pooled
	// connection, each statement, a transaction's begin and commit) and is
	// Postgres's statement_timeout, so a frozen or partitioned server
	// costs a request this long and a 503, not the length of the outage.
	// 0 turns both off.
	QueryTimeout time.Duration
}

// DefaultQueryTimeout is DB_QUERY_TIMEOUT's default.
const DefaultQueryTimeout = 5 * time.Second

// Sessions holds the key-encryption key and the HTTP edge: the secret
// the auth module seals signing keys with and the attempt limiter keys its
// counters with, and who the proxies and browser origins are.
type Sessions struct {
	// KeyEncryptionKey seals signing keys stored in the database (32 bytes).
	KeyEncryptionKey []byte
	TrustedProxies   []string // peers whose ProxyHeader is believed
	ProxyHeader      string
	CORSOrigins      []string
	CORSCredentials  bool
	HSTS             bool
	// StepUpMaxAge is how recent a sign-in the sensitive operations need.
	StepUpMaxAge time.Duration
}

// Mail configures outgoing email. Without SMTPHost, messages are logged
// (development only).
type Mail struct {
	SMTPHost     string
	SMTPPort     int
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string
	SMTPTLS      string // starttls, tls or none
}

// Password configures argon2id hashing.
type Password struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	Concurrency int // hashes computed at once; each takes MemoryKiB of RAM
	// Queue is how many requests may wait for a slot; more are refused
	// at once (503). QueueTimeout is how long each may wait.
	Queue        int
	QueueTimeout time.Duration
}

// Telemetry configures /metrics and OpenTelemetry tracing.
type Telemetry struct {
	// MetricsAddr is where /metrics listens, apart from the API so it is
	// never exposed through the ingress; "off" disables it.
	MetricsAddr string
	// OTLPEndpoint (an http(s) URL) turns tracing on; empty leaves it off.
	OTLPEndpoint string
	ServiceName  string
	SampleRatio  float64
}

// MetricsOff is the METRICS_ADDR value that disables the metrics listener.
const MetricsOff = "off"

// IsProduction reports whether the program runs with production defaults.
func (c Config) IsProduction() bool { return c.Env == Production }

// OWASP's minimum for argon2id (Password Storage Cheat Sheet).
const (
	minMemoryKiB  = 19456
	minIterations = 2
)

// DefaultDatabaseURL is the zero-setup local database.
const DefaultDatabaseURL = "sqlite://./var/app.db"

// Load reads the process environment (and, in development, .env),
// every section.
func Load() (Config, error) { return LoadSections(AllSections) }

// FromSource reads every platform section from src.
func FromSource(src *Source) (Config, error) { return LoadSectionsFrom(src.Lookup, AllSections) }

// LoadFrom reads every section through lookup (os.LookupEnv in
// production, a map in tests).
func LoadFrom(lookup func(string) (string, bool)) (Config, error) {
	return LoadSectionsFrom(lookup, AllSections)
}

// LoadSectionsFrom reads configuration through lookup, validating only
// the sections in uses and leaving the others zero. Every variable is
// still looked up, so Names sees them all.
func LoadSectionsFrom(lookup func(string) (string, bool), uses Section) (Config, error) {
	l := &loader{lookup: lookup, uses: uses}
	var c Config
	c.load(l)
	c.zeroUnused(uses)
	return c, l.err()
}

// load reads every section through l.
func (c *Config) load(l *loader) {
	c.Env = l.oneOf("APP_ENV", Development, Development, Production)
	prod := c.Env == Production
	c.LogLevel = l.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	c.LogFx = l.boolean("LOG_FX_EVENTS", false)

	l.section = HTTPSection
	c.HTTP = HTTP{
		Addr:              l.str("HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:         l.str("PUBLIC_URL", ""),
		ReadTimeout:       l.duration("HTTP_READ_TIMEOUT", 15*time.Second),
		WriteTimeout:      l.duration("HTTP_WRITE_TIMEOUT", 30*time.Second),
		IdleTimeout:       l.duration("HTTP_IDLE_TIMEOUT", 60*time.Second),
		ShutdownTimeout:   l.duration("HTTP_SHUTDOWN_TIMEOUT", 20*time.Second),
		ShutdownDelay:     l.durationOrZero("HTTP_SHUTDOWN_DELAY", 0),
		ShutdownIdleGrace: l.duration("HTTP_SHUTDOWN_IDLE_GRACE", time.Second),
		BodyLimit:         l.integer("HTTP_BODY_LIMIT", 64<<10, 1024, 64<<20),
		MaxConns:          l.integer("HTTP_MAX_CONNS", 2048, 0, 1000000),
		MaxConnsPerIP:     l.integer("HTTP_MAX_CONNS_PER_IP", 64, 0, 1000000),
		Docs:              l.boolean("HTTP_DOCS", true),
		PprofAddr:         l.str("DEBUG_PPROF_ADDR", ""),
	}
	if c.HTTP.ShutdownIdleGrace >= c.HTTP.ShutdownTimeout {
		l.fail("HTTP_SHUTDOWN_IDLE_GRACE", "must be shorter than HTTP_SHUTDOWN_TIMEOUT: idle connections are closed within it")
	}
	if a := c.HTTP.PprofAddr; a != "" && !isLoopback(a) {
		l.fail("DEBUG_PPROF_ADDR", "must be a loopback host:port (127.0.0.1, ::1 or localhost): profiles expose internals")
	}
	if c.HTTP.PublicURL == "" {
		c.HTTP.PublicURL = "http://" + c.HTTP.Addr
	} else if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail("PUBLIC_URL", "must be an absolute http(s) URL")
	}
	if prod && !securePublicURL(c.HTTP.PublicURL) {
		l.fail("PUBLIC_URL", "must be the https:// URL clients use in production (e.g. https://api.example.com, also behind a TLS-terminating ingress): "+
			"password-reset links are built from it and HSTS is on; only a loopback host may use http")
	}

	l.section = DatabaseSection
	c.Database = Database{
		URL:                    l.str("DATABASE_URL", DefaultDatabaseURL),
		DirectURL:              l.str("DATABASE_DIRECT_URL", ""),
		MaxOpenConns:           l.integer("DB_MAX_OPEN_CONNS", 20, 1, 1000),
		MaxIdleConns:           l.integer("DB_MAX_IDLE_CONNS", 10, 0, 1000),
		ConnMaxLifetime:        l.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute),
		ConnMaxIdleTime:        l.duration("DB_CONN_MAX_IDLE_TIME", 5*time.Minute),
		MigrateOnStart:         l.boolean("MIGRATE_ON_START", false),
		DevURL:                 l.str("MIGRATE_DEV_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		AllowInsecureTransport: l.boolean("DATABASE_ALLOW_INSECURE_TRANSPORT", false),
		QueryTimeout:           l.durationOrZero("DB_QUERY_TIMEOUT", DefaultQueryTimeout),
	}
	if l.uses&HTTPSection != 0 && c.Database.QueryTimeout >= c.HTTP.WriteTimeout {
		l.fail("DB_QUERY_TIMEOUT", "must be shorter than HTTP_WRITE_TIMEOUT, so that a request waiting on the database still gets its 503")
	}
	if !strings.HasPrefix(c.Database.URL, "sqlite://") && !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") {
		l.fail("DATABASE_URL", "must start with postgres://, postgresql:// or sqlite://")
	}
	if c.Database.DirectURL != "" && (!strings.HasPrefix(c.Database.URL, "postgres") || !strings.HasPrefix(c.Database.DirectURL, "postgres://") && !strings.HasPrefix(c.Database.DirectURL, "postgresql://")) {
		l.fail("DATABASE_DIRECT_URL", "must be a postgres:// URL, and only with a Postgres DATABASE_URL (the same database, bypassing the pooler)")
	}

	// The loader bounds each value, so the narrowing conversions are safe.
	l.section = PasswordSection
	c.Password = Password{
		MemoryKiB:   uint32(l.integer("PASSWORD_HASH_MEMORY_KIB", minMemoryKiB, 8, 4<<20)), //nolint:gosec // bounded above
		Iterations:  uint32(l.integer("PASSWORD_HASH_ITERATIONS", minIterations, 1, 100)),  //nolint:gosec // bounded above
		Parallelism: uint8(l.integer("PASSWORD_HASH_PARALLELISM", 1, 1, 64)),               //nolint:gosec // bounded above
		Concurrency: l.integer("PASSWORD_HASH_CONCURRENCY", runtime.GOMAXPROCS(0), 1, 1024),
	}
	// Waiters hold no hashing memory; eight per slot is about 0.3 s of
	// queue at the production parameters, well inside the timeout.
	c.Password.Queue = l.integer("PASSWORD_HASH_QUEUE", 8*c.Password.Concurrency, 0, 1<<20)
	c.Password.QueueTimeout = l.durationOrZero("PASSWORD_HASH_QUEUE_TIMEOUT", 2*time.Second)
	if c.Password.QueueTimeout > 30*time.Second {
		l.fail("PASSWORD_HASH_QUEUE_TIMEOUT", "must be at most 30s: a login waiting longer has usually been given up by its client")
	}

	l.section = TelemetrySection
	c.Telemetry = loadTelemetry(l)
	c.loadSessions(l, prod)

	if prod {
		c.checkProduction(l)
	}
}

// developmentKEK seals signing keys in development when
// JWT_KEY_ENCRYPTION_KEY is unset. It is public, so production refuses it.
var developmentKEK = sha256.Sum256([]byte(buildinfo.Service + " development key-encryption key; never use in production"))

func (c *Config) loadSessions(l *loader, prod bool) {
	l.section = SessionsSection
	s := Sessions{
		TrustedProxies:  l.list("TRUSTED_PROXIES"),
		ProxyHeader:     l.str("PROXY_HEADER", "X-Forwarded-For"),
		CORSOrigins:     l.list("CORS_ALLOWED_ORIGINS"),
		CORSCredentials: l.boolean("CORS_ALLOW_CREDENTIALS", false),
		HSTS:            prod,
		StepUpMaxAge:    l.duration("AUTH_STEP_UP_MAX_AGE", 10*time.Minute),
	}
	if s.StepUpMaxAge < time.Minute || s.StepUpMaxAge > 24*time.Hour {
		l.fail("AUTH_STEP_UP_MAX_AGE", "must be between 1m and 24h")
	}
	for _, p := range s.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				l.fail("TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP address or CIDR", p))
			}
		}
	}
	for _, o := range s.CORSOrigins {
		if o == "*" && s.CORSCredentials {
			l.fail("CORS_ALLOWED_ORIGINS", "a wildcard origin cannot be combined with CORS_ALLOW_CREDENTIALS=true")
		} else if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "") {
			l.fail("CORS_ALLOWED_ORIGINS", fmt.Sprintf("%q is not an origin such as https://app.example.com", o))
		}
	}
	switch kek := l.str("JWT_KEY_ENCRYPTION_KEY", ""); {
	case kek == "" && prod:
		l.fail("JWT_KEY_ENCRYPTION_KEY", "must be set in production (32 random bytes, base64): it seals the signing keys stored in the database")
	case kek == "":
		s.KeyEncryptionKey = developmentKEK[:]
	default:
		b, err := base64.StdEncoding.DecodeString(kek)
		switch {
		case err != nil || len(b) != 32:
			l.fail("JWT_KEY_ENCRYPTION_KEY", "must be 32 bytes, base64-encoded (openssl rand -base64 32)")
		case prod:
			if why := weakKEK(b); why != "" {
				l.fail("JWT_KEY_ENCRYPTION_KEY", why+"; production needs 32 random bytes (openssl rand -base64 32)")
			}
		}
		s.KeyEncryptionKey = b
	}
	c.Sessions = s

	l.section = MailSection
	c.Mail = Mail{
		SMTPHost:     l.str("SMTP_HOST", ""),
		SMTPPort:     l.integer("SMTP_PORT", 587, 1, 65535),
		SMTPFrom:     l.str("SMTP_FROM", ""),
		SMTPUsername: l.str("SMTP_USERNAME", ""),
		SMTPPassword: l.str("SMTP_PASSWORD", ""),
		SMTPTLS:      l.oneOf("SMTP_TLS", "starttls", "starttls", "tls", "none"),
	}
	if c.Mail.SMTPHost != "" {
		if _, err := mail.ParseAddress(c.Mail.SMTPFrom); err != nil {
			l.fail("SMTP_FROM", "must be an email address when SMTP_HOST is set")
		}
		if ip := net.ParseIP(c.Mail.SMTPHost); c.Mail.SMTPTLS == "none" && c.Mail.SMTPUsername != "" &&
			c.Mail.SMTPHost != "localhost" && (ip == nil || !ip.IsLoopback()) {
			l.fail("SMTP_TLS", "none would send SMTP_PASSWORD unencrypted to a remote relay; use starttls or tls")
		}
	}
}

// checkProduction refuses development conveniences: every secret must be
// given explicitly and none may be a placeholder from .env.example.
func (c *Config) checkProduction(l *loader) {
	l.section = DatabaseSection
	if _, set := l.lookup("DATABASE_URL"); !set {
		l.fail("DATABASE_URL", "must be set explicitly in production")
	} else if u, err := url.Parse(c.Database.URL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && isPlaceholder(pw) {
			l.fail("DATABASE_URL", "its password is a placeholder; use the real secret")
		}
	}
	if _, set := l.lookup("DATABASE_DIRECT_URL"); set {
		if u, err := url.Parse(c.Database.DirectURL); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && isPlaceholder(pw) {
				l.fail("DATABASE_DIRECT_URL", "its password is a placeholder; use the real secret")
			}
		}
	}
	if !c.Database.AllowInsecureTransport {
		if why := insecurePostgres(c.Database.URL); why != "" {
			l.fail("DATABASE_URL", why)
		}
		if why := insecurePostgres(c.Database.DirectURL); why != "" && c.Database.DirectURL != "" {
			l.fail("DATABASE_DIRECT_URL", why)
		}
	}
	l.section = PasswordSection
	if c.Password.MemoryKiB < minMemoryKiB || c.Password.Iterations < minIterations {
		l.fail("PASSWORD_HASH_MEMORY_KIB", fmt.Sprintf("argon2id parameters below OWASP minimum (m=%d KiB, t=%d) are refused in production", minMemoryKiB, minIterations))
	}
}

// placeholders are values shipped in .env.example and the usual stand-ins.
var placeholders = []string{"changethis", "changeme", "change-me", "change_me", "placeholder", "secret", "password", "example"}

// IsPlaceholder reports whether a secret is one of the stand-ins that
// production refuses.
func IsPlaceholder(v string) bool { return isPlaceholder(v) }

func isPlaceholder(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return false
	}
	return slices.ContainsFunc(placeholders, func(p string) bool { return strings.Contains(v, p) && len(v) < len(p)+8 })
}

// isLoopback reports whether host:port names a loopback interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

type loader struct {
	lookup func(string) (string, bool)
	// note, when set, hears every variable read with its default.
	note    func(name, def string, section Section)
	uses    Section // the sections whose problems are reported
	section Section // the section being read; 0 for the ones every command uses
	errs    []error
}

// Names lists every variable Load reads, in order; .env.example is tested
// against it.
func Names() []string {
	var names []string
	record := func(name string) (string, bool) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return "", false
	}
	_, _ = LoadFrom(record)
	return names
}

func (l *loader) fail(name, msg string) {
	if l.section != 0 && l.uses&l.section == 0 {
		return // a section this command does not use
	}
	l.errs = append(l.errs, fmt.Errorf("%s: %s", name, msg))
}

func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return invalid(l.errs)
}

// invalid is every problem found, printed on one line so that a refused
// start ends with one line an operator can act on.
type invalid []error

func (e invalid) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return "invalid configuration: " + strings.Join(msgs, "; ")
}

func (e invalid) Unwrap() []error { return e }

func (l *loader) str(name, def string) string {
	if l.note != nil {
		l.note(name, def, l.section)
	}
	return l.raw(name, def)
}

func (l *loader) raw(name, def string) string {
	if v, ok := l.lookup(name); ok && v != "" {
		return v
	}
	return def
}

// FormatDuration writes d as people do: 15m, 1h, 336h, 2s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// list reads a comma-separated value, trimming blanks.
func (l *loader) list(name string) []string {
	var out []string
	for p := range strings.SplitSeq(l.str(name, ""), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := l.str(name, def)
	if v == "" {
		v = def
	}
	if !slices.Contains(allowed, v) {
		l.fail(name, fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
	}
	return v
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.str(name, strconv.FormatBool(def))
	if v == strconv.FormatBool(def) {
		return def
	}
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not a boolean (use true or false)", v))
		return def
	}
	return b
}

func (l *loader) integer(name string, def, lo, hi int) int {
	l.str(name, strconv.Itoa(def))
	v := l.raw(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		l.fail(name, fmt.Sprintf("%q is not an integer between %d and %d", v, lo, hi))
		return def
	}
	return n
}

// durationOrZero is duration where 0 (off) is allowed.
func (l *loader) durationOrZero(name string, def time.Duration) time.Duration {
	if v := l.raw(name, ""); v == "0" || v == "0s" {
		l.str(name, FormatDuration(def))
		return 0
	}
	return l.duration(name, def)
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	l.str(name, FormatDuration(def))
	v := l.raw(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, fmt.Sprintf("%q is not a positive duration such as 30s or 15m", v))
		return def
	}
	return d
}
