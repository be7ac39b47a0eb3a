package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/peer"
)

func queued(t *testing.T, queue int, wait time.Duration) *Hasher {
	t.Helper()
	h, err := NewHasher(config.Password{MemoryKiB: 64, Iterations: 1, Parallelism: 1, Concurrency: 1, Queue: queue, QueueTimeout: wait})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// hold takes the only slot until the returned func is called, as a hash
// in progress would.
func hold(t *testing.T, h *Hasher) func() {
	t.Helper()
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h.release
}

// waitFor polls cond (bounded): the state it waits for is reached by
// other goroutines.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestQueueIsBounded: with the slot taken, QUEUE requests wait and every
// further one is refused at once with ErrBusy and a Retry-After; the
// waiters are served when the slot frees.
func TestQueueIsBounded(t *testing.T) {
	h := queued(t, 3, time.Minute)
	free := hold(t, h)
	var wg sync.WaitGroup
	var served atomic.Int32
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "waiting passphrase"); err == nil {
				served.Add(1)
			}
		}()
	}
	waitFor(t, "three waiters", func() bool { return h.Stats().Waiting == 3 })
	for range 5 {
		_, err := h.Verify(context.Background(), h.dummy, "one too many")
		fe, ok := fault.As(err)
		if !errors.Is(err, ErrBusy) || !ok || fe.Kind != fault.Unavailable || fe.RetryAfter <= 0 {
			t.Fatalf("a full queue answered %v, want ErrBusy with a Retry-After", err)
		}
	}
	if err := h.VerifyDummy(context.Background(), "unknown account"); !errors.Is(err, ErrBusy) {
		t.Fatalf("VerifyDummy on a full queue: %v (an unknown account must not look different)", err)
	}
	free()
	wg.Wait()
	if s := h.Stats(); served.Load() != 3 || s.Busy != 6 || s.Computed != 3 || s.Waiting != 0 {
		t.Fatalf("served %d, stats %+v; want 3 served, 6 refused, 3 computed", served.Load(), s)
	}
}

// TestWaitIsBounded: a waiter gives up after QUEUE_TIMEOUT with ErrBusy;
// a queue of zero refuses at once.
func TestWaitIsBounded(t *testing.T) {
	h := queued(t, 10, 50*time.Millisecond)
	free := hold(t, h)
	defer free()
	if _, err := h.Hash(context.Background(), "patient passphrase"); !errors.Is(err, ErrBusy) {
		t.Fatalf("after the wait: %v, want ErrBusy", err)
	}
	if s := h.Stats(); s.TimedOut != 1 || s.Computed != 0 {
		t.Fatalf("stats %+v", s)
	}
	none := queued(t, 0, time.Minute)
	defer hold(t, none)()
	if _, err := none.Hash(context.Background(), "no queue at all"); !errors.Is(err, ErrBusy) {
		t.Fatalf("queue 0: %v, want ErrBusy", err)
	}
	// The request's own deadline still applies.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "cancelled request"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestWaitersAskSparingly: a waiter asks whether its client is still
// there at most every peerPoll (100 ms), not every 20 ms: under a flood
// every queued request is woken at that rate while the slots hash.
func TestWaitersAskSparingly(t *testing.T) {
	h := queued(t, 10, time.Minute)
	free := hold(t, h)
	var asked atomic.Int64
	ctx := peer.WithProbe(context.Background(), func() bool { asked.Add(1); return false })
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "patient passphrase")
		done <- err
	}()
	waitFor(t, "the waiter", func() bool { return h.Stats().Waiting == 1 })
	began := time.Now()
	time.Sleep(600 * time.Millisecond)
	free()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A ticker never fires faster than its period, however slow the
	// machine; one more ask comes when the slot is taken.
	if n, most := asked.Load(), int64(time.Since(began)/(100*time.Millisecond))+2; n > most {
		t.Fatalf("the waiter asked %d times in %v, want at most %d", n, time.Since(began).Round(time.Millisecond), most)
	}
}

// TestGoneClientsAreNotHashed: a waiter whose client leaves gives up its
// place without hashing, and a request whose client left before a slot
// was free is not hashed either; one still connected is.
func TestGoneClientsAreNotHashed(t *testing.T) {
	h := queued(t, 10, time.Minute)
	free := hold(t, h)
	var left atomic.Bool
	ctx := peer.WithProbe(context.Background(), left.Load)
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "abandoned passphrase")
		done <- err
	}()
	waitFor(t, "the waiter", func() bool { return h.Stats().Waiting == 1 })
	left.Store(true)
	if err := <-done; !errors.Is(err, ErrClientGone) || !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter whose client left: %v, want ErrClientGone", err)
	}
	free()
	if _, err := h.Verify(ctx, h.dummy, "client already gone"); !errors.Is(err, ErrClientGone) {
		t.Fatalf("free slot, client gone: %v", err)
	}
	var here atomic.Bool
	if _, err := h.Hash(peer.WithProbe(context.Background(), here.Load), "client still here"); err != nil {
		t.Fatal(err)
	}
	if s := h.Stats(); s.Computed != 1 || s.ClientGone != 2 {
		t.Fatalf("stats %+v, want 1 computed and 2 abandoned", s)
	}
}
