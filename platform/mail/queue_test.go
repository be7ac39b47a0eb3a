package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/mail"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

const kind = "mail.send"

// startPlatform starts the platform alone (mail is part of it) with the
// options given, and returns its Sender and queue.
func startPlatform(t *testing.T, db *database.DB, opts ...testkit.Option) (mail.Sender, *jobs.Queue) {
	t.Helper()
	var s mail.Sender
	var q *jobs.Queue
	testkit.Start(t, db, append(opts, testkit.WithEnv("MAIL_RETRY_BACKOFF", "10ms"), testkit.WithFx(fx.Populate(&s, &q)))...)
	return s, q
}

// mailJobs lists the mail jobs, newest first.
func mailJobs(t *testing.T, q *jobs.Queue) []*rivertype.JobRow {
	t.Helper()
	res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// waitJob polls (bounded) until the only mail job is in state want.
func waitJob(t *testing.T, q *jobs.Queue, want rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		js := mailJobs(t, q)
		if len(js) == 1 && js[0].State == want {
			return js[0]
		}
		if time.Now().After(deadline) {
			for _, j := range js {
				t.Logf("job %d: %s, attempt %d, errors %v", j.ID, j.State, j.Attempt, j.Errors)
			}
			t.Fatalf("%d mail job(s), want one %s after 20s", len(js), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kindCount is the mail kind's value of a jobs counter.
func kindCount(t *testing.T, reg *metrics.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// storedRow is the job's row as the database holds it, as text.
func storedRow(t *testing.T, db *database.DB, id int64) string {
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

// TestQueuedMailSealedAtRestAndErasedOnceSent: a message is enqueued, not
// sent, by the Sender modules get; the stored job holds neither its text,
// subject, recipient nor secret (multibyte text included); the worker
// delivers it, and the completed job River keeps no longer holds even
// the ciphertext.
func TestQueuedMailSealedAtRestAndErasedOnceSent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		// The queue and the mail settings, without workers: the row is read
		// as it rests.
		s, q := startPlatform(t, db)
		m := mail.Message{To: "zoe@example.test", Subject: "Réinitialiser 日本 🚀", Text: "Jeton : S3CRET-tökén-値\n", Secret: "S3CRET-tökén-値"}
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		js := mailJobs(t, q)
		if len(js) != 1 || js[0].State != rivertype.JobStateAvailable {
			t.Fatalf("jobs after Send: %v", js)
		}
		row := storedRow(t, db, js[0].ID)
		var args struct {
			Sealed []byte `json:"sealed"`
		}
		if err := json.Unmarshal(js[0].EncodedArgs, &args); err != nil || len(args.Sealed) == 0 {
			t.Fatalf("control: the job has no sealed message (%v): %s", err, js[0].EncodedArgs)
		}
		// Neither in the row nor in the decoded argument: an encoding
		// (base64) is not a seal.
		for _, clear := range []string{"S3CRET", "tökén", "日本", "Réinitialiser", "Jeton", "zoe@example.test", "zoe"} {
			if strings.Contains(row, clear) || strings.Contains(string(args.Sealed), clear) {
				t.Fatalf("the stored job holds %q in clear: %s", clear, row)
			}
		}

		// A worker on the same database delivers it.
		_, q2 := startPlatform(t, db, testkit.WithMailbox(box))
		got := box.WaitTo("zoe@example.test", 1)
		if got[0].Subject() != m.Subject || got[0].Body != m.Text {
			t.Fatalf("delivered %q / %q", got[0].Subject(), got[0].Body)
		}
		j := waitJob(t, q2, rivertype.JobStateCompleted)
		if row := storedRow(t, db, j.ID); strings.Contains(row, `"sealed"`) {
			t.Fatalf("the completed job still holds the sealed message: %s", row)
		}

		// Replayed (an operator's retry of the completed job), it sends
		// nothing: what was delivered is gone from it.
		if _, err := q2.Client().JobRetry(t.Context(), j.ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for j = waitJob(t, q2, rivertype.JobStateCompleted); j.Attempt < 2; j = waitJob(t, q2, rivertype.JobStateCompleted) {
			if time.Now().After(deadline) {
				t.Fatalf("the retried job did not run again within 20s (attempt %d)", j.Attempt)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(box.To("zoe@example.test")); n != 1 {
			t.Fatalf("a replayed mail job sent the email %d times", n)
		}
	})
}

// TestQueuedMailJoinsTheTransaction: inside txn.Run the job commits or
// rolls back with the caller's writes: a rolled-back transaction leaves no
// job and sends nothing; a committed one is delivered.
func TestQueuedMailJoinsTheTransaction(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		s, q := startPlatform(t, db, testkit.WithMailbox(box))
		errRollback := errors.New("rolled back")
		err := txn.Run(t.Context(), db.Ent, func(ctx context.Context) error {
			if err := s.Send(ctx, mail.Message{To: "rolled@example.test", Subject: "never", Text: "never"}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("txn.Run: %v", err)
		}
		if js := mailJobs(t, q); len(js) != 0 {
			t.Fatalf("a rolled-back transaction left %d mail job(s)", len(js))
		}
		// Control: the same in a committed transaction arrives, and the
		// rolled-back message never did.
		err = txn.Run(t.Context(), db.Ent, func(ctx context.Context) error {
			return s.Send(ctx, mail.Message{To: "committed@example.test", Subject: "kept", Text: "kept"})
		})
		if err != nil {
			t.Fatal(err)
		}
		box.WaitTo("committed@example.test", 1)
		waitJob(t, q, rivertype.JobStateCompleted)
		if n := len(box.To("rolled@example.test")); n != 0 {
			t.Fatalf("the rolled-back message was sent %d time(s)", n)
		}
	})
}

// TestQueuedMailRetriesTemporaryFailures: a relay that answers 451 to the
// first attempts gets the message on a later one, once; a 550 rejection
// ends the job at once as cancelled, with its error, and no retry.
func TestQueuedMailRetriesTemporaryFailures(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		var reg *metrics.Registry
		s, q := startPlatform(t, db, testkit.WithMailbox(box), testkit.WithFx(fx.Populate(&reg)))
		box.Reject(2, 451)
		if err := s.Send(t.Context(), mail.Message{To: "later@example.test", Subject: "retried", Text: "retried"}); err != nil {
			t.Fatal(err)
		}
		box.WaitTo("later@example.test", 1)
		j := waitJob(t, q, rivertype.JobStateCompleted)
		if j.Attempt != 3 || len(j.Errors) != 2 || !strings.Contains(j.Errors[0].Error, "451") {
			t.Fatalf("completed at attempt %d with errors %v, want attempt 3 after two 451s", j.Attempt, j.Errors)
		}
		if n := len(box.To("later@example.test")); n != 1 || box.Rejected() != 2 {
			t.Fatalf("delivered %d time(s) after %d rejection(s)", n, box.Rejected())
		}

		if _, err := q.Client().JobDeleteMany(t.Context(), river.NewJobDeleteManyParams().Kinds(kind)); err != nil {
			t.Fatal(err)
		}
		box.Reject(5, 550)
		if err := s.Send(t.Context(), mail.Message{To: "refused@example.test", Subject: "refused", Text: "refused"}); err != nil {
			t.Fatal(err)
		}
		j = waitJob(t, q, rivertype.JobStateCancelled)
		if j.Attempt != 1 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "550") {
			t.Fatalf("cancelled at attempt %d with errors %v, want one 550", j.Attempt, j.Errors)
		}
		if got := box.Rejected(); got != 3 {
			t.Fatalf("%d rejections in all, want 3: a permanent rejection was retried", got)
		}
		// The queue's metrics count the kind's outcomes as River reported them.
		for name, want := range map[string]float64{"jobs_completed_total": 1, "jobs_retried_total": 2, "jobs_cancelled_total": 1, "jobs_enqueued_total": 2} {
			if got := kindCount(t, reg, name); got != want {
				t.Errorf("%s{kind=%q} = %v, want %v", name, kind, got, want)
			}
		}
	})
}

// TestQueuedMailBurst: many messages sent at once, each with multibyte
// text, are each delivered exactly once.
func TestQueuedMailBurst(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		s, q := startPlatform(t, db, testkit.WithMailbox(box))
		const n = 30
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				m := mail.Message{To: fmt.Sprintf("burst-%d@example.test", i), Subject: fmt.Sprintf("n° %d 日本", i), Text: fmt.Sprintf("Zoë %d 🚀\n", i)}
				if err := s.Send(context.Background(), m); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			got := box.WaitTo(fmt.Sprintf("burst-%d@example.test", i), 1)
			if want := fmt.Sprintf("Zoë %d 🚀\n", i); got[0].Body != want {
				t.Errorf("message %d: body %q", i, got[0].Body)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			done := 0
			for _, j := range mailJobs(t, q) {
				if j.State == rivertype.JobStateCompleted {
					done++
				}
			}
			if done == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d mail jobs completed after 20s", done, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := len(box.Messages()); got != n {
			t.Fatalf("%d messages delivered, want %d", got, n)
		}
	})
}

// TestQueuedMailRefusesMalformedMessages: a header injection or a
// recipient that is no address is refused to the caller, and queues
// nothing.
func TestQueuedMailRefusesMalformedMessages(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	s, q := startPlatform(t, db)
	for _, m := range []mail.Message{
		{To: "a@example.test\r\nBcc: victim@example.test", Subject: "x"},
		{To: "a@example.test", Subject: "x\nBcc: victim@example.test"},
		{To: "not an address", Subject: "x"},
	} {
		if err := s.Send(t.Context(), m); !errors.Is(err, mail.ErrPermanent) {
			t.Errorf("%q: err = %v", m.To, err)
		}
	}
	if js := mailJobs(t, q); len(js) != 0 {
		t.Fatalf("%d job(s) queued for malformed messages", len(js))
	}
}
