package residency

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReleaseExecutable drops from the process's page tables the resident
// pages of the executable's mappings that hold the file's bytes as they
// are (code, read-only data, function tables) and reports how many bytes
// of mappings it advised.
//
// MADV_DONTNEED on a private file mapping discards every copy the process
// made by writing, so a mapping the process can write (.data) or has
// written (a position-independent build's relocated read-only data, whose
// copies smaps counts as Anonymous, or as Swap once swapped out) is left
// alone: it would lose the program's variables or its relocations. A
// mapping never written loses nothing; the next access maps the same
// page of the file again.
func ReleaseExecutable() (uint64, error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("read the process's mappings: %w", err)
	}
	// The executable is the file mapped where this function's code is:
	// its device and inode as smaps spells them, which on some
	// filesystems (overlayfs before Linux 6.8, btrfs subvolumes) are not
	// what stat says.
	pc, _, _, _ := runtime.Caller(0)
	ms, err := releasable(smaps, uint64(pc))
	if err != nil {
		return 0, err
	}
	var advised uint64
	for _, s := range ms {
		// unix.Madvise takes a []byte, which would mean making a slice
		// from a bare address; the system call takes the address.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(s.start), uintptr(s.end-s.start), unix.MADV_DONTNEED); errno != 0 {
			return advised, fmt.Errorf("madvise %#x-%#x (%d bytes released before it): %w", s.start, s.end, advised, errno)
		}
		advised += s.end - s.start
	}
	return advised, nil
}

// span is an address range of the process.
type span struct{ start, end uint64 }

// mapping is one entry of /proc/<pid>/smaps: a header line ("start-end
// perms offset major:minor inode path") and "Key: value" lines.
type mapping struct {
	span
	writable             bool
	file                 string // "major:minor inode"; "" for anonymous memory
	rss, anonymous, swap int64  // kB; -1 when the entry has no such line
}

// releasable returns the mappings of the file mapped at pc that the
// process can neither write nor has written.
func releasable(smaps []byte, pc uint64) ([]mapping, error) {
	all, err := parseSmaps(smaps)
	if err != nil {
		return nil, err
	}
	file := ""
	for _, m := range all {
		if m.start <= pc && pc < m.end {
			file = m.file
			break
		}
	}
	if file == "" {
		return nil, errors.New("no file mapping holds the running code")
	}
	var out []mapping
	for _, m := range all {
		if m.file == file && !m.writable && m.anonymous == 0 && m.swap == 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

// parseSmaps reads every entry of /proc/<pid>/smaps.
func parseSmaps(smaps []byte) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		// A key has neither spaces nor dashes; a header has both before
		// its first colon (the device's).
		if key, value, ok := strings.Cut(line, ":"); ok && !strings.ContainsAny(key, " -") {
			if len(out) == 0 {
				continue
			}
			var field *int64
			switch m := &out[len(out)-1]; key {
			case "Rss":
				field = &m.rss
			case "Anonymous":
				field = &m.anonymous
			case "Swap":
				field = &m.swap
			default:
				continue
			}
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
			if err != nil {
				kb = -1
			}
			*field = kb
			continue
		}
		m, ok := parseHeader(line)
		if !ok {
			return nil, fmt.Errorf("unexpected line in smaps: %q", line)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	return out, nil
}

func parseHeader(line string) (mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return mapping{}, false
	}
	m := mapping{span: span{start, end}, writable: strings.Contains(f[1], "w"), rss: -1, anonymous: -1, swap: -1}
	if f[4] != "0" {
		m.file = f[3] + " " + f[4]
	}
	return m, true
}
