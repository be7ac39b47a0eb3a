package main

import (
	"bufio"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const pageSize = 4096

// Bits of a pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
const (
	pagePresent = 1 << 63
	pageSwapped = 1 << 62
	pageFile    = 1 << 61
)

// report counts resident pages.
type report struct {
	bySection map[string]int // ".text", ".gopclntab:pctab", "anonymous", ...
	byPackage map[string]int // "section package": a page counts once for each package on it
}

// region is an address range with a name.
type region struct {
	lo, hi uint64
	name   string
}

// measure reads the pagemap of pid, whose executable is bin.
func measure(pid int, bin string) (*report, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	sections := sectionsOf(f)
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s has no symbol table (built with -s?): %w", bin, err)
	}
	syms = slices.DeleteFunc(syms, func(s elf.Symbol) bool { return s.Size == 0 || s.Value == 0 })
	slices.SortFunc(syms, func(a, b elf.Symbol) int { return cmp.Compare(a.Value, b.Value) })
	exe, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return nil, err
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	pm, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return nil, err
	}
	defer func() { _ = pm.Close() }()

	r := &report{bySection: map[string]int{}, byPackage: map[string]int{}}
	sc := bufio.NewScanner(strings.NewReader(string(maps)))
	for sc.Scan() {
		m, err := parseMapping(sc.Text())
		if err != nil {
			return nil, err
		}
		entries := make([]byte, (m.hi-m.lo)/pageSize*8)
		if _, err := pm.ReadAt(entries, int64(m.lo/pageSize*8)); err != nil && !errors.Is(err, io.EOF) { //nolint:gosec // an address / 4096 * 8 is below 2^63
			return nil, fmt.Errorf("pagemap: %w", err)
		}
		for i := range (m.hi - m.lo) / pageSize {
			e := binary.LittleEndian.Uint64(entries[i*8:])
			if e&pagePresent == 0 || e&pageSwapped != 0 {
				continue
			}
			addr := m.lo + i*pageSize
			if m.name != exe || e&pageFile == 0 {
				// Heap, stacks, .bss, and the binary's own pages it wrote to.
				r.bySection["anonymous"]++
				continue
			}
			sec := find(sections, addr)
			r.bySection[sec]++
			seen := map[string]bool{}
			for j, _ := slices.BinarySearchFunc(syms, addr, func(s elf.Symbol, a uint64) int {
				return cmp.Compare(s.Value+s.Size, a+1)
			}); j < len(syms) && syms[j].Value < addr+pageSize; j++ {
				if p := packageOf(syms[j].Name); !seen[p] {
					seen[p] = true
					r.byPackage[sec+" "+p]++
				}
			}
		}
	}
	return r, sc.Err()
}

// parseMapping reads one line of /proc/PID/maps.
func parseMapping(line string) (region, error) {
	f := strings.Fields(line)
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return region{}, fmt.Errorf("maps: %q", line)
	}
	var m region
	var err1, err2 error
	m.lo, err1 = strconv.ParseUint(lo, 16, 64)
	m.hi, err2 = strconv.ParseUint(hi, 16, 64)
	if len(f) >= 6 {
		m.name = f[5]
	}
	return m, errors.Join(err1, err2)
}

// sectionsOf lists the allocated sections, with the pclntab cut into the
// tables its header locates (runtime/symtab.go, pcHeader), since which of
// them is resident says who read it: function names (tracebacks,
// FuncForPC), pc-value tables (stack walks), the function table.
func sectionsOf(f *elf.File) []region {
	var out []region
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Size == 0 {
			continue
		}
		if s.Name == ".gopclntab" {
			if parts := pclntabParts(s); parts != nil {
				out = append(out, parts...)
				continue
			}
		}
		out = append(out, region{s.Addr, s.Addr + s.Size, s.Name})
	}
	return out
}

func pclntabParts(s *elf.Section) []region {
	head := make([]byte, 8+8*8)
	if _, err := s.ReadAt(head, 0); err != nil || head[7] != 8 {
		return nil
	}
	names := []string{"header", "funcnames", "units", "files", "pctab", "functab"}
	offs := []uint64{0}
	for i := range 5 {
		offs = append(offs, binary.LittleEndian.Uint64(head[8+3*8+i*8:]))
	}
	offs = append(offs, s.Size)
	var out []region
	for i, n := range names {
		if offs[i] > offs[i+1] || offs[i+1] > s.Size {
			return nil
		}
		out = append(out, region{s.Addr + offs[i], s.Addr + offs[i+1], ".gopclntab:" + n})
	}
	return out
}

func find(rs []region, addr uint64) string {
	for _, r := range rs {
		if r.lo <= addr && addr < r.hi {
			return r.name
		}
	}
	return "other"
}

// packageOf is the import path of a Go symbol: "net/http.(*Client).Do"
// is net/http, "type:*main.T" is main.
func packageOf(sym string) string {
	sym = strings.TrimPrefix(strings.TrimPrefix(sym, "type:"), "go:")
	sym = strings.TrimLeft(sym, "*[]")
	slash := strings.LastIndexByte(sym, '/')
	if dot := strings.IndexByte(sym[slash+1:], '.'); dot >= 0 {
		return sym[:slash+1+dot]
	}
	return sym
}

func (r *report) print(w io.Writer, top int) {
	list := func(title string, m map[string]int, n int) {
		type row struct {
			k string
			v int
		}
		var rows []row
		total := 0
		for k, v := range m {
			rows = append(rows, row{k, v})
			total += v
		}
		slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(b.v, a.v), cmp.Compare(a.k, b.k)) })
		_, _ = fmt.Fprintf(w, "%s (%.1f MiB)\n", title, mib(total))
		for i, e := range rows {
			if n > 0 && i >= n {
				break
			}
			_, _ = fmt.Fprintf(w, "%8.2f MiB  %s\n", mib(e.v), e.k)
		}
	}
	list("resident by section", r.bySection, 0)
	list("\nresident pages by section and package (a page counts for every package on it)", r.byPackage, top)
}

func mib(pages int) float64 { return float64(pages) * pageSize / (1 << 20) }
