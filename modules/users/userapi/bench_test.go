package userapi_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/apikey"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/testkit"
)

// BenchmarkMe is the authenticated read path in one process, for
// profiling: go test -run '^$' -bench Me -cpuprofile cpu.out ./modules/users/userapi
// (make bench measures it properly, from another process).
func BenchmarkMe(b *testing.B) {
	app := apptest.Start(b, testkit.NewDB(b, "sqlite3"))
	u := app.NewUser(false)
	getMe(b, app, u.Token)
}

// BenchmarkMeByCredential compares the same read with an access token
// and with an API key, on one application in one run, so the two are
// comparable: the key's cost is its format check, one SHA-256 and one
// lookup by a unique index, in place of the JWT's RS256 verification and
// session check.
func BenchmarkMeByCredential(b *testing.B) {
	app := apptest.Start(b, testkit.NewDB(b, "sqlite3"))
	u := app.NewUser(false)
	var key struct {
		Secret string `json:"secret"`
	}
	app.Do(http.MethodPost, "/api/auth/api-keys", map[string]any{"name": "bench", "permissions": []string{}},
		testkit.Bearer(u.Token)).Expect(http.StatusCreated).JSON(b, &key)
	b.Run("jwt", func(b *testing.B) { getMe(b, app, u.Token) })
	b.Run("api-key", func(b *testing.B) { getMe(b, app, key.Secret) })
}

func getMe(b *testing.B, app *apptest.App, bearer string) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/users/me", nil)
			req.Header.Set("Authorization", "Bearer "+bearer)
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

// rowOnly is the control of BenchmarkAuthorizedRead: the account lookup
// as it was before permissions existed, the users row by primary key and
// nothing else, granting everything so that the same operation runs.
type rowOnly struct {
	authn.Accounts
	db *ent.Client
}

func (r rowOnly) Account(ctx context.Context, id uuid.UUID) (authn.Account, error) {
	u, err := r.db.User.Get(ctx, id)
	if err != nil {
		return authn.Account{}, err
	}
	return authn.Account{UserID: u.ID, Email: u.Email, FullName: u.FullName, Active: u.IsActive, Kind: string(u.Kind),
		Permissions: authz.All(), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, nil
}

// BenchmarkAuthorizedRead measures, in one run and interleaved request by
// request so that the shared machine's noise falls on all alike, an
// operation that requires a permission (GET /api/permissions, roles:read,
// answered from memory, so the request is all authentication and
// authorization):
//
//   - jwt: with an access token, the account and its roles from the
//     account cache behind its version check;
//   - without-check: the same request to a second application on the same
//     database whose account lookup is the bare users row (rowOnly), the
//     read path before permissions;
//   - api-key: with an API key holding roles:read;
//   - lookup: the key's row found by its unique index (api_keys.secret_hash)
//     through ent and the same pool, as the auth store finds it: the one
//     indexed lookup an API key may add.
//
// It reports each in µs/req and check-ratio = jwt / without-check (goal
// <= 1.05) and key-extra-lookups = (api-key - jwt) / lookup (goal <= 1):
//
//	go test -run '^$' -bench AuthorizedRead -benchtime 20000x ./modules/users/userapi
func BenchmarkAuthorizedRead(b *testing.B) {
	for _, dia := range testkit.Dialects {
		b.Run(dia, func(b *testing.B) {
			db := testkit.NewDB(b, dia)
			with := apptest.Start(b, db)
			without := apptest.Start(b, db, testkit.WithFx(fx.Decorate(func(a authn.Accounts) authn.Accounts {
				return rowOnly{Accounts: a, db: db.Ent}
			})))
			u := with.NewUserWith("roles:read")
			var key struct {
				Secret string `json:"secret"`
			}
			with.Do(http.MethodPost, "/api/auth/api-keys", map[string]any{"name": "bench", "permissions": []string{"roles:read"}},
				testkit.Bearer(u.Token)).Expect(http.StatusCreated).JSON(b, &key)
			// The row the key's lookup finds, found the way the auth store
			// finds it.
			stored, err := db.Ent.APIKey.Query().Only(context.Background())
			if err != nil {
				b.Fatal(err)
			}

			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			get := func(url, bearer string) {
				req, _ := http.NewRequest(http.MethodGet, url+"/api/permissions", nil)
				req.Header.Set("Authorization", "Bearer "+bearer)
				res, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
			steps := []func(){
				func() { get(with.URL, u.Token) },
				func() { get(without.URL, u.Token) },
				func() { get(with.URL, key.Secret) },
				func() {
					if _, err := db.Ent.APIKey.Query().Where(apikey.SecretHash(stored.SecretHash)).Only(context.Background()); err != nil {
						b.Fatalf("lookup: %v", err)
					}
				},
			}
			for _, step := range steps {
				for range 200 { // warm caches and pools
					step()
				}
			}
			// One request at a time, the steps in turn: what is compared is
			// the cost of each, not how they compete for the two cores.
			var spent [4]time.Duration
			b.ResetTimer()
			for i := range b.N {
				for k := range steps {
					s := (i + k) % len(steps)
					start := time.Now()
					steps[s]()
					spent[s] += time.Since(start)
				}
			}
			per := func(s int) float64 { return float64(spent[s]) / float64(b.N) / 1e3 }
			b.ReportMetric(per(0), "jwt-µs/req")
			b.ReportMetric(per(1), "without-check-µs/req")
			b.ReportMetric(per(2), "api-key-µs/req")
			b.ReportMetric(per(3), "lookup-µs/req")
			b.ReportMetric(per(0)/per(1), "check-ratio")
			b.ReportMetric((per(2)-per(0))/per(3), "key-extra-lookups")
		})
	}
}
