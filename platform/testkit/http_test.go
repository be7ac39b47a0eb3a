package testkit_test

import (
	"fmt"
	"net/http"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/platform/testkit"
)

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

// TestExpectFailsOnAnotherStatus is the control for Expect: a status other
// than the expected one fails the test. The platform alone (no module)
// answers 404 for any API path.
func TestExpectFailsOnAnotherStatus(t *testing.T) {
	app := testkit.Start(t, testkit.NewDB(t, dialect.SQLite))
	res := app.Do(http.MethodGet, "/api/nothing", nil).Expect(http.StatusNotFound)
	rec := &fatalRecorder{TB: t}
	testkit.SetT(res, rec)
	res.Expect(http.StatusOK)
	if rec.msg == "" {
		t.Fatal("Expect(200) accepted a 404")
	}
}
