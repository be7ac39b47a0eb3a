package paging_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/paging"
)

func TestCursorRoundTripsAndRefusesOtherLists(t *testing.T) {
	c := paging.Cursor{CreatedAt: time.Date(2026, 3, 14, 9, 26, 53, 123456000, time.UTC), ID: uuid.New()}
	tok := paging.Encode("users", c)
	got, err := paging.Decode("users", tok)
	if err != nil || got != c {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, c)
	}
	if _, err := paging.Decode("sessions", tok); !errors.Is(err, paging.ErrInvalidCursor) {
		t.Fatalf("another list's cursor: %v", err)
	}
	for i := range len(tok) {
		b := []byte(tok)
		b[i] ^= 0x01
		if got, err := paging.Decode("users", string(b)); err == nil && got != c {
			t.Fatalf("byte %d altered: decoded %+v without error", i, got)
		}
	}
}

func TestTrimSaysWhereTheNextPageStarts(t *testing.T) {
	at := func(n int) paging.Cursor {
		return paging.Cursor{CreatedAt: time.Unix(int64(n), 0).UTC(), ID: uuid.New()}
	}
	rows := []int{1, 2, 3}
	if r := paging.Trim(rows, 3, at); r.Next != nil || len(r.Items) != 3 {
		t.Fatalf("a full last page: %+v", r)
	}
	r := paging.Trim(rows, 2, at)
	if r.Next == nil || len(r.Items) != 2 || !r.Next.CreatedAt.Equal(time.Unix(2, 0)) {
		t.Fatalf("one row more than the limit: %+v", r)
	}
}

func TestParamsBoundTheLimit(t *testing.T) {
	for limit, want := range map[int]int{0: paging.DefaultLimit, 1: 1, 100: 100, 101: paging.DefaultLimit, -3: paging.DefaultLimit} {
		r, err := paging.Params{Limit: limit}.Request("users")
		if err != nil || r.Limit != want || !r.After.IsZero() {
			t.Errorf("limit %d: %+v, %v", limit, r, err)
		}
	}
}
