// Package config reads the environment into one typed, validated Config.
//
// Every variable is read through a loader that records its name, so that an
// invalid value is reported by the variable's name and a test can prove that
// .env.example documents every variable the program reads.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
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
	Auth     Auth
	Users    Users
	Password Password
}

// HTTP configures the API server.
type HTTP struct {
	Addr            string
	PublicURL       string
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	BodyLimit       int
	Docs            bool
	// PprofAddr, when set, serves net/http/pprof on a separate loopback
	// listener (DEBUG_PPROF_ADDR), never on the API port.
	PprofAddr string
}

// Database configures the connection pool and migration policy.
type Database struct {
	URL             string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// MigrateOnStart applies pending migrations when serving a Postgres
	// database. SQLite (the local default) always migrates on start.
	MigrateOnStart bool
	// DevURL is a Postgres server where `app migrate diff` may create and
	// drop a scratch database to plan the next migration.
	DevURL string
}

// Auth configures access tokens.
type Auth struct {
	Issuer         string
	Audience       string
	AccessTokenTTL time.Duration
	PrivateKeyPEM  string // JWT_PRIVATE_KEY: the PEM itself (from a Secret)
	PrivateKeyFile string // JWT_PRIVATE_KEY_FILE: a path to the PEM
}

// Users configures the users module.
type Users struct {
	FirstSuperuserEmail    string
	FirstSuperuserPassword string
	SignupEnabled          bool // open self-registration at POST /api/auth/register
}

// Password configures argon2id hashing.
type Password struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	Concurrency int // hashes computed at once; each takes MemoryKiB of RAM
}

// IsProduction reports whether the program runs with production defaults.
func (c Config) IsProduction() bool { return c.Env == Production }

// OWASP's minimum for argon2id (Password Storage Cheat Sheet).
const (
	minMemoryKiB  = 19456
	minIterations = 2
)

// DefaultSigningKeyFile is where development keeps its generated key.
const DefaultSigningKeyFile = "./var/jwt-signing-key.pem"

// DefaultDatabaseURL is the zero-setup local database.
const DefaultDatabaseURL = "sqlite://./var/app.db"

// Load reads the process environment.
func Load() (Config, error) { return LoadFrom(os.LookupEnv) }

