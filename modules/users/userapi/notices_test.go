package userapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

// TestNoticeReplayedSendsNothing: the email-change notice is a delivery
// of the account event to the notice subscription; worked again (an
// operator's retry, or a job rescued after a crash once the mail had
// gone), it sends no second mail.
func TestNoticeReplayedSendsNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		var q *jobs.Queue
		app := apptest.Start(t, db, testkit.WithMailbox(box), testkit.WithFx(fx.Populate(&q)))
		u := app.NewUser(false)
		res := app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": "replayed." + u.Email, "current_password": u.Password}, testkit.Bearer(u.Token))
		if res.Status != http.StatusOK {
			t.Fatalf("email change: %d %s", res.Status, res.Body)
		}
		box.WaitTo(u.Email, 1)

		ctx := context.Background()
		list, err := q.Client().JobList(ctx, river.NewJobListParams().Kinds("event_delivery").First(1000))
		if err != nil {
			t.Fatal(err)
		}
		var notice *rivertype.JobRow
		for _, j := range list.Jobs {
			var args struct {
				Subscription string `json:"subscription"`
			}
			if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.Subscription == usersvc.EmailNoticeSubscription {
				notice = j
			}
		}
		if notice == nil {
			t.Fatalf("no delivery to %s among %d delivery jobs", usersvc.EmailNoticeSubscription, len(list.Jobs))
		}
		completed := func() *rivertype.JobRow {
			t.Helper()
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				j, err := q.Get(ctx, notice.ID)
				if err != nil {
					t.Fatal(err)
				}
				if j.State == rivertype.JobStateCompleted {
					return j
				}
				if time.Now().After(deadline) {
					t.Fatalf("notice job is %s after 30s (errors %v)", j.State, j.Errors)
				}
			}
		}
		completed()
		if _, err := q.Client().JobRetry(ctx, notice.ID); err != nil {
			t.Fatal(err)
		}
		if j := completed(); j.Attempt != 2 {
			t.Fatalf("replayed notice job at attempt %d, want 2", j.Attempt)
		}
		if got := box.To(u.Email); len(got) != 1 {
			t.Fatalf("%d notices to the old address after the replay, want 1", len(got))
		}
	})
}
