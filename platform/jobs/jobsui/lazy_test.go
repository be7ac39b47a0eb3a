package jobsui

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLazyHandlerRetriesAFailedBuild: a failed build is not kept, a
// successful one is built once however many ask at once.
func TestLazyHandlerRetriesAFailedBuild(t *testing.T) {
	var builds atomic.Int32
	l := &lazyHandler{build: func() (http.Handler, error) {
		if builds.Add(1) == 1 {
			return nil, errors.New("passing fault")
		}
		return http.NotFoundHandler(), nil
	}}
	if _, err := l.get(); err == nil {
		t.Fatal("the failed build was reported as a handler")
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if h, err := l.get(); err != nil || h == nil {
				t.Errorf("after the fault: %v, %v", h, err)
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 2 {
		t.Fatalf("%d builds, want the failed one and one more", n)
	}
}
