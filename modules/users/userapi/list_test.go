package userapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/testkit"
)

type listed struct {
	Items []struct {
		ID    uuid.UUID `json:"id"`
		Email string    `json:"email"`
	} `json:"items"`
	Next  string `json:"next"`
	Total *int   `json:"total"`
}

// walk follows the Link header from first to the last page and returns
// every id in the order received. It checks on the way that the body's
// next and the header agree.
func walk(t *testing.T, app *apptest.App, first string) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	path := first
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		var p listed
		res := app.Do(http.MethodGet, path, nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		res.JSON(t, &p)
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		link := res.Header.Get("Link")
		if (p.Next == "") != (link == "") {
			t.Fatalf("next %q but Link %q", p.Next, link)
		}
		path = ""
		if link != "" {
			target, ok := strings.CutSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			if !ok || !strings.Contains(target, "cursor="+url.QueryEscape(p.Next)) {
				t.Fatalf("Link = %q, next = %q", link, p.Next)
			}
			path = target
		}
	}
	return ids
}

func addUsers(t *testing.T, db *database.DB, n int, createdAt time.Time) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		c := db.Ent.User.Create().SetEmail(fmt.Sprintf("%s@example.test", uuid.NewString())).SetPasswordHash("not-a-hash")
		if !createdAt.IsZero() {
			c.SetCreatedAt(createdAt)
		}
		u, err := c.Save(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}

// TestListWalksEveryRowOnceDuringInserts walks the users list a few rows
// per page while other users are created: every user that existed before
// the walk is seen exactly once, and no user twice.
func TestListWalksEveryRowOnceDuringInserts(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		before := addUsers(t, db, 40, time.Time{})
		existing := walk(t, app, "/api/users?limit=100")
		if len(existing) < len(before) {
			t.Fatalf("%d users listed, %d created", len(existing), len(before))
		}

		// A bounded number of inserts, so that the walk ends: rows created
		// during it join the end of the list.
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 30 {
				_, err := db.Ent.User.Create().SetEmail(fmt.Sprintf("during%d@example.test", i)).SetPasswordHash("not-a-hash").Save(t.Context())
				if err != nil {
					t.Errorf("insert during the walk: %v", err)
					return
				}
			}
		})
		ids := walk(t, app, "/api/users?limit=3")
		wg.Wait()

		seen := map[uuid.UUID]int{}
		for _, id := range ids {
			seen[id]++
			if seen[id] > 1 {
				t.Fatalf("user %s listed twice", id)
			}
		}
		for _, id := range existing {
			if seen[id] != 1 {
				t.Fatalf("user %s, there before the walk, listed %d times", id, seen[id])
			}
		}
		if len(ids) <= len(existing) {
			t.Logf("no concurrent insert was listed (%d rows)", len(ids))
		}
	})
}

// TestListTieBreaksEqualTimestampsByID creates users in one microsecond:
// pages of two still give each of them once, in id order.
func TestListTieBreaksEqualTimestampsByID(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		at := time.Now().UTC().Truncate(time.Microsecond).Add(time.Hour)
		same := addUsers(t, db, 7, at)
		ids := walk(t, app, "/api/users?limit=2")
		tail := ids[len(ids)-len(same):]
		want := map[uuid.UUID]bool{}
		for _, id := range same {
			want[id] = true
		}
		for i, id := range tail {
			if !want[id] {
				t.Fatalf("position %d: %s is not one of the users created at the same time: %v", i, id, tail)
			}
			delete(want, id)
			if i > 0 && strings.Compare(tail[i-1].String(), id.String()) >= 0 {
				t.Fatalf("equal timestamps not in id order: %v", tail)
			}
		}
	})
}

// TestListRefusesForeignAndTamperedCursors: a cursor that was altered,
// cut, or issued by another list is a 422 invalid_cursor on query.cursor,
// never a 500 or a silently different page. total is counted only when
// asked.
func TestListRefusesForeignAndTamperedCursors(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		addUsers(t, db, 3, time.Time{})
		var p listed
		app.Do(http.MethodGet, "/api/users?limit=1", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &p)
		if p.Next == "" || p.Total != nil {
			t.Fatalf("first page = %+v: want a next cursor and no total", p)
		}
		var counted listed
		app.Do(http.MethodGet, "/api/users?limit=1&total=true", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &counted)
		if counted.Total == nil || *counted.Total < 4 {
			t.Fatalf("total=true: %+v", counted)
		}
		// Control: the cursor as issued works.
		app.Do(http.MethodGet, "/api/users?limit=1&cursor="+p.Next, nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)

		flipped := []byte(p.Next)
		flipped[10] ^= 1
		var sessions listed
		app.Do(http.MethodGet, "/api/auth/sessions?limit=1", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &sessions)
		foreign := sessions.Next
		if foreign == "" {
			// One session only: make a second, so the list has a next page.
			u := app.NewUser(false)
			app.Login(u.Email, u.Password)
			app.Do(http.MethodGet, "/api/auth/sessions?limit=1", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &sessions)
			foreign = sessions.Next
		}
		// The check is public (no key), so anyone can forge a well-formed
		// cursor: one from 285,000 BC must be refused here, not by Postgres.
		ancient := paging.Encode("users", paging.Cursor{CreatedAt: time.UnixMicro(-9e18).UTC(), ID: uuid.New()})
		for name, c := range map[string]string{
			"ancient": ancient,
			"flipped": string(flipped), "cut": p.Next[:len(p.Next)-2], "extended": p.Next + "AA",
			"not base64": "!!!!", "sessions' cursor": foreign, "zero": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		} {
			pr := app.Do(http.MethodGet, "/api/users?cursor="+url.QueryEscape(c), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusUnprocessableEntity).Problem(t)
			if pr.Code != "validation_failed" || len(pr.Errors) != 1 || pr.Errors[0].Code != "invalid_cursor" || pr.Errors[0].Location != "query.cursor" {
				t.Errorf("%s cursor %q: %+v", name, c, pr)
			}
		}
	})
}
