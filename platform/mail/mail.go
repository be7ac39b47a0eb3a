// Package mail sends email. Sender is the contract; SMTP delivers through a
// relay (SMTP_HOST), Log writes messages to the log when no relay is
// configured. Modules depend on Sender only.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
)

// Message is a plain-text email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	// Secret is a value inside Text (a reset token) that Log must not
	// write in production.
	Secret string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// New returns the SMTP sender when SMTP_HOST is set, otherwise the log
// sender (which redacts Message.Secret in production).
func New(cfg config.Mail, app config.Config, log *zap.Logger) Sender {
	if cfg.SMTPHost == "" {
		return &Log{log: log.Named("mail"), Redact: app.IsProduction()}
	}
	return &SMTP{cfg: cfg}
}

// Log writes messages to the log instead of sending them.
type Log struct {
	log    *zap.Logger
	Redact bool
}

// NewLog returns a log sender.
func NewLog(log *zap.Logger, redact bool) *Log { return &Log{log: log, Redact: redact} }

// Send implements Sender.
func (l *Log) Send(_ context.Context, m Message) error {
	text := m.Text
	if l.Redact && m.Secret != "" {
		text = strings.ReplaceAll(text, m.Secret, "[redacted]")
	}
	l.log.Info("email not sent (SMTP_HOST unset); logged instead",
		zap.String("to", m.To), zap.String("subject", m.Subject), zap.String("text", text))
	return nil
}

// SMTP sends through a relay.
type SMTP struct {
	cfg config.Mail
	// TLSConfig overrides the TLS settings (tests use a private CA).
	TLSConfig *tls.Config
}

// NewSMTP returns an SMTP sender.
func NewSMTP(cfg config.Mail) *SMTP { return &SMTP{cfg: cfg} }

// ErrBadHeader means a header value held a line break (header injection).
var ErrBadHeader = errors.New("mail: header value contains a line break")

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	body, err := s.compose(m)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(s.cfg.SMTPHost, strconv.Itoa(s.cfg.SMTPPort))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	tlsCfg := s.TLSConfig
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: s.cfg.SMTPHost, MinVersion: tls.VersionTLS12}
	}
	var c *smtp.Client
	switch s.cfg.SMTPTLS {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, tlsCfg))
	case "starttls":
		c, err = smtp.NewClientStartTLS(conn, tlsCfg)
	default:
		c = smtp.NewClient(conn)
	}
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("smtp starttls: %w", err)
	}
	defer func() { _ = c.Close() }()
	if s.cfg.SMTPUsername != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.SMTPUsername, s.cfg.SMTPPassword)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	from, _ := mail.ParseAddress(s.cfg.SMTPFrom)
	if err := c.SendMail(from.Address, []string{m.To}, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return c.Quit()
}

func (s *SMTP) compose(m Message) ([]byte, error) {
	for _, v := range []string{m.To, m.Subject} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, ErrBadHeader
		}
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient: %w", err)
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := s.cfg.SMTPHost
	if f, err := mail.ParseAddress(s.cfg.SMTPFrom); err == nil {
		if _, d, ok := strings.Cut(f.Address, "@"); ok {
			domain = d
		}
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", s.cfg.SMTPFrom)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n"))
	return b.Bytes(), nil
}
