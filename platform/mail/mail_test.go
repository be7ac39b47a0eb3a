package mail

import (
	"errors"
	"strings"
	"testing"

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
