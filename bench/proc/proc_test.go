package proc

import (
	"os"
	"testing"
	"time"
)

func TestParseStatWithAwkwardName(t *testing.T) {
	raw := []byte("1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0")
	cpu, err := parseStat(raw)
	if err != nil || cpu != 3*time.Second {
		t.Fatalf("cpu = %v, %v; want 3s", cpu, err)
	}
	if _, err := parseStat([]byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestReadSelf(t *testing.T) {
	// Burn some CPU so the control is not zero by construction.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x
	}
	s, err := Read(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if s.RSS <= 0 || s.PeakRSS < s.RSS || s.AnonRSS <= 0 || s.AnonRSS > s.RSS || s.Threads < 1 || s.CPU <= 0 {
		t.Fatalf("stat = %+v", s)
	}
}
