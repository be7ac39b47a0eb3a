// Command baseline is the benchmark's yardstick: a minimal fiber server
// that does by hand the work the application does for the measured
// read and write paths (parse and verify the same RS256 access token,
// run the same SQL through the same drivers, encode the same JSON) with
// no framework layers, dependency injection, middleware or logging. The
// harness reports each application scenario as a ratio to it.
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	dbURL := flag.String("db", "", "postgres://... or sqlite://PATH (the application's DATABASE_URL)")
	keyFile := flag.String("key", "", "PEM file of the RS256 signing key the application uses")
	// The defaults of JWT_ISSUER and JWT_AUDIENCE (the auth module's settings).
	issuer := flag.String("issuer", buildinfo.Service, "expected iss")
	audience := flag.String("audience", buildinfo.Service+"-api", "expected aud")
	hash := flag.Duration("hash", 0, "instead of serving: compute argon2id hashes with the application's parameters (from PASSWORD_HASH_* and APP_ENV) for this long, and print their count and CPU time as JSON")
	workers := flag.Int("workers", runtime.NumCPU(), "goroutines hashing at once (with -hash)")
	flag.Parse()
	if *hash > 0 {
		if err := printHashLoop(*workers, *hash); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(*addr, *dbURL, *keyFile, *issuer, *audience); err != nil {
		log.Fatal(err)
	}
}

type server struct {
	db     *sql.DB
	pg     bool
	key    *rsa.PublicKey
	parser *jwt.Parser
}

func run(addr, dbURL, keyFile, issuer, audience string) error {
	pemBytes, err := os.ReadFile(keyFile) //nolint:gosec // the operator names the file
	if err != nil {
		return err
	}
	key, err := publicKey(pemBytes)
	if err != nil {
		return err
	}
	// Opened as the application opens it (the same drivers, SQLite's
	// statements kept prepared per connection), with the application's
	// pool defaults.
	opened, err := database.Open(config.Database{URL: dbURL, MaxOpenConns: 20, MaxIdleConns: 10})
	if err != nil {
		return err
	}
	defer func() { _ = opened.Close() }()
	app := newApp(newServer(opened.SQL, opened.Dialect == dialect.Postgres, key, issuer, audience))
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		_ = app.Shutdown()
	}()
	return app.Listen(addr)
}

func newServer(db *sql.DB, pg bool, key *rsa.PublicKey, issuer, audience string) *server {
	return &server{
		db: db, pg: pg, key: key,
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second)),
	}
}

func newApp(s *server) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second})
	app.Get("/readyz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/api/users/me", s.me)
	app.Patch("/api/users/me", s.patchMe)
	app.Get("/api/users", s.list)
	return app
}

func publicKey(p []byte) (*rsa.PublicKey, error) {
	b, _ := pem.Decode(p)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		rk, err2 := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err2 != nil {
			return nil, err
		}
		return &rk.PublicKey, nil
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return &rk.PublicKey, nil
}

// q rewrites $N placeholders for SQLite, which takes ?.
func (s *server) q(query string) string {
	if s.pg {
		return query
	}
	for i := 9; i >= 1; i-- {
		query = strings.ReplaceAll(query, "$"+strconv.Itoa(i), "?")
	}
	return query
}

type user struct {
	ID          uuid.UUID `json:"id"`
	Email       string    `json:"email"`
	FullName    string    `json:"full_name"`
	IsActive    bool      `json:"is_active"`
	IsSuperuser bool      `json:"is_superuser"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const userCols = "id, email, full_name, is_active, is_superuser, created_at, updated_at"

type scanner interface{ Scan(...any) error }

func scanUser(r scanner) (user, error) {
	var u user
	err := r.Scan(&u.ID, &u.Email, &u.FullName, &u.IsActive, &u.IsSuperuser, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// caller verifies the bearer token and loads the active account: the
// current-user check every protected route pays.
func (s *server) caller(c *fiber.Ctx) (user, error) {
	h := c.Get(fiber.HeaderAuthorization)
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return user{}, fiber.ErrUnauthorized
	}
	var claims jwt.RegisteredClaims
	_, err := s.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, "at+jwt") {
			return nil, errors.New("typ")
		}
		return s.key, nil
	})
	if err != nil {
		return user{}, fiber.ErrUnauthorized
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return user{}, fiber.ErrUnauthorized
	}
	u, err := scanUser(s.db.QueryRowContext(c.UserContext(), s.q("SELECT "+userCols+" FROM users WHERE id = $1"), id))
	if err != nil || !u.IsActive {
		return user{}, fiber.ErrUnauthorized
	}
	return u, nil
}

func (s *server) me(c *fiber.Ctx) error {
	u, err := s.caller(c)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *server) patchMe(c *fiber.Ctx) error {
	u, err := s.caller(c)
	if err != nil {
		return err
	}
	var in struct {
		FullName *string `json:"full_name"`
	}
	if err := json.Unmarshal(c.Body(), &in); err != nil || in.FullName == nil {
		return fiber.ErrBadRequest
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u, err = scanUser(s.db.QueryRowContext(c.UserContext(),
		s.q("UPDATE users SET full_name = $1, updated_at = $2 WHERE id = $3 RETURNING "+userCols), *in.FullName, now, u.ID))
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return c.JSON(u)
}

func (s *server) list(c *fiber.Ctx) error {
	u, err := s.caller(c)
	if err != nil {
		return err
	}
	if !u.IsSuperuser {
		return fiber.ErrForbidden
	}
	limit := c.QueryInt("limit", 20)
	offset := c.QueryInt("offset", 0)
	ctx := c.UserContext()
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&total); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+userCols+" FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2"), limit, offset)
	if err != nil {
		return err
	}
	defer rows.Close()
	items := make([]user, 0, limit)
	for rows.Next() {
		it, err := scanUser(rows)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "total": total, "limit": limit, "offset": offset})
}
