package main

import (
	"testing"
	"time"
)

// TestHashLoopUsesTheApplicationsParameters: the raw-hash yardstick reads
// its argon2id parameters through the application's configuration code,
// from the environment the harness gives the application, so the two can
// never hash with different parameters.
func TestHashLoopUsesTheApplicationsParameters(t *testing.T) {
	t.Setenv("APP_ENV", "development")
	t.Setenv("PASSWORD_HASH_MEMORY_KIB", "64")
	t.Setenv("PASSWORD_HASH_ITERATIONS", "3")
	r, err := hashLoop(2, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Memory != 64 || r.Time != 3 || r.Threads != 1 {
		t.Fatalf("parameters m=%d t=%d p=%d, want the environment's m=64 t=3 p=1", r.Memory, r.Time, r.Threads)
	}
	if r.Hashes == 0 || r.CPU <= 0 || r.Elapsed <= 0 {
		t.Fatalf("result %+v: no hash measured", r)
	}
}
