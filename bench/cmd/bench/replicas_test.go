package main

import (
	"net/http"
	"testing"
	"time"
)

func TestJudgeCountsOnlyProbesSentAfterTheChange(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	changed := at(10)
	ps := []probe{
		{sent: at(1), answered: at(2), status: http.StatusForbidden},   // before: old state is right
		{sent: at(8), answered: at(9), status: http.StatusOK},          // in flight: the new state, first seen 1 ms before the response
		{sent: at(9), answered: at(11), status: http.StatusForbidden},  // in flight: the old state is right too
		{sent: at(11), answered: at(12), status: http.StatusForbidden}, // after: stale
		{sent: at(12), answered: at(13), status: http.StatusOK},
		{sent: at(13), answered: at(14), status: http.StatusInternalServerError}, // after: neither state
	}
	r, seen := judge(ps, changed, http.StatusForbidden, http.StatusOK)
	if !seen || r.After != 3 || r.Stale != 1 || r.Errors != 1 || r.LagMS != -1 {
		t.Fatalf("judge = %+v, seen %t; want 3 after, 1 stale, 1 unexpected, lag -1 ms", r, seen)
	}
	if _, seen := judge(ps[:1], changed, http.StatusForbidden, http.StatusOK); seen {
		t.Fatal("a change never shown was seen")
	}
}
