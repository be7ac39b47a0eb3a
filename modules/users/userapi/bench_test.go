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
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/users/me", nil)
			req.Header.Set("Authorization", "Bearer "+u.Token)
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
