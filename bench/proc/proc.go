// Package proc reads a process's CPU time and memory from Linux /proc, so
// the benchmark harness can charge CPU per request and peak memory to the
// server alone, not to the load generator.
package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime: 100 on every Linux
// architecture Go supports (the kernel exports it fixed, whatever CONFIG_HZ).
const clockTick = 10 * time.Millisecond

// Stat is one sample of a process.
type Stat struct {
	CPU     time.Duration // user + system time since start
	RSS     int64         // resident set, bytes (VmRSS)
	PeakRSS int64         // high-water mark, bytes (VmHWM)
	// AnonRSS is the resident anonymous memory (RssAnon: heap, stacks);
	// the rest of RSS is mostly the binary's mapped code and data.
	AnonRSS int64
	Threads int
}

// Read samples pid.
func Read(pid int) (Stat, error) {
	var s Stat
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.CPU, err = parseStat(raw); err != nil {
		return s, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	return parseStatus(status, s)
}

// parseStat returns utime+stime. The command name (field 2) may contain
// spaces and parentheses, so fields are counted after the last ')'.
func parseStat(raw []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse /proc stat: %w", err)
	}
	return time.Duration(ut+st) * clockTick, nil
}

func parseStatus(raw []byte, s Stat) (Stat, error) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			s.RSS = n << 10
		case "VmHWM":
			s.PeakRSS = n << 10
		case "RssAnon":
			s.AnonRSS = n << 10
		case "Threads":
			s.Threads = int(n)
		}
	}
	if s.RSS == 0 {
		return s, errors.New("no VmRSS in /proc status")
	}
	return s, nil
}

// ResetPeak resets VmHWM to the current RSS (Linux >= 4.0), so a peak can
// be attributed to one scenario. It reports false when the kernel refused.
func ResetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}
