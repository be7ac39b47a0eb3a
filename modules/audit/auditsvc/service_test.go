package auditsvc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acme/monolith/modules/audit/auditsvc"
	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
)

type fakeStore struct {
	got    []auditsvc.Event
	cutoff time.Time
}

func (f *fakeStore) Insert(_ context.Context, e auditsvc.Event) error {
	f.got = append(f.got, e)
	return nil
}

func (f *fakeStore) List(context.Context, auditsvc.Filter, paging.Request) (paging.Result[auditsvc.Event], error) {
	return paging.Result[auditsvc.Event]{}, nil
}

func (f *fakeStore) Prune(_ context.Context, cutoff time.Time) (int, error) {
	f.cutoff = cutoff
	return 0, nil
}

// TestRecordCompletesTheEntry: the time, client address and request id
// come from the clock and the request context when the entry has none;
// what the entry says wins; an invalid entry is never written.
func TestRecordCompletesTheEntry(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.UTC)
	store := &fakeStore{}
	svc := auditsvc.New(store, auditsvc.Options{
		Retention: 48 * time.Hour, Now: func() time.Time { return now },
		Context: func(context.Context) (string, string) { return "203.0.113.7", "req-1" },
	})
	ctx := context.Background()
	e := audit.Entry{Actor: audit.System, Action: "test.done", Target: audit.Target{Type: "thing"}}
	if err := svc.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.ClientIP = "198.51.100.1"
	if err := svc.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if len(store.got) != 2 || store.got[0].ClientIP != "203.0.113.7" || store.got[0].RequestID != "req-1" ||
		!store.got[0].Time.Equal(now.Truncate(time.Microsecond)) || store.got[1].ClientIP != "198.51.100.1" {
		t.Fatalf("recorded %+v", store.got)
	}
	e.Payload = audit.Payload{"api_token": "x"}
	if err := svc.Record(ctx, e); !errors.Is(err, audit.ErrInvalid) || len(store.got) != 2 {
		t.Fatalf("Record of a token = %v (%d written)", err, len(store.got))
	}
	if _, err := svc.Prune(ctx); err != nil || !store.cutoff.Equal(now.Add(-48*time.Hour)) {
		t.Fatalf("cutoff %v, %v", store.cutoff, err)
	}
}

// TestFilterCheck names every bad field with its code.
func TestFilterCheck(t *testing.T) {
	at := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	err := auditsvc.Filter{ActorKind: "bot", Action: "x", TargetID: "1", From: at, To: at}.Check()
	var m fault.Multi
	if !errors.As(err, &m) || len(m) != 4 {
		t.Fatalf("Check = %v", err)
	}
	for i, code := range []string{"invalid_actor_kind", "invalid_action", "target_type_required", "invalid_time_range"} {
		if m[i].Code != code {
			t.Errorf("error %d = %s, want %s", i, m[i].Code, code)
		}
	}
	if err := (auditsvc.Filter{ActorKind: audit.ActorService, Action: "auth.key.created", From: at, To: at.Add(time.Second)}).Check(); err != nil {
		t.Fatalf("a good filter: %v", err)
	}
}
