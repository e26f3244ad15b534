package probe

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// mapping is one executable mapping of /proc/PID/maps.
type mapping struct {
	start, end, off uint64
	path            string
	deleted         bool
}

// readMaps returns the executable file mappings of process pid.
func readMaps(pid int) ([]mapping, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMaps(f)
}

func parseMaps(r io.Reader) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// start-end perms offset dev inode path
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) < 6 || !strings.Contains(fields[1], "x") {
			continue
		}
		p := strings.Join(fields[5:], " ")
		if !strings.HasPrefix(p, "/") {
			continue // [vdso], [uprobes], anonymous
		}
		m := mapping{path: p}
		if strings.HasSuffix(p, " (deleted)") {
			m.path, m.deleted = strings.TrimSuffix(p, " (deleted)"), true
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			return nil, fmt.Errorf("bad maps line %q", line)
		}
		var err1, err2, err3 error
		m.start, err1 = strconv.ParseUint(lo, 16, 64)
		m.end, err2 = strconv.ParseUint(hi, 16, 64)
		m.off, err3 = strconv.ParseUint(fields[2], 16, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("bad maps line %q: %w", line, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// symbol is one function of an ELF object.
type symbol struct {
	name   string
	value  uint64 // st_value (link-time address)
	off    uint64 // file offset, what a uprobe is set at
	size   uint64
	global bool
}

// object is one ELF file mapped executable into the target.
type object struct {
	path  string // as the target sees it
	open  string // how this process opens it
	base  string // base name, what OBJECT: globs match
	maps  []mapping
	syms  []symbol // functions, sorted by off, one per offset
	isExe bool
	// goSkipped counts the Go functions left out (probing Go code with
	// uretprobes breaks the Go runtime's stack walks).
	goSkipped int
}

// loadObjects reads the ELF symbols of every object mapped executable into
// process pid.
func loadObjects(pid int) ([]*object, error) {
	maps, err := readMaps(pid)
	if err != nil {
		return nil, err
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	exe = strings.TrimSuffix(exe, " (deleted)")
	byPath := map[string]*object{}
	var out []*object
	for _, m := range maps {
		o := byPath[m.path]
		if o == nil {
			o = &object{path: m.path, base: filepath.Base(m.path), isExe: m.path == exe}
			o.open = "/proc/" + strconv.Itoa(pid) + "/root" + m.path
			if m.deleted {
				o.open = fmt.Sprintf("/proc/%d/map_files/%x-%x", pid, m.start, m.end)
			}
			byPath[m.path] = o
			out = append(out, o)
		}
		o.maps = append(o.maps, m)
	}
	var errs []error
	for _, o := range out {
		if err := o.load(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.path, err))
		}
	}
	if len(errs) == len(out) && len(out) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// load reads the object's function symbols.
func (o *object) load() error {
	f, err := elf.Open(o.open)
	if err != nil {
		return err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return err
	}
	dyn, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return err
	}
	all := append(syms, dyn...)
	goLo, goHi := goTextRange(f, all)
	seen := map[uint64]int{} // offset -> index in o.syms
	for _, s := range all {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Section == elf.SHN_UNDEF || s.Value == 0 || s.Name == "" {
			continue
		}
		if goHi > goLo && s.Value >= goLo && s.Value < goHi {
			o.goSkipped++
			continue
		}
		off, ok := fileOffset(f, s.Value)
		if !ok {
			continue
		}
		bind := elf.ST_BIND(s.Info)
		sym := symbol{name: s.Name, value: s.Value, off: off, size: s.Size, global: bind == elf.STB_GLOBAL || bind == elf.STB_WEAK}
		if i, dup := seen[off]; dup {
			// Aliases at one address get one probe, under the best name:
			// global before local, then the shorter, then the first in order.
			old := o.syms[i]
			if better(sym, old) {
				o.syms[i] = sym
			}
			if sym.size > o.syms[i].size {
				o.syms[i].size = sym.size
			}
			continue
		}
		seen[off] = len(o.syms)
		o.syms = append(o.syms, sym)
	}
	sort.Slice(o.syms, func(i, j int) bool { return o.syms[i].off < o.syms[j].off })
	return nil
}

func better(a, b symbol) bool {
	if a.global != b.global {
		return a.global
	}
	if strings.HasPrefix(a.name, "_") != strings.HasPrefix(b.name, "_") {
		return !strings.HasPrefix(a.name, "_")
	}
	return len(a.name) < len(b.name)
}

// fileOffset converts a link-time address to the file offset a uprobe
// takes, through the executable PT_LOAD segment holding it.
func fileOffset(f *elf.File, v uint64) (uint64, bool) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && v >= p.Vaddr && v < p.Vaddr+p.Memsz {
			return v - p.Vaddr + p.Off, true
		}
	}
	return 0, false
}

// goTextRange returns the link-time address range of the Go functions of a
// Go binary (runtime.text to runtime.etext), or 0, 0 for C objects. Without
// those symbols (a stripped binary) it falls back to the function table in
// .gopclntab.
func goTextRange(f *elf.File, syms []elf.Symbol) (lo, hi uint64) {
	for _, s := range syms {
		switch s.Name {
		case "runtime.text":
			lo = s.Value
		case "runtime.etext":
			hi = s.Value
		}
	}
	if lo != 0 && hi > lo {
		return lo, hi
	}
	sec := f.Section(".gopclntab")
	text := f.Section(".text")
	if sec == nil || text == nil {
		return 0, 0
	}
	data, err := sec.Data()
	if err != nil {
		return 0, 0
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil || len(tab.Funcs) == 0 {
		return 0, 0
	}
	lo, hi = ^uint64(0), 0
	for _, fn := range tab.Funcs {
		lo = min(lo, fn.Entry)
		hi = max(hi, fn.End)
	}
	return lo, hi
}

// lookup returns the function containing file offset off.
func (o *object) lookup(off uint64) (symbol, bool) {
	i := sort.Search(len(o.syms), func(i int) bool { return o.syms[i].off > off }) - 1
	if i < 0 {
		return symbol{}, false
	}
	s := o.syms[i]
	if off == s.off || off < s.off+s.size {
		return s, true
	}
	return symbol{}, false
}

// byName returns the function named name.
func (o *object) byName(name string) (symbol, bool) {
	for _, s := range o.syms {
		if s.name == name {
			return s, true
		}
	}
	return symbol{}, false
}

// resolve maps a virtual address of the target to its object, file offset
// and function.
func resolve(objs []*object, addr uint64) (*object, symbol, bool) {
	for _, o := range objs {
		for _, m := range o.maps {
			if addr >= m.start && addr < m.end {
				s, ok := o.lookup(addr - m.start + m.off)
				return o, s, ok
			}
		}
	}
	return nil, symbol{}, false
}

// isCgoGlue reports the helper functions cgo generates and the runtime's C
// support, which --func globs do not pick up unless they name them exactly.
func isCgoGlue(name string) bool {
	return strings.HasPrefix(name, "_cgo_") || strings.HasPrefix(name, "x_cgo_") ||
		strings.HasPrefix(name, "__cgo_") || strings.HasPrefix(name, "crosscall")
}
