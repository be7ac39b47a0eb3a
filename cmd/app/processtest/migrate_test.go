package processtest

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

// TestConcurrentMigrateUp starts several `app migrate up` processes at once
// on one fresh Postgres database: every one succeeds and each file is
// applied exactly once (the advisory lock serialises them).
func TestConcurrentMigrateUp(t *testing.T) {
	// Behind PgBouncer (make test-pgbouncer) the processes get the direct
	// URL too, as the migration Job does.
	url, direct := testkit.NewDatabaseURLs(t, dialect.Postgres)
	db, err := database.Open(config.Database{URL: url, DirectURL: direct, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	before, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files := before.PendingNames()
	if len(files) == 0 || len(before.Applied) != 0 {
		t.Fatalf("a fresh database should have every file pending: %+v", before)
	}

	const runs = 5
	outs := make([]string, runs)
	errs := make([]error, runs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "migrate", "up")
			cmd.Env = environ(map[string]string{"DATABASE_URL": url, "DATABASE_DIRECT_URL": direct, "LOG_LEVEL": "warn"})
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			<-start
			errs[i] = cmd.Run()
			outs[i] = out.String()
		}()
	}
	close(start)
	wg.Wait()

	applied := map[string]int{}
	for i := range runs {
		if errs[i] != nil {
			t.Fatalf("run %d failed: %v\n%s", i, errs[i], outs[i])
		}
		for _, line := range strings.Split(outs[i], "\n") {
			if name, ok := strings.CutPrefix(line, "applied "); ok {
				applied[strings.TrimSpace(name)]++
			}
		}
	}
	for _, f := range files {
		if applied[f] != 1 {
			t.Errorf("%s applied %d times across %d concurrent runs, want exactly once", f, applied[f], runs)
		}
	}
	var rows, distinct int
	if err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT version) FROM atlas_schema_revisions`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || distinct != len(files) {
		t.Fatalf("atlas_schema_revisions has %d rows (%d versions), want %d", rows, distinct, len(files))
	}
	after, err := m.Status(context.Background())
	if err != nil || len(after.Pending) != 0 {
		t.Fatalf("pending after the runs: %v %v", after.PendingNames(), err)
	}
}
