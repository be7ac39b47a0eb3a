package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/acme/monolith/platform/config"
)

// box is a real SMTP server's backend that requires AUTH PLAIN and keeps
// the messages it accepts.
type box struct {
	mu   sync.Mutex
	msgs []string
}

func (b *box) NewSession(*smtp.Conn) (smtp.Session, error) { return &sess{b: b}, nil }

type sess struct {
	b      *box
	authed bool
}

func (s *sess) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *sess) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "mailer" || pass != "mail secret" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *sess) Reset()        {}
func (s *sess) Logout() error { return nil }
func (s *sess) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return errors.New("authentication required")
	}
	return nil
}
func (s *sess) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sess) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, string(b))
	s.b.mu.Unlock()
	return err
}

// selfSigned returns a server certificate for 127.0.0.1 and a client
// config trusting only it.
func selfSigned(t *testing.T) (*tls.Config, *tls.Config) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// TestSMTPTLSModes sends through a real SMTP server with STARTTLS and with
// implicit TLS, authenticating with AUTH PLAIN. Control: without TLS the
// server refuses AUTH, so the send fails (configuration also refuses
// SMTP_TLS=none with credentials for a remote relay).
func TestSMTPTLSModes(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	for _, mode := range []string{"starttls", "tls", "none"} {
		t.Run(mode, func(t *testing.T) {
			b := &box{}
			srv := smtp.NewServer(b)
			srv.Domain, srv.TLSConfig = "localhost", serverTLS
			var ln net.Listener
			var err error
			if mode == "tls" {
				ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
			} else {
				ln, err = net.Listen("tcp", "127.0.0.1:0")
			}
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })

			s := NewSMTP(config.Mail{
				SMTPHost: "127.0.0.1", SMTPPort: ln.Addr().(*net.TCPAddr).Port, SMTPFrom: "Example <noreply@example.test>",
				SMTPUsername: "mailer", SMTPPassword: "mail secret", SMTPTLS: mode,
			})
			s.TLSConfig = clientTLS
			err = s.Send(t.Context(), Message{To: "user@example.test", Subject: "Reset your password", Text: "token:\nabc\n"})
			if mode == "none" {
				// The server refuses AUTH over plain text.
				if err == nil {
					t.Fatal("authenticated over plain text")
				}
				return
			}
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.msgs) != 1 || !strings.Contains(b.msgs[0], "To: user@example.test") || !strings.Contains(b.msgs[0], "\r\nabc\r\n") {
				t.Fatalf("received %q", b.msgs)
			}
		})
	}
}

// TestSMTPAttemptEndsWithItsContext: a relay that accepts the connection
// and never answers holds an attempt only until its context ends, in each
// TLS mode (go-smtp's own per-command deadlines are minutes long).
func TestSMTPAttemptEndsWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var held sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held.Go(func() { _, _ = io.Copy(io.Discard, c) }) // reads, never answers
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, mode := range []string{"none", "starttls", "tls"} {
		s := NewSMTP(config.Mail{SMTPHost: "127.0.0.1", SMTPPort: port, SMTPFrom: "noreply@example.test", SMTPTLS: mode})
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- s.Send(ctx, Message{To: "a@example.test", Subject: "x", Text: "x"}) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: err = %v, want the context's deadline", mode, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the attempt outlived its context by 20s", mode)
		}
		cancel()
	}
}
