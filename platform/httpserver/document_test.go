package httpserver_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// TestDocumentIsFinishedOnFirstRead: what finishes the OpenAPI document
// (the responses every operation can give, the examples) is added when it
// is first read, not at start; concurrent first readers of the document in
// each format and of a schema all get it finished.
func TestDocumentIsFinishedOnFirstRead(t *testing.T) {
	var srv *httpserver.Server
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(fx.Populate(&srv)))
	me := srv.API().OpenAPI().Paths["/api/users/me"].Get
	if _, ok := me.Responses["503"]; ok {
		t.Fatal("the document was finished at start")
	}
	want := map[string]string{
		"/openapi.json":         `"Retry-After"`,
		"/openapi.yaml":         "Retry-After",
		"/openapi-3.0.json":     `"Retry-After"`,
		"/schemas/Problem.json": `"examples"`,
	}
	var wg sync.WaitGroup
	for path, mark := range want {
		wg.Go(func() {
			res := app.Do(http.MethodGet, path, nil)
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), mark) {
				t.Errorf("%s: %d, want 200 with %s in the finished document: %.300s", path, res.Status, mark, res.Body)
			}
		})
	}
	wg.Wait()
	if _, ok := srv.Document().Paths["/api/users/me"].Get.Responses["503"]; !ok {
		t.Error("the document read is not finished")
	}
}

// TestDocumentIsFinishedWhateverTheCase: fiber routes paths ignoring case,
// so a first read as /OpenAPI.json (which huma caches) and concurrent
// readers in other cases all get the finished document, without racing.
func TestDocumentIsFinishedWhateverTheCase(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"))
	if res := app.Do(http.MethodGet, "/OpenAPI.json", nil); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"Retry-After"`) {
		t.Fatalf("/OpenAPI.json: %d, want 200 with the finished document: %.300s", res.Status, res.Body)
	}
	var wg sync.WaitGroup
	for _, path := range []string{"/openapi.json", "/OPENAPI.YAML", "/OpenAPI-3.0.json", "/Schemas/Problem.json"} {
		wg.Go(func() {
			if res := app.Do(http.MethodGet, path, nil); res.Status != http.StatusOK {
				t.Errorf("%s: %d", path, res.Status)
			}
		})
	}
	wg.Wait()
	if res := app.Do(http.MethodGet, "/openapi.json", nil); !strings.Contains(string(res.Body), `"Retry-After"`) {
		t.Fatalf("/openapi.json after /OpenAPI.json serves the unfinished document: %.300s", res.Body)
	}
}
