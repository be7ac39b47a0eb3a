package deploy_test

import (
	"bufio"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	_ "github.com/acme/monolith/cmd/app/modules" // registers the modules' settings
	"github.com/acme/monolith/platform/config"
)

// loadCompose loads compose.yaml the way `docker compose` does (schema
// validation, anchors, defaults), offline and without the caller's
// environment, so the result does not depend on the machine.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join("..", "compose.yaml")}, cli.WithWorkingDirectory(".."))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return s
}

// declared is every variable of every registered section, the modules'
// included.
func declared(t *testing.T) []string {
	t.Helper()
	sections, err := config.Registered()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sec := range sections {
		for _, v := range sec.Vars {
			names = append(names, v.Name)
		}
	}
	return names
}

// environment is a service's variables, each of which must be a setting
// the application declares.
func environment(t *testing.T, s types.ServiceConfig) map[string]string {
	t.Helper()
	known := declared(t)
	env := map[string]string{}
	for k, v := range s.Environment {
		if !slices.Contains(known, k) {
			t.Errorf("service %s sets %s, which the application does not read", s.Name, k)
		}
		if v == nil {
			t.Errorf("service %s: %s has no value", s.Name, k)
			continue
		}
		env[k] = *v
	}
	return env
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// TestComposeStack: the local stack loads with compose-go, holds the
// services teams expect (Postgres, PgBouncer, an SMTP catcher with a web
// inbox, the migration step, the app from the Dockerfile), and is wired
// with the variables production uses: every variable is one the app
// declares and the app's own loader accepts them; the migration step holds
// only the database URL; the app reaches Postgres through PgBouncer with
// the credentials PgBouncer knows.
func TestComposeStack(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"postgres", "pgbouncer", "mailpit", "migrate", "app"} {
		s := service(t, p, name)
		if s.Build == nil && (s.Image == "" || !strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest")) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %d on %q: bind local ports to 127.0.0.1", name, port.Target, port.HostIP)
			}
		}
	}

	app, migrate := service(t, p, "app"), service(t, p, "migrate")
	for _, s := range []types.ServiceConfig{app, migrate} {
		root, _ := filepath.Abs("..")
		if s.Build == nil || filepath.Clean(s.Build.Context) != root || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s is not built from the repository's Dockerfile: %+v", s.Name, s.Build)
		}
	}
	if d, ok := app.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("app must start after the migration step succeeded: %+v", app.DependsOn)
	}
	if got := []string(migrate.Command); !slices.Equal(got, []string{"migrate", "up"}) {
		t.Errorf("migrate runs %q", got)
	}

	env := environment(t, app)
	// Every section, the modules' too, as serve checks them.
	if err := config.Check(config.SourceFrom(env)); err != nil {
		t.Fatalf("the app's environment is not a valid configuration: %v", err)
	}
	cfg, err := config.FromSource(config.SourceFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.SMTPHost != "mailpit" {
		t.Errorf("mail goes to %q, not the SMTP catcher", cfg.Mail.SMTPHost)
	}
	if keyFile := env["JWT_PRIVATE_KEY_FILE"]; !slices.ContainsFunc(app.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && strings.HasPrefix(keyFile, v.Target+"/")
	}) {
		t.Errorf("the generated signing key %s is not on a volume: it would change at every restart", keyFile)
	}

	menv := environment(t, migrate)
	if _, err := config.LoadSectionsFrom(lookup(menv), config.DatabaseSection); err != nil {
		t.Fatalf("the migration step's environment is not enough for migrate up: %v", err)
	}
	for k := range menv {
		if k != "DATABASE_URL" && k != "APP_ENV" {
			t.Errorf("the migration step holds %s; it needs only DATABASE_URL", k)
		}
	}

	// The app's URL names PgBouncer's port and database, with a user and
	// password in PgBouncer's auth file; the migration step goes straight
	// to Postgres.
	db, err := url.Parse(cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	ini := readINI(t, filepath.Join("compose", "pgbouncer.ini"))
	if db.Hostname() != "pgbouncer" || db.Port() != ini["pgbouncer.listen_port"] || db.Query().Get("default_query_exec_mode") != "exec" {
		t.Errorf("app database URL %s does not go through PgBouncer (listen_port %s) with unprepared statements", db.Redacted(), ini["pgbouncer.listen_port"])
	}
	// LISTEN hears nothing through a transaction pooler: the session
	// cache's listener needs the direct URL.
	if du, err := url.Parse(cfg.Database.DirectURL); err != nil || du.Hostname() != "postgres" || du.Path != db.Path {
		t.Errorf("DATABASE_DIRECT_URL %q does not reach the app's database on Postgres itself", cfg.Database.DirectURL)
	}
	name := strings.TrimPrefix(db.Path, "/")
	if _, ok := ini["databases."+name]; !ok {
		t.Errorf("PgBouncer does not serve database %q", name)
	}
	if ini["pgbouncer.pool_mode"] != "transaction" || !strings.Contains(ini["pgbouncer.ignore_startup_parameters"], "statement_timeout") {
		t.Errorf("PgBouncer: pool_mode %q, ignore_startup_parameters %q", ini["pgbouncer.pool_mode"], ini["pgbouncer.ignore_startup_parameters"])
	}
	pw, _ := db.User.Password()
	users, err := os.ReadFile(filepath.Join("compose", "userlist.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(users), `"`+db.User.Username()+`" "`+pw+`"`) {
		t.Errorf("PgBouncer's auth file does not know user %s", db.User.Username())
	}
	pg := service(t, p, "postgres")
	if u := pg.Environment["POSTGRES_USER"]; u == nil || *u != db.User.Username() {
		t.Errorf("Postgres is created with user %v, the app signs in as %s", u, db.User.Username())
	}
	if mu, err := url.Parse(menv["DATABASE_URL"]); err != nil || mu.Hostname() != "postgres" {
		t.Errorf("the migration step should reach Postgres directly, not through the pooler: %v", menv["DATABASE_URL"])
	}
}

// readINI reads PgBouncer's configuration as section.key = value.
func readINI(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out, section := map[string]string{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, ";") || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			out[section+"."+strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}
