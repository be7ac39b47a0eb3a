package audit_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/audit"
)

func valid() audit.Entry {
	return audit.Entry{
		Actor: audit.User("u-1"), Action: "users.role.assigned",
		Target: audit.Target{Type: "user", ID: "u-2"}, Payload: audit.Payload{"role_id": "r-1", "name": "Prüfer 日本語 👩‍💻"},
	}
}

// TestValidateRefusesWhatCouldCarryASecret: keys that name credentials,
// long or control-laden values, malformed actions and kinds are refused;
// multibyte text within the limit passes.
func TestValidateRefusesWhatCouldCarryASecret(t *testing.T) {
	if err := audit.Validate(valid()); err != nil {
		t.Fatalf("control: %v", err)
	}
	bad := map[string]func(*audit.Entry){
		"password key":       func(e *audit.Entry) { e.Payload["new_password"] = "x" },
		"token key":          func(e *audit.Entry) { e.Payload["refresh_token"] = "x" },
		"secret key":         func(e *audit.Entry) { e.Payload["client_secret"] = "x" },
		"hash key":           func(e *audit.Entry) { e.Payload["password_hash"] = "x" },
		"upper-case key":     func(e *audit.Entry) { e.Payload["Password"] = "x" },
		"long value":         func(e *audit.Entry) { e.Payload["name"] = strings.Repeat("é", audit.MaxPayloadValue+1) },
		"control character":  func(e *audit.Entry) { e.Payload["name"] = "a\nb" },
		"not UTF-8":          func(e *audit.Entry) { e.Payload["name"] = "\xff" },
		"too many keys":      func(e *audit.Entry) { e.Payload = bigPayload() },
		"undotted action":    func(e *audit.Entry) { e.Action = "signin" },
		"upper-case action":  func(e *audit.Entry) { e.Action = "Users.Deleted" },
		"unknown actor kind": func(e *audit.Entry) { e.Actor.Kind = "robot" },
		"no target type":     func(e *audit.Entry) { e.Target.Type = "" },
		"long id":            func(e *audit.Entry) { e.Target.ID = strings.Repeat("x", audit.MaxID+1) },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			e := valid()
			mutate(&e)
			if err := audit.Validate(e); !errors.Is(err, audit.ErrInvalid) {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
	at := strings.Repeat("日", audit.MaxPayloadValue)
	e := valid()
	e.Payload["name"] = at
	if err := audit.Validate(e); err != nil {
		t.Fatalf("a value of exactly the limit in characters: %v", err)
	}
}

func bigPayload() audit.Payload {
	p := audit.Payload{}
	for i := range audit.MaxPayloadKeys + 1 {
		p["k"+strings.Repeat("x", i)] = "v"
	}
	return p
}

// TestClip: a long value is cut to the limit in characters, a short one kept.
func TestClip(t *testing.T) {
	if got := audit.Clip("kurz"); got != "kurz" {
		t.Fatal(got)
	}
	got := audit.Clip(strings.Repeat("ü", 500))
	e := valid()
	e.Payload["permissions"] = got
	if err := audit.Validate(e); err != nil || !strings.HasSuffix(got, "…") {
		t.Fatalf("clipped %q: %v", got, err)
	}
}
