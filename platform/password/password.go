// Package password hashes and verifies passwords with argon2id, encoded as
// PHC strings ($argon2id$v=19$m=...,t=...,p=...$salt$hash), so parameters
// can be raised later without invalidating stored hashes.
//
// Each hash costs MemoryKiB of RAM for tens of milliseconds; a semaphore
// caps how many run at once so a login flood queues instead of exhausting
// memory, and the queue itself is bounded in length and in waiting time,
// so a flood is refused (ErrBusy, a 503 with Retry-After) instead of
// making every later request wait behind it. A request whose client has
// gone away (package peer) leaves the queue and is never hashed.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/peer"
)

// Length limits, in characters (not bytes). No truncation, no normalisation.
const (
	MinLength = 8
	MaxLength = 128
)

// Policy errors.
var (
	ErrTooShort = fault.New(fault.Invalid, "password_too_short", fmt.Sprintf("must be at least %d characters", MinLength))
	ErrTooLong  = fault.New(fault.Invalid, "password_too_long", fmt.Sprintf("must be at most %d characters", MaxLength))
	ErrInvalid  = fault.New(fault.Invalid, "password_invalid", "must be valid UTF-8")
	// ErrMalformedHash means a stored hash cannot be parsed.
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrBusy is a request refused because every hashing slot is taken and
	// the queue is full, or its wait ran out. It carries a Retry-After.
	ErrBusy = fault.New(fault.Unavailable, "server_busy", "The server is busy; try again shortly.")
	// ErrClientGone is a request abandoned because its client closed the
	// connection while it waited: nobody would read the answer.
	ErrClientGone = fmt.Errorf("password hashing: the client went away: %w", context.Canceled)
)

// busy is ErrBusy with its hint: slots free up within tens of milliseconds,
// so one second is enough for the queue to have moved on.
var busy = ErrBusy.WithRetryAfter(time.Second)

// peerPoll is how often a waiting request checks that its client is
// still connected (one non-blocking peek per waiter). A flood keeps a
// full queue of waiters, each woken at this rate while the slots hash:
// at 20 ms that was about one per cent of a login's CPU spent asking.
// A client that left is never hashed whatever the rate (acquire asks once
// more when a slot is free); the rate only decides how soon its place in
// the queue is given up.
const peerPoll = 100 * time.Millisecond

// Check applies the length policy to a new password and names field in the
// error. It returns nil (an untyped nil *fault.Error) when pw is acceptable.
func Check(field, pw string) *fault.Error {
	if !utf8.ValidString(pw) {
		return &fault.Error{Kind: ErrInvalid.Kind, Code: ErrInvalid.Code, Message: ErrInvalid.Message, Field: field}
	}
	n := utf8.RuneCountInString(pw)
	var e *fault.Error
	switch {
	case n < MinLength:
		e = ErrTooShort
	case n > MaxLength:
		e = ErrTooLong
	case IsCommon(pw):
		e = ErrCommon
	default:
		return nil
	}
	return &fault.Error{Kind: e.Kind, Code: e.Code, Message: e.Message, Field: field}
}

type params struct {
	memory  uint32
	time    uint32
	threads uint8
}

// Hasher hashes with fixed parameters, bounded concurrency and a bounded
// queue.
type Hasher struct {
	p     params
	slots chan struct{}
	queue int64         // requests allowed to wait for a slot
	wait  time.Duration // how long each may wait
	dummy string

	waiting                           atomic.Int64
	computed, refused, timedOut, gone atomic.Uint64
}

// Stats are the hasher's counters since it was made.
type Stats struct {
	Computed   uint64 // hashes and verifications computed
	Busy       uint64 // refused at once: the queue was full
	TimedOut   uint64 // refused after waiting PASSWORD_HASH_QUEUE_TIMEOUT
	ClientGone uint64 // abandoned: the client closed its connection
	Waiting    int64  // waiting for a slot now
}

// Stats returns the counters (for /metrics and tests).
func (h *Hasher) Stats() Stats {
	return Stats{Computed: h.computed.Load(), Busy: h.refused.Load(), TimedOut: h.timedOut.Load(),
		ClientGone: h.gone.Load(), Waiting: h.waiting.Load()}
}

// NewHasher returns a hasher for cfg.
func NewHasher(cfg config.Password) (*Hasher, error) {
	h := &Hasher{
		p:     params{memory: cfg.MemoryKiB, time: cfg.Iterations, threads: cfg.Parallelism},
		slots: make(chan struct{}, max(cfg.Concurrency, 1)),
		queue: int64(max(cfg.Queue, 0)),
		wait:  max(cfg.QueueTimeout, 0),
	}
	// A well-formed hash with our parameters and random salt and key:
	// verifying against it when the account does not exist costs exactly
	// a real check (and no password can match it). Built, not computed, so
	// start-up pays nothing for it.
	var salt, key [32]byte
	if _, err := rand.Read(salt[:16]); err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	b64 := base64.RawStdEncoding
	h.dummy = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.p.memory, h.p.time, h.p.threads,
		b64.EncodeToString(salt[:16]), b64.EncodeToString(key[:]))
	return h, nil
}

// acquire takes a hashing slot, waiting in the bounded queue if none is
// free, and makes sure the client is still there before the work starts.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
	default:
		if h.waiting.Add(1) > h.queue {
			h.waiting.Add(-1)
			h.refused.Add(1)
			return busy
		}
		err := h.waitSlot(ctx)
		h.waiting.Add(-1)
		if err != nil {
			return err
		}
	}
	if peer.Gone(ctx) {
		h.release()
		h.gone.Add(1)
		return ErrClientGone
	}
	return nil
}

func (h *Hasher) waitSlot(ctx context.Context) error {
	timeout := time.NewTimer(h.wait)
	defer timeout.Stop()
	var poll <-chan time.Time
	if peer.Watched(ctx) {
		t := time.NewTicker(peerPoll)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case h.slots <- struct{}{}:
			return nil
		case <-timeout.C:
			h.timedOut.Add(1)
			return busy
		case <-ctx.Done():
			return fmt.Errorf("wait for password hashing slot: %w", ctx.Err())
		case <-poll:
			if peer.Gone(ctx) {
				h.gone.Add(1)
				return ErrClientGone
			}
		}
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, h.p.time, h.p.memory, h.p.threads, 32)
	h.computed.Add(1)
	h.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.memory, h.p.time, h.p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the PHC string, in constant time.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want))) //nolint:gosec // a 32-byte key
	h.computed.Add(1)
	h.release()
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the time of one verification, for unknown accounts.
// Its error (ErrBusy, ErrClientGone) must be returned like Verify's: an
// unknown account answering "invalid credentials" while a known one gets
// 503 would tell them apart.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	_, err := h.Verify(ctx, h.dummy, pw)
	return err
}

// NeedsRehash reports whether encoded was made with other parameters.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.p
}

func decode(encoded string) (params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return params{}, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return params{}, nil, nil, ErrMalformedHash
	}
	var p params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil || p.memory == 0 || p.time == 0 || p.threads == 0 {
		return params{}, nil, nil, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return params{}, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
