package testkit

import (
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/acme/monolith/platform/config"
)

// Mail is one message a Mailbox received: its envelope recipients, its
// parsed headers and its plain-text body (line breaks normalised to \n).
type Mail struct {
	Rcpt   []string
	Header mail.Header
	Body   string
	Raw    string
}

// Subject is the decoded Subject header.
func (m Mail) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// Mailbox is a real SMTP server (go-smtp) on a loopback port that keeps
// every message it receives, so tests see exactly what the application's
// mail.Sender put on the wire.
type Mailbox struct {
	t    testing.TB
	port int

	mu      sync.Mutex
	msgs    []Mail
	arrived chan struct{}
}

// StartMailbox starts the server; it stops when the test ends.
func StartMailbox(t testing.TB) *Mailbox {
	t.Helper()
	m := &Mailbox{t: t, arrived: make(chan struct{}, 1)}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	// Addresses in other scripts need RFC 6531, as from real servers.
	srv.EnableSMTPUTF8 = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailbox: %v", err)
	}
	m.port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

// WithMailbox sends the application's email to m, in clear on loopback.
func WithMailbox(m *Mailbox) Option {
	relay := WithConfig(func(c *config.Config) {
		c.Mail = config.Mail{SMTPHost: "127.0.0.1", SMTPPort: m.port, SMTPFrom: "noreply@example.test", SMTPTLS: "none"}
	})
	// Mail that subscribers of events send goes out from jobs.
	return func(o *options) {
		relay(o)
		WithJobs()(o)
	}
}

// NewSession implements smtp.Backend.
func (m *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailboxSession{m: m}, nil }

type mailboxSession struct {
	m    *Mailbox
	rcpt []string
}

func (s *mailboxSession) Reset()                               { s.rcpt = nil }
func (s *mailboxSession) Logout() error                        { return nil }
func (s *mailboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *mailboxSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := Mail{Rcpt: s.rcpt, Raw: string(raw)}
	if parsed, err := mail.ReadMessage(strings.NewReader(string(raw))); err == nil {
		body, _ := io.ReadAll(parsed.Body)
		msg.Header, msg.Body = parsed.Header, strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, msg)
	s.m.mu.Unlock()
	select {
	case s.m.arrived <- struct{}{}:
	default:
	}
	return nil
}

// Messages returns every message received so far, oldest first.
func (m *Mailbox) Messages() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.msgs...)
}

// To returns the messages received so far whose envelope names addr.
func (m *Mailbox) To(addr string) []Mail {
	var out []Mail
	for _, msg := range m.Messages() {
		for _, r := range msg.Rcpt {
			if strings.EqualFold(r, addr) {
				out = append(out, msg)
				break
			}
		}
	}
	return out
}

// WaitTo waits until n messages to addr have arrived and returns them. It
// fails the test after 20 s: mail is sent in the background, so its
// arrival is awaited, never assumed.
func (m *Mailbox) WaitTo(addr string, n int) []Mail {
	m.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := m.To(addr); len(got) >= n {
			return got
		}
		select {
		case <-m.arrived:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			m.t.Fatalf("mailbox: %d message(s) to %s after 20s, want %d; all: %v", len(m.To(addr)), addr, n, m.summary())
			return nil
		}
	}
}

func (m *Mailbox) summary() []string {
	var out []string
	for _, msg := range m.Messages() {
		out = append(out, strings.Join(msg.Rcpt, ",")+": "+msg.Header.Get("Subject"))
	}
	return out
}