// LoadFrom reads configuration through lookup (os.LookupEnv in production,
// a map in tests).
func LoadFrom(lookup func(string) (string, bool)) (Config, error) {
	l := &loader{lookup: lookup}
	var c Config
	c.Env = l.oneOf("APP_ENV", Development, Development, Production)
	prod := c.Env == Production
	c.LogLevel = l.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")
	c.LogFx = l.boolean("LOG_FX_EVENTS", false)

	c.HTTP = HTTP{
		Addr:            l.str("HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:       l.str("PUBLIC_URL", ""),
		ReadTimeout:     l.duration("HTTP_READ_TIMEOUT", 15*time.Second),
		WriteTimeout:    l.duration("HTTP_WRITE_TIMEOUT", 30*time.Second),
		IdleTimeout:     l.duration("HTTP_IDLE_TIMEOUT", 60*time.Second),
		ShutdownTimeout: l.duration("HTTP_SHUTDOWN_TIMEOUT", 20*time.Second),
		BodyLimit:       l.integer("HTTP_BODY_LIMIT", 1<<20, 1024, 64<<20),
		Docs:            l.boolean("HTTP_DOCS", true),
		PprofAddr:       l.str("DEBUG_PPROF_ADDR", ""),
	}
	if a := c.HTTP.PprofAddr; a != "" && !isLoopback(a) {
		l.fail("DEBUG_PPROF_ADDR", "must be a loopback host:port (127.0.0.1, ::1 or localhost): profiles expose internals")
	}
	if c.HTTP.PublicURL == "" {
		c.HTTP.PublicURL = "http://" + c.HTTP.Addr
	} else if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail("PUBLIC_URL", "must be an absolute http(s) URL")
	}

	c.Database = Database{
		URL:             l.str("DATABASE_URL", DefaultDatabaseURL),
		MaxOpenConns:    l.integer("DB_MAX_OPEN_CONNS", 20, 1, 1000),
		MaxIdleConns:    l.integer("DB_MAX_IDLE_CONNS", 10, 0, 1000),
		ConnMaxLifetime: l.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute),
		ConnMaxIdleTime: l.duration("DB_CONN_MAX_IDLE_TIME", 5*time.Minute),
		MigrateOnStart:  l.boolean("MIGRATE_ON_START", false),
		DevURL:          l.str("MIGRATE_DEV_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
	}
	if !strings.HasPrefix(c.Database.URL, "sqlite://") && !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") {
		l.fail("DATABASE_URL", "must start with postgres://, postgresql:// or sqlite://")
	}

	c.Auth = Auth{
		Issuer:         l.str("JWT_ISSUER", "monolith"),
		Audience:       l.str("JWT_AUDIENCE", "monolith-api"),
		AccessTokenTTL: l.duration("ACCESS_TOKEN_TTL", 15*time.Minute),
		PrivateKeyPEM:  l.str("JWT_PRIVATE_KEY", ""),
		PrivateKeyFile: l.str("JWT_PRIVATE_KEY_FILE", ""),
	}
	if c.Auth.AccessTokenTTL < time.Minute || c.Auth.AccessTokenTTL > 24*time.Hour {
		l.fail("ACCESS_TOKEN_TTL", "must be between 1m and 24h")
	}
	if c.Auth.Issuer == "" {
		l.fail("JWT_ISSUER", "must not be empty")
	}
	if c.Auth.Audience == "" {
		l.fail("JWT_AUDIENCE", "must not be empty")
	}
	if c.Auth.PrivateKeyPEM != "" && c.Auth.PrivateKeyFile != "" {
		l.fail("JWT_PRIVATE_KEY", "set either JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE, not both")
	}

	c.Users = Users{
		FirstSuperuserEmail:    l.str("FIRST_SUPERUSER_EMAIL", ""),
		FirstSuperuserPassword: l.str("FIRST_SUPERUSER_PASSWORD", ""),
		SignupEnabled:          l.boolean("SIGNUP_ENABLED", true),
	}
	if (c.Users.FirstSuperuserEmail == "") != (c.Users.FirstSuperuserPassword == "") {
		l.fail("FIRST_SUPERUSER_PASSWORD", "FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD must be set together")
	}

	// The loader bounds each value, so the narrowing conversions are safe.
	c.Password = Password{
		MemoryKiB:   uint32(l.integer("PASSWORD_HASH_MEMORY_KIB", minMemoryKiB, 8, 4<<20)), //nolint:gosec // bounded above
		Iterations:  uint32(l.integer("PASSWORD_HASH_ITERATIONS", minIterations, 1, 100)),  //nolint:gosec // bounded above
		Parallelism: uint8(l.integer("PASSWORD_HASH_PARALLELISM", 1, 1, 64)),               //nolint:gosec // bounded above
		Concurrency: l.integer("PASSWORD_HASH_CONCURRENCY", runtime.GOMAXPROCS(0), 1, 1024),
	}

	if prod {
		c.checkProduction(l)
	} else if c.Auth.PrivateKeyPEM == "" && c.Auth.PrivateKeyFile == "" {
		c.Auth.PrivateKeyFile = DefaultSigningKeyFile
	}
	return c, l.err()
}

// checkProduction refuses development conveniences: every secret must be
// given explicitly and none may be a placeholder from .env.example.
func (c *Config) checkProduction(l *loader) {
	if _, set := l.lookup("DATABASE_URL"); !set {
		l.fail("DATABASE_URL", "must be set explicitly in production")
	} else if u, err := url.Parse(c.Database.URL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && isPlaceholder(pw) {
			l.fail("DATABASE_URL", "its password is a placeholder; use the real secret")
		}
	}
	if c.Auth.PrivateKeyPEM == "" && c.Auth.PrivateKeyFile == "" {
		l.fail("JWT_PRIVATE_KEY", "a signing key must be provided in production (JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE)")
	}
	if isPlaceholder(c.Auth.PrivateKeyPEM) {
		l.fail("JWT_PRIVATE_KEY", "is a placeholder; provide a real PEM private key")
	}
	if c.Users.FirstSuperuserPassword != "" && isPlaceholder(c.Users.FirstSuperuserPassword) {
		l.fail("FIRST_SUPERUSER_PASSWORD", "is a placeholder; choose a real password")
	}
	if c.Password.MemoryKiB < minMemoryKiB || c.Password.Iterations < minIterations {
		l.fail("PASSWORD_HASH_MEMORY_KIB", fmt.Sprintf("argon2id parameters below OWASP minimum (m=%d KiB, t=%d) are refused in production", minMemoryKiB, minIterations))
	}
}

// placeholders are values shipped in .env.example and the usual stand-ins.
var placeholders = []string{"changethis", "changeme", "change-me", "change_me", "placeholder", "secret", "password", "example"}

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
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type loader struct {
	lookup func(string) (string, bool)
	errs   []error
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
	l.errs = append(l.errs, fmt.Errorf("%s: %s", name, msg))
}

func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", errors.Join(l.errs...))
}

func (l *loader) str(name, def string) string {
	if v, ok := l.lookup(name); ok && v != "" {
		return v
	}
	return def
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := l.str(name, def)
	if !slices.Contains(allowed, v) {
		l.fail(name, fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
	}
	return v
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.str(name, "")
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
	v := l.str(name, "")
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

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := l.str(name, "")
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
