package testkit

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium tab that records what the page writes
// to the console (calls, uncaught exceptions, the browser's own log, where
// CSP violations go) and every URL it requests. Pages served from the
// binary are tested in it, as a user's browser would run them.
type Browser struct {
	t *testing.T
	// Ctx is the tab's chromedp context, for actions beyond Do and Eval.
	Ctx context.Context

	mu       sync.Mutex
	console  []string
	requests []string
}

// ChromiumPath finds the installed Chromium (the Debian package); without
// one the test is skipped, except with CI=true, where .ci/run installs it.
func ChromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI (apt-get install chromium)")
	}
	t.Skip("chromium not installed")
	return ""
}

// NewBrowser starts Chromium for the test, its viewport width x height;
// it stops when the test ends, and after two minutes at the latest.
func NewBrowser(t *testing.T, width, height int64) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	)
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 2*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	b := &Browser{t: t}
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithListener(b.record))
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelDeadline() })
	b.Ctx = ctx
	b.Do(chromedp.EmulateViewport(width, height))
	return b
}

func (b *Browser) record(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = string(ev.Type) + ": " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		line = "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			line += " " + ex.Description
		}
	case *cdplog.EventEntryAdded:
		line = string(ev.Entry.Level) + " (" + string(ev.Entry.Source) + "): " + ev.Entry.Text
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		b.requests = append(b.requests, ev.Request.URL)
		b.mu.Unlock()
		return
	default:
		return
	}
	b.mu.Lock()
	b.console = append(b.console, line)
	b.mu.Unlock()
}

// Do runs chromedp actions in the tab; an error fails the test, with the
// console so far.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.t.Fatalf("chromium: %v\nconsole:\n%s", err, strings.Join(b.Console(), "\n"))
	}
}

// Eval runs a script in the page and decodes its JSON-able result into T.
func Eval[T any](b *Browser, script string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](script))
	if err != nil {
		b.t.Fatalf("evaluate %.80q: %v\nconsole:\n%s", script, err, strings.Join(b.Console(), "\n"))
	}
	return v
}

// EvalAsync is Eval for a script whose value is a promise: it waits for it.
func EvalAsync[T any](b *Browser, script string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.80q: %v\nconsole:\n%s", script, err, strings.Join(b.Console(), "\n"))
	}
	return v
}

// Open loads url and waits until the page's script says it is ready
// (body[data-ready="true"]).
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitVisible(`body[data-ready="true"]`))
}

// Console is what the page and the browser logged so far.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// OffHost lists the requests that went anywhere but host.
func (b *Browser) OffHost(host string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, r := range b.requests {
		u, err := url.Parse(r)
		if err != nil || u.Host != host {
			out = append(out, r)
		}
	}
	return out
}

// Requests are the URLs the tab requested so far.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}
