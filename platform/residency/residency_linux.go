package residency

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReleaseExecutable unmaps from the process's page tables the resident
// pages of the executable's mappings that hold the file's bytes as they
// are (code, read-only data, function tables) and reports how many bytes
// of mappings it advised.
//
// MADV_DONTNEED on a private file mapping discards every copy the process
// made by writing, so a mapping the process can write (.data) or has
// written (a dynamically linked binary's relocated read-only data, whose
// pages smaps counts as Anonymous) is left alone: it would lose the
// program's variables or its relocations. A mapping never written loses
// nothing; the next access maps the same page of the file again.
func ReleaseExecutable() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return 0, fmt.Errorf("stat the executable: %w", err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("read the process's mappings: %w", err)
	}
	var advised uint64
	for _, m := range releasable(smaps, fileID{ino: st.Ino, major: unix.Major(st.Dev), minor: unix.Minor(st.Dev)}) {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return advised, fmt.Errorf("madvise %#x-%#x: %w", m.start, m.end, errno)
		}
		advised += uint64(m.end - m.start)
	}
	return advised, nil
}

// fileID names a file as /proc/<pid>/smaps does: device and inode.
type fileID struct {
	ino          uint64
	major, minor uint32
}

// span is an address range of the process.
type span struct{ start, end uintptr }

// releasable reads /proc/<pid>/smaps and returns the mappings of file f
// that the process can neither write nor has written. A mapping starts
// with a header line ("start-end perms offset major:minor inode path")
// and goes on with "Key: value" lines, Anonymous among them.
func releasable(smaps []byte, f fileID) []span {
	var out []span
	var cur span
	candidate := false // the mapping being read is f's and read-only
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if key, value, ok := strings.Cut(line, ":"); ok && !strings.Contains(key, " ") && !strings.Contains(key, "-") {
			if key == "Anonymous" && candidate {
				kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
				if err == nil && kb == 0 {
					out = append(out, cur)
				}
				candidate = false
			}
			continue
		}
		candidate = false // a mapping whose Anonymous line is missing stays
		fields := strings.Fields(line)
		if len(fields) < 6 || strings.Contains(fields[1], "w") {
			continue
		}
		if ino, err := strconv.ParseUint(fields[4], 10, 64); err != nil || ino != f.ino {
			continue
		}
		maj, mnr, ok := strings.Cut(fields[3], ":")
		if !ok || !hexEquals(maj, uint64(f.major)) || !hexEquals(mnr, uint64(f.minor)) {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		cur, candidate = span{start: uintptr(start), end: uintptr(end)}, true
	}
	return out
}

func hexEquals(s string, v uint64) bool {
	n, err := strconv.ParseUint(s, 16, 64)
	return err == nil && n == v
}
