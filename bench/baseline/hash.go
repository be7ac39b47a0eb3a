package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/acme/monolith/platform/config"
)

// HashResult is what -hash prints: the argon2id hashes computed, the
// wall-clock time they took and the process's CPU time (user + system)
// over them.
type HashResult struct {
	Hashes  int64         `json:"hashes"`
	Elapsed time.Duration `json:"elapsed_ns"`
	CPU     time.Duration `json:"cpu_ns"`
	Memory  uint32        `json:"memory_kib"`
	Time    uint32        `json:"iterations"`
	Threads uint8         `json:"parallelism"`
}

// hashLoop is the raw-hash yardstick of the login scenario: argon2id with
// the parameters the application reads from this process's environment
// (the harness passes the application's), on workers goroutines for d,
// with nothing else in the process. Run as its own process, so that its
// garbage collector and runtime settings (GOGC, GOMEMLIMIT) are those of
// a process started like the application, not the harness's.
func hashLoop(workers int, d time.Duration) (HashResult, error) {
	cfg, err := config.LoadSections(config.PasswordSection)
	if err != nil {
		return HashResult{}, err
	}
	p := cfg.Password
	r := HashResult{Memory: p.MemoryKiB, Time: p.Iterations, Threads: p.Parallelism}
	workers = max(workers, 1)
	hash := func(salt []byte) {
		_ = argon2.IDKey([]byte("bench passphrase"), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
	}
	// Warm up first, as the application is before its login run: the
	// heap grows to its working size (page faults the steady state does
	// not pay) outside the measurement.
	var warm sync.WaitGroup
	for range workers {
		warm.Go(func() {
			for range 4 {
				hash(make([]byte, 16))
			}
		})
	}
	warm.Wait()
	var n atomic.Int64
	before, err := cpuTime()
	if err != nil {
		return r, err
	}
	began := time.Now()
	deadline := began.Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			salt := make([]byte, 16)
			for time.Now().Before(deadline) {
				hash(salt)
				n.Add(1)
			}
		})
	}
	wg.Wait()
	r.Elapsed = time.Since(began)
	after, err := cpuTime()
	if err != nil {
		return r, err
	}
	r.Hashes, r.CPU = n.Load(), after-before
	return r, nil
}

func printHashLoop(workers int, d time.Duration) error {
	r, err := hashLoop(workers, d)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
