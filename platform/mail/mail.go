// Package mail sends email. Sender is the contract modules depend on; the
// one fx provides them is Queued, which enqueues each message as a job
// (joining the caller's txn.Run transaction) for the mail worker to
// deliver with retries. The Transport delivers: SMTP through a relay
// (SMTP_HOST), or Log, which writes messages to the log when no relay is
// configured; only the worker uses it.
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

// Transport puts a message on the wire (or in the log). It is a type of
// its own so that fx gives modules the queued Sender and the worker alone
// the delivery.
type Transport interface {
	Sender
}

// NewTransport returns the SMTP sender when SMTP_HOST is set, otherwise
// the log sender (which redacts Message.Secret in production).
func NewTransport(cfg config.Mail, app config.Config, log *zap.Logger) Transport {
	if cfg.SMTPHost == "" {
		return &Log{log: log.Named("mail"), Redact: app.IsProduction()}
	}
	return &SMTP{cfg: cfg}
}

// ErrPermanent marks a failure that retrying cannot cure: the relay
// rejected the message with a 5xx reply, or the message itself is
// malformed. The worker stops retrying such a message.
var ErrPermanent = errors.New("mail: permanent failure")

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
var ErrBadHeader = fmt.Errorf("%w: header value contains a line break", ErrPermanent)

// Check refuses a message no relay could be given: a line break in a
// header value, or a recipient that is not an address. Both are
// permanent (ErrPermanent).
func Check(m Message) error {
	for _, v := range []string{m.To, m.Subject} {
		if strings.ContainsAny(v, "\r\n") {
			return ErrBadHeader
		}
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("%w: recipient: %w", ErrPermanent, err)
	}
	return nil
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	body, err := s.compose(m)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(s.cfg.SMTPHost, strconv.Itoa(s.cfg.SMTPPort))
	if _, ok := ctx.Deadline(); !ok {
		// The worker's per-kind timeout bounds an attempt; a direct
		// caller still never waits on a relay forever.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	// go-smtp gives each command its own deadline (minutes), replacing
	// any set on the connection: closing it when ctx ends is what bounds
	// an attempt against a relay that accepts and never answers.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if err := s.converse(conn, body, m.To); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return err
	}
	return nil
}

// converse runs the SMTP dialogue on conn.
func (s *SMTP) converse(conn net.Conn, body []byte, to string) error {
	var err error
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
	if err := c.SendMail(from.Address, []string{to}, bytes.NewReader(body)); err != nil {
		var reply *smtp.SMTPError
		if errors.As(err, &reply) && reply.Code >= 500 && reply.Code < 600 {
			// RFC 5321 4.2.1: a 5yz reply is a permanent rejection of
			// this transaction; sending it again gets the same answer.
			return fmt.Errorf("smtp send: %w: %w", ErrPermanent, err)
		}
		return fmt.Errorf("smtp send: %w", err)
	}
	// The relay took the message with its reply to DATA: a failed QUIT
	// must not fail the delivery, whose retry would send it twice.
	_ = c.Quit()
	return nil
}

func (s *SMTP) compose(m Message) ([]byte, error) {
	if err := Check(m); err != nil {
		return nil, err
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
