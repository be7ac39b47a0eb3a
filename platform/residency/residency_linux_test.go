package residency

import (
	"os"
	"runtime"
	"testing"
)

// written is initialised data: it lives in the executable's writable
// mapping, whose pages hold the file's bytes until the program writes.
var written = [3 * 4096]byte{1}

func TestReleaseDropsCodeAndKeepsWhatTheProcessWrote(t *testing.T) {
	written[5000] = 42
	before := residentReadOnlyKiB(t)
	advised, err := ReleaseExecutable()
	if err != nil {
		t.Fatal(err)
	}
	after := residentReadOnlyKiB(t)
	if written[5000] != 42 || written[0] != 1 {
		t.Fatalf("the program's variable changed: written[5000] = %d, written[0] = %d (want 42, 1)", written[5000], written[0])
	}
	if advised == 0 {
		t.Fatal("no mapping of the executable was advised")
	}
	// What runs between the release and the second reading (reading
	// /proc, parsing it, the test framework) comes back, a fault mapping
	// the whole page-cache folio around its page, and how large those are
	// depends on how the linker wrote the file; how much a server drops is
	// cmd/app/processtest's to check.
	if after >= before {
		t.Fatalf("resident read-only pages of the executable: %d KiB before, %d KiB after; want fewer", before, after)
	}
	t.Logf("resident read-only pages of the executable: %d KiB -> %d KiB (%d KiB advised)", before, after, advised>>10)
}

func TestReleasableKeepsOnlyTheFilesUnwrittenReadOnlyMappings(t *testing.T) {
	smaps := []byte(`00400000-00c00000 r-xp 00000000 fe:01 4242                               /srv/app
Size:               8192 kB
Rss:                6000 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me
00c00000-01800000 r--p 00800000 fe:01 4242                               /srv/my app: v2 (deleted)
Size:              12288 kB
Anonymous:             0 kB
THPeligible:    0
Swap:                  0 kB
01800000-01810000 r--p 01400000 fe:01 4242                               /srv/app
Size:                 64 kB
Anonymous:            12 kB
Swap:                  0 kB
01810000-01820000 r--p 01410000 fe:01 4242                               /srv/app
Size:                 64 kB
Anonymous:             0 kB
Swap:                 12 kB
01820000-01900000 rw-p 01420000 fe:01 4242                               /srv/app
Size:                896 kB
Anonymous:             0 kB
Swap:                  0 kB
01900000-01a00000 rw-p 00000000 00:00 0 
Size:               1024 kB
Anonymous:          1024 kB
Swap:                  0 kB
7f0000000000-7f0000010000 r--p 00000000 fe:02 4242                       /mnt/other
Size:                 64 kB
Anonymous:             0 kB
Swap:                  0 kB
7f0000010000-7f0000020000 r-xp 00000000 fe:01 777                        /usr/lib/other.so
Size:                 64 kB
Anonymous:             0 kB
Swap:                  0 kB
7f0000020000-7f0000030000 r--p 00000000 fe:01 4242                       /srv/app
Size:                 64 kB
Swap:                  0 kB
7f0000030000-7f0000040000 r--p 00000000 fe:01 4242                       /srv/app
Size:                 64 kB
Anonymous:             0 kB
7fff00000000-7fff00001000 r-xp 00000000 00:00 0                          [vdso]
Size:                  4 kB
Anonymous:             0 kB
Swap:                  0 kB
`)
	got, err := releasable(smaps, 0x00401234)
	if err != nil {
		t.Fatal(err)
	}
	want := []span{{0x00400000, 0x00c00000}, {0x00c00000, 0x01800000}}
	if len(got) != len(want) || got[0].span != want[0] || got[1].span != want[1] || got[0].rss != 6000 {
		t.Fatalf("releasable = %+v, want the spans %#x: the code and read-only data; not the relocated, swapped, writable, other-device, other-file or unaccounted (no Anonymous or no Swap line) mappings", got, want)
	}
	// Where the running code is not in a file (it always is), nothing is
	// released rather than something guessed.
	if got, err := releasable(smaps, 0x7fff00000010); err == nil {
		t.Fatalf("code in an anonymous mapping: releasable = %+v, want an error", got)
	}
	if _, err := releasable([]byte("not smaps\n"), 0x00401234); err == nil {
		t.Fatal("unreadable smaps: want an error")
	}
}

// residentReadOnlyKiB sums Rss over the mappings ReleaseExecutable would
// release (which TestReleasable checks): what the release can change.
func residentReadOnlyKiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps here: %v", err)
	}
	pc, _, _, _ := runtime.Caller(0)
	ms, err := releasable(b, uint64(pc))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, m := range ms {
		total += m.rss
	}
	if total <= 0 {
		t.Fatal("no resident read-only mapping of the executable in /proc/self/smaps")
	}
	return total
}
