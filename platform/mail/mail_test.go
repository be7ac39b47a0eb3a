package mail

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/acme/monolith/platform/config"
)

// TestLogRedactsSecretInProduction: the development sender shows the token
// (that is its purpose); in production it must not reach the log.
func TestLogRedactsSecretInProduction(t *testing.T) {
	for _, redact := range []bool{false, true} {
		core, logs := observer.New(zap.InfoLevel)
		m := Message{To: "a@example.test", Subject: "Reset", Text: "token:\nS3CRET-TOKEN\n", Secret: "S3CRET-TOKEN"}
		if err := NewLog(zap.New(core), redact).Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		text := logs.All()[0].ContextMap()["text"].(string)
		if shown := strings.Contains(text, "S3CRET-TOKEN"); shown == redact {
			t.Fatalf("redact=%v: logged text %q", redact, text)
		}
	}
}

// TestHeaderInjectionRefused: a recipient or subject with a line break
// could add headers or recipients; compose refuses it before dialling.
func TestHeaderInjectionRefused(t *testing.T) {
	s := NewSMTP(config.Mail{SMTPHost: "127.0.0.1", SMTPPort: 1, SMTPFrom: "noreply@example.test"})
	for _, m := range []Message{
		{To: "a@example.test\r\nBcc: victim@example.test", Subject: "x"},
		{To: "a@example.test", Subject: "x\nBcc: victim@example.test"},
	} {
		if _, err := s.compose(m); !errors.Is(err, ErrBadHeader) {
			t.Fatalf("%+v: err = %v", m, err)
		}
	}
	// Control: a clean message composes.
	b, err := s.compose(Message{To: "a@example.test", Subject: "Reset", Text: "line1\nline2\n"})
	if err != nil || !strings.Contains(string(b), "\r\nline1\r\nline2\r\n") {
		t.Fatalf("compose: %v\n%s", err, b)
	}
}

// TestSealedMessageOpensOnlyUnderItsKey: a message sealed under one
// key-encryption key opens under it, unchanged (multibyte text too), and
// not under another one (a replaced key): the worker then cancels it
// rather than retrying what can never open.
func TestSealedMessageOpensOnlyUnderItsKey(t *testing.T) {
	key := func(b byte) *Sealer {
		k := bytes.Repeat([]byte{b}, 32)
		return &Sealer{key: func() ([]byte, error) { return k, nil }}
	}
	a, b := key(1), key(2)
	m := Message{To: "zoe@example.test", Subject: "Zoë 日本", Text: "jeton 🚀 S3CRET", Secret: "S3CRET"}
	sealed, err := a.seal(m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("S3CRET")) {
		t.Fatal("the secret is in clear in the sealed message")
	}
	if got, err := a.open(sealed); err != nil || got != m {
		t.Fatalf("open under its key: %+v, %v", got, err)
	}
	if _, err := b.open(sealed); !errors.Is(err, errUnreadable) {
		t.Fatalf("open under another key: %v", err)
	}
	if _, err := a.open(sealed[:10]); !errors.Is(err, errUnreadable) {
		t.Fatalf("open a truncated message: %v", err)
	}
	// Two seals of one message differ (a fresh nonce each).
	again, _ := a.seal(m)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are identical: the nonce is reused")
	}
}

// TestRetryBackoffDoublesUpToAnHour: MAIL_RETRY_BACKOFF after the first
// failure, doubled after each next one, never more than an hour.
func TestRetryBackoffDoublesUpToAnHour(t *testing.T) {
	w := &worker{settings: Settings{RetryBackoff: 30 * time.Second}}
	for _, c := range []struct {
		attempt int
		want    time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {8, time.Hour}, {50, time.Hour}} {
		if got := w.backoff(c.attempt); got != c.want {
			t.Errorf("attempt %d: next retry in %v, want %v", c.attempt, got, c.want)
		}
	}
}
