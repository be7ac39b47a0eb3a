package mail

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/seal"
)

// Settings are the variables of mail delivery through the job queue.
type Settings struct {
	SendTimeout  time.Duration `env:"MAIL_SEND_TIMEOUT" envDefault:"30s" min:"100ms" max:"10m" doc:"one delivery attempt at most this long (dial, TLS, SMTP dialogue); then it fails and is retried"`
	MaxAttempts  int           `env:"MAIL_MAX_ATTEMPTS" envDefault:"10" min:"1" max:"50" doc:"delivery attempts of one email before its job is discarded (a 5xx rejection ends it at once, as cancelled)"`
	RetryBackoff time.Duration `env:"MAIL_RETRY_BACKOFF" envDefault:"30s" min:"10ms" max:"1h" doc:"wait before the first retry; it doubles with each failed attempt, up to an hour (the default's 10 attempts span about 3 hours)"`
}

// maxBackoff caps the doubling retry delay.
const maxBackoff = time.Hour

// Module provides the Sender modules use (Queued), the Transport and the
// worker that delivers the queued messages.
var Module = fx.Options(
	config.Provide[Settings]("mail delivery", "email sent through the job queue: attempts, their timeout and backoff"),
	fx.Provide(
		NewTransport,
		NewSealer,
		fx.Annotate(NewQueued, fx.As(new(Sender))),
	),
	jobs.ProvideWorker[sendArgs](newWorker),
)

// sendArgs is one queued email. The message is sealed: a reset token in
// it is a bearer credential, and River keeps a job's arguments in the
// database (and shows them in River UI and `app jobs`), so they hold
// ciphertext only, and nothing once delivered (Sealed then empty).
type sendArgs struct {
	Sealed []byte `json:"sealed,omitempty"`
}

// Kind implements jobs.Args. It is stored: never rename it.
func (sendArgs) Kind() string { return "mail.send" }

// sealed is the message as sealed, JSON.
type sealed struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Secret  string `json:"secret,omitempty"`
}

// Sealer seals and opens queued messages with AES-256-GCM under a key
// derived from the key-encryption key (HKDF, its own label, so the mail
// ciphertext and the sealed signing keys never share a key).
type Sealer struct {
	key  func() ([]byte, error)
	once sync.Once
	box  seal.Box
	err  error
}

// aad binds a ciphertext to the job kind it was sealed for.
var aad = []byte(sendArgs{}.Kind())

// NewSealer returns the sealer. It reads the key-encryption key when the
// first message is sealed or opened, not at build time: a one-shot
// command that builds the mail sender but sends nothing (users
// create-superuser in a pod) then needs no key, as with the limiter.
func NewSealer(src *config.Source) *Sealer {
	return &Sealer{key: func() ([]byte, error) {
		c, err := config.LoadSectionsFrom(src.Lookup, config.SessionsSection)
		return c.Sessions.KeyEncryptionKey, err
	}}
}

func (s *Sealer) boxOnce() (seal.Box, error) {
	s.once.Do(func() {
		kek, err := s.key()
		if err != nil {
			s.err = err
			return
		}
		key, err := hkdf.Key(sha256.New, kek, nil, "mail job message", 32)
		if err != nil {
			s.err = err
			return
		}
		s.box, s.err = seal.New(key)
	})
	if s.err != nil {
		return seal.Box{}, fmt.Errorf("mail sealing key: %w", s.err)
	}
	return s.box, nil
}

func (s *Sealer) seal(m Message) ([]byte, error) {
	box, err := s.boxOnce()
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(sealed(m)) //nolint:gosec // the plaintext the next line seals; never stored or logged
	if err != nil {
		return nil, fmt.Errorf("seal message: %w", err)
	}
	return box.Seal(plain, aad), nil
}

// errUnreadable is a sealed message that does not open: another key (the
// key-encryption key was replaced) or a damaged row. Retrying cannot help.
var errUnreadable = errors.New("mail: the queued message does not open with the current key-encryption key")

