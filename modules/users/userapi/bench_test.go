package userapi_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
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
