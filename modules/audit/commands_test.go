package audit_test

import (
	"strings"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/cmd/app/cmdtest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestListCommand runs `app audit list` as an operator would, on each
// database: it prints the entries the API's flows recorded, filtered, one
// JSON object a line, and refuses bad flags.
func TestListCommand(t *testing.T) {
	for _, dia := range testkit.ReachableDialects(t) {
		t.Run(dia, func(t *testing.T) {
			url := testkit.NewDatabaseURL(t, dia)
			env := map[string]string{"DATABASE_URL": url, "LOG_LEVEL": "warn", "JWT_PRIVATE_KEY": testkit.SigningKeyPEM(t)}
			if out, err := cmdtest.Run(t, env, "", "migrate", "up"); err != nil {
				t.Fatalf("migrate up: %v\n%s", err, out)
			}
			db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			app := apptest.Start(t, db)
			u := app.NewUser(false)

			out, err := cmdtest.Run(t, env, "", "audit", "list", "--action", "users.user.created", "--target-type", "user", "--target", u.ID.String())
			if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"target":"user:`+u.ID.String()+`"`) {
				t.Fatalf("list: %v\n%s", err, out)
			}
			if out, err := cmdtest.Run(t, env, "", "audit", "list", "--actor-kind", "system", "--limit", "5"); err != nil || !strings.Contains(out, `"actor_kind":"system"`) {
				t.Fatalf("list by kind: %v\n%s", err, out)
			}
			for _, args := range [][]string{{"--from", "yesterday"}, {"--limit", "0"}, {"--actor-kind", "robot"}} {
				if _, err := cmdtest.Run(t, env, "", append([]string{"audit", "list"}, args...)...); err == nil {
					t.Errorf("audit list %v: no error", args)
				}
			}
			if out, err := cmdtest.Run(t, env, "", "audit", "prune"); err != nil || out != "pruned 0 entries\n" {
				t.Fatalf("prune: %v %q", err, out)
			}
		})
	}
}