func (s *Sealer) open(b []byte) (Message, error) {
	box, err := s.boxOnce()
	if err != nil {
		return Message{}, err
	}
	plain, err := box.Open(b, aad)
	if err != nil {
		return Message{}, errUnreadable
	}
	var m sealed
	if err := json.Unmarshal(plain, &m); err != nil {
		return Message{}, errUnreadable
	}
	return Message(m), nil
}

// Queued is the Sender modules get: Send enqueues the message as a
// "mail.send" job and returns; the worker delivers it. Inside txn.Run the
// job joins the transaction, so a message about a write that rolls back
// is never sent, and one about a write that commits is never lost to a
// relay outage or a restart.
type Queued struct {
	queue    *jobs.Queue
	seal     *Sealer
	settings Settings
}

// NewQueued returns the queued sender.
func NewQueued(q *jobs.Queue, s *Sealer, settings Settings) *Queued {
	return &Queued{queue: q, seal: s, settings: settings}
}

// Send implements Sender. A message no relay would take (see Check) is
// refused here, to its caller, rather than by the worker later.
func (q *Queued) Send(ctx context.Context, m Message) error {
	if err := Check(m); err != nil {
		return err
	}
	b, err := q.seal.seal(m)
	if err != nil {
		return err
	}
	if _, err := q.queue.Enqueue(ctx, sendArgs{Sealed: b}, &jobs.InsertOpts{MaxAttempts: q.settings.MaxAttempts}); err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	return nil
}

// worker delivers queued messages through the Transport.
type worker struct {
	jobs.WorkerDefaults[sendArgs]
	transport Transport
	seal      *Sealer
	db        *database.DB
	settings  Settings
	log       *zap.Logger
}

func newWorker(t Transport, s *Sealer, db *database.DB, settings Settings, log *zap.Logger) *worker {
	return &worker{transport: t, seal: s, db: db, settings: settings, log: log.Named("mail")}
}

// Timeout implements jobs.Worker: an attempt's deadline, which the SMTP
// dialogue (connection included) honours.
func (w *worker) Timeout(*jobs.Job[sendArgs]) time.Duration { return w.settings.SendTimeout }

// NextRetry implements jobs.Worker.
func (w *worker) NextRetry(j *jobs.Job[sendArgs]) time.Time {
	return time.Now().Add(w.backoff(j.Attempt))
}

// backoff is the wait after failed attempt n: MAIL_RETRY_BACKOFF,
// doubling per failed attempt, capped at an hour.
func (w *worker) backoff(attempt int) time.Duration {
	d := w.settings.RetryBackoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// Work implements jobs.Worker. A temporary failure (no connection, a
// timeout, a 4xx reply) returns the error, and River retries; a permanent
// one (a 5xx reply, a message that does not open) cancels the job, which
// stays listed as cancelled with its error: `app jobs retry` sends it
// again once its cause is fixed.
func (w *worker) Work(ctx context.Context, j *jobs.Job[sendArgs]) error {
	if len(j.Args.Sealed) == 0 {
		// Redacted: an earlier attempt delivered it, and the process
		// ended before River recorded the completion.
		return nil
	}
	m, err := w.seal.open(j.Args.Sealed)
	if err != nil {
		w.log.Error("queued email cannot be read; cancelled", zap.Int64("job", j.ID), zap.Error(err))
		return jobs.JobCancel(err)
	}
	if err := w.transport.Send(ctx, m); err != nil {
		if errors.Is(err, ErrPermanent) {
			w.log.Error("email rejected permanently; cancelled", zap.Int64("job", j.ID), zap.Error(err))
			return jobs.JobCancel(err)
		}
		return fmt.Errorf("deliver email: %w", err)
	}
	// Delivered: erase the sealed message from the job River keeps. A
	// failure here must not fail the job, whose retry would send the
	// email twice; the ciphertext then stays until River prunes the job.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := jobs.Redact(rctx, w.db, j.ID, sendArgs{}); err != nil {
		w.log.Warn("delivered email's job not redacted", zap.Int64("job", j.ID), zap.Error(err))
	}
	return nil
}
