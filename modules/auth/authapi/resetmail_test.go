package authapi_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

// TestResetMailOutlivesAFrozenRelay: with the SMTP relay frozen (it
// accepts the connection and never answers), a recovery request is
// answered at once, the same as for an unknown email; the mail worker's
// attempt times out and is retried, a temporary 451 too, and the email
// arrives once the relay is back, with a token that resets the password.
// The job's row never holds the token in clear, and once delivered holds
// not even its ciphertext.
func TestResetMailOutlivesAFrozenRelay(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		relay := testkit.NewFaultProxy(t, box.Addr())
		_, port, _ := net.SplitHostPort(relay.Addr())
		p, _ := strconv.Atoi(port)
		var q *jobs.Queue
		app := apptest.Start(t, db, testkit.WithSMTP("127.0.0.1", p),
			testkit.WithEnv("MAIL_SEND_TIMEOUT", "300ms"), testkit.WithEnv("MAIL_RETRY_BACKOFF", "10ms"),
			testkit.WithFx(fx.Populate(&q)))
		u := app.NewUser(false)

		relay.Freeze()
		unknown := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": "nobody@example.test"})
		known := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email})
		if known.Status != http.StatusAccepted || known.Status != unknown.Status || string(known.Body) != string(unknown.Body) {
			t.Fatalf("recovery with a frozen relay: %d %s, unknown email %d %s", known.Status, known.Body, unknown.Status, unknown.Body)
		}
		// The answer came while the relay is frozen; the worker's attempt
		// is still to fail on it.
		job := waitMailJob(t, q, func(j *rivertype.JobRow) bool { return len(j.Errors) >= 1 })
		atRest := jobRowText(t, db, job.ID)
		box.Reject(1, 451)
		relay.Restore()

		msgs := box.WaitTo(u.Email, 1)
		token := resetTokenIn(t, msgs[0].Body)
		job = waitMailJob(t, q, func(j *rivertype.JobRow) bool { return j.State == rivertype.JobStateCompleted })
		if job.Attempt < 3 || box.Rejected() != 1 {
			t.Fatalf("completed at attempt %d after %d rejection(s), want a timeout, a 451, then delivery", job.Attempt, box.Rejected())
		}
		if strings.Contains(atRest, token) {
			t.Fatalf("the queued job holds the reset token in clear: %s", atRest)
		}
		if done := jobRowText(t, db, job.ID); strings.Contains(done, token) || strings.Contains(done, `"sealed"`) {
			t.Fatalf("the completed job still holds the message: %s", done)
		}
		if n := len(box.To(u.Email)); n != 1 {
			t.Fatalf("%d reset emails, want 1", n)
		}
		res := app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": token, "new_password": "a brand new passphrase"})
		if res.Status != http.StatusNoContent {
			t.Fatalf("reset with the mailed token: %d %s", res.Status, res.Body)
		}
		app.Login(u.Email, "a brand new passphrase")
	})
}

// waitMailJob polls (bounded) until the one mail job satisfies ok.
func waitMailJob(t *testing.T, q *jobs.Queue, ok func(*rivertype.JobRow) bool) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds("mail.send"))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 1 && ok(res.Jobs[0]) {
			return res.Jobs[0]
		}
		if time.Now().After(deadline) {
			for _, j := range res.Jobs {
				t.Logf("job %d: %s, attempt %d, errors %v", j.ID, j.State, j.Attempt, j.Errors)
			}
			t.Fatalf("%d mail job(s); none as awaited after 20s", len(res.Jobs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jobRowText is a job's stored row (arguments, metadata, errors) as text.
func jobRowText(t *testing.T, db *database.DB, id int64) string {
	t.Helper()
	query := "SELECT row_to_json(j)::text FROM river_job j WHERE id = $1"
	if db.Dialect == dialect.SQLite {
		query = "SELECT json(args) || ' ' || json(metadata) || ' ' || coalesce(json(errors), '') FROM river_job WHERE id = ?"
	}
	var row string
	if err := db.SQL.QueryRowContext(context.Background(), query, id).Scan(&row); err != nil {
		t.Fatal(err)
	}
	return row
}
