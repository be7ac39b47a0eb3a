// Package audit is the contract of the audit log: the entry a module
// records when something security-relevant happens, and the Recorder it
// injects to record it. The audit module implements the Recorder; the
// platform knows nothing of how entries are stored.
//
// An entry must never carry a secret. The shape makes that hard rather
// than relying on care: the payload is a small map of short strings whose
// keys may not name a credential, and Validate (which every Recorder runs
// before it writes) refuses anything else, so a mistake fails the change
// instead of leaking it.
package audit

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ActorKind is who acted.
type ActorKind string

// The kinds of actor.
const (
	// ActorUser is a signed-in account, or (with no id) someone trying to
	// sign in.
	ActorUser ActorKind = "user"
	// ActorService is a service account.
	ActorService ActorKind = "service"
	// ActorSystem is the application itself or an operator's command.
	ActorSystem ActorKind = "system"
)

// Valid reports whether k is one of the kinds.
func (k ActorKind) Valid() bool {
	return k == ActorUser || k == ActorService || k == ActorSystem
}

// Actor is who performed the action.
type Actor struct {
	Kind ActorKind
	ID   string
}

// User is the actor of a signed-in account's request.
func User(id string) Actor { return Actor{Kind: ActorUser, ID: id} }

// System is the actor of the application's own work and of the CLI.
var System = Actor{Kind: ActorSystem}

// Target is what the action was done to.
type Target struct {
	Type string
	ID   string
}

// Payload is a small set of facts about the action: short strings under
// keys that cannot name a credential.
type Payload map[string]string

// Entry is one event of the audit log. Time, ClientIP and RequestID are
// filled by the Recorder from the request's context when left empty.
type Entry struct {
	Time      time.Time
	Actor     Actor
	Action    string
	Target    Target
	ClientIP  string
	RequestID string
	Payload   Payload
}

// Recorder appends entries to the audit log. When ctx carries a
// transaction (platform/txn), the entry is written in it, so it commits or
// rolls back with the change it describes; otherwise it is written on its
// own (a failed sign-in changes nothing to join).
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}

// Discard is the Recorder of an application without the audit module.
type Discard struct{}

// Record does nothing.
func (Discard) Record(context.Context, Entry) error { return nil }

// Limits of an entry.
const (
	MaxAction       = 64
	MaxTargetType   = 64
	MaxID           = 128
	MaxPayloadKeys  = 16
	MaxPayloadValue = 200
)

var (
	actionRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	wordRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// forbidden are fragments no payload key may contain: the names under
// which a credential would travel.
var forbidden = []string{"password", "passwd", "secret", "token", "hash", "credential", "cookie", "authorization", "otp", "private"}

// ErrInvalid is the kind of every Validate error.
var ErrInvalid = errors.New("invalid audit entry")

// Validate checks e: a dotted action, a known actor kind, a target type,
// bounded ids and a payload within its limits whose keys name no secret.
func Validate(e Entry) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	switch {
	case len(e.Action) > MaxAction || !actionRE.MatchString(e.Action):
		return bad("action %q is not a dotted lower-case name", e.Action)
	case !e.Actor.Kind.Valid():
		return bad("actor kind %q", e.Actor.Kind)
	case !wordRE.MatchString(e.Target.Type) || len(e.Target.Type) > MaxTargetType:
		return bad("target type %q", e.Target.Type)
	case len(e.Actor.ID) > MaxID || len(e.Target.ID) > MaxID || len(e.ClientIP) > MaxID || len(e.RequestID) > MaxID:
		return bad("an id is longer than %d bytes", MaxID)
	case len(e.Payload) > MaxPayloadKeys:
		return bad("payload has %d keys, at most %d", len(e.Payload), MaxPayloadKeys)
	}
	for _, s := range []string{e.Actor.ID, e.Target.ID, e.ClientIP, e.RequestID} {
		if !plain(s) {
			return bad("an id holds control characters or is not UTF-8")
		}
	}
	for k, v := range e.Payload {
		if !wordRE.MatchString(k) {
			return bad("payload key %q", k)
		}
		for _, f := range forbidden {
			if strings.Contains(k, f) {
				return bad("payload key %q may name a secret", k)
			}
		}
		if utf8.RuneCountInString(v) > MaxPayloadValue || !plain(v) {
			return bad("payload value of %q is longer than %d characters, not UTF-8 or holds control characters", k, MaxPayloadValue)
		}
	}
	return nil
}

func plain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// Clip shortens s to the payload's limit, so a long value (a list of
// permissions) is recorded cut rather than failing the change.
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxPayloadValue {
		return s
	}
	r := []rune(s)
	return string(r[:MaxPayloadValue-1]) + "…"
}
