package cgoguard

import (
	"debug/dwarf"
	"debug/elf"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// symCache maps a PC to its symbolised frame: repeated crashes at one site
// cost a map lookup.
var symCache sync.Map // uintptr -> Frame

// symbolize names the function (and, with debug information, the source
// line) that pc lies in. Static C functions of the executable are not in the
// dynamic symbol table, so the executable's own ELF symbols are consulted;
// for shared libraries the loader's answer is used only when the symbol's
// size covers pc, so a stripped library yields "lib.so+offset", never a
// wrong name.
func symbolize(pc uintptr) Frame {
	if f, ok := symCache.Load(pc); ok {
		return f.(Frame)
	}
	f := Frame{PC: pc}
	name, obj, base, symAddr, ok := dlSymbol(pc)
	if ok {
		f.Object = obj
		exe := selfExe()
		if obj == "" || sameFile(obj, exe.path) {
			f.Object = exe.path
			a := pc - base + exe.vaddr0
			if s, ok := exe.lookup(a); ok {
				f.Function, f.Offset = s.name, a-s.addr
			} else if name != "" && symAddr != 0 {
				f.Function, f.Offset = name, pc-symAddr
			}
			f.File, f.Line = exe.line(a)
		} else if name != "" && symAddr != 0 {
			f.Function, f.Offset = name, pc-symAddr
		} else {
			f.Offset = pc - base
		}
	}
	symCache.Store(pc, f)
	return f
}

func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

type elfSym struct {
	addr, size uintptr
	name       string
}

type exeInfo struct {
	path   string
	vaddr0 uintptr // ELF address of the first loaded segment (the load base)
	syms   []elfSym
	lines  *dwarf.Data
	lmu    sync.Mutex
}

var (
	exeOnce sync.Once
	exe     *exeInfo
)

func selfExe() *exeInfo {
	exeOnce.Do(func() {
		exe = &exeInfo{}
		p, err := os.Executable()
		if err != nil {
			return
		}
		exe.path = p
		f, err := elf.Open(p)
		if err != nil {
			return
		}
		defer f.Close()
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_LOAD {
				align := prog.Align
				if align == 0 {
					align = 1
				}
				exe.vaddr0 = uintptr(prog.Vaddr &^ (align - 1))
				break
			}
		}
		syms, _ := f.Symbols()
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
				exe.syms = append(exe.syms, elfSym{uintptr(s.Value), uintptr(s.Size), s.Name})
			}
		}
		sort.Slice(exe.syms, func(i, j int) bool { return exe.syms[i].addr < exe.syms[j].addr })
		if d, err := f.DWARF(); err == nil {
			exe.lines = d
		}
	})
	return exe
}

// lookup finds the function symbol containing the ELF address a.
func (e *exeInfo) lookup(a uintptr) (elfSym, bool) {
	i := sort.Search(len(e.syms), func(i int) bool { return e.syms[i].addr > a }) - 1
	if i < 0 {
		return elfSym{}, false
	}
	s := e.syms[i]
	if s.size != 0 && a >= s.addr+s.size {
		return elfSym{}, false
	}
	return s, true
}

// line finds the source position of the ELF address a in the DWARF line
// tables.
func (e *exeInfo) line(a uintptr) (string, int) {
	if e.lines == nil {
		return "", 0
	}
	e.lmu.Lock()
	defer e.lmu.Unlock()
	r := e.lines.Reader()
	cu, err := r.SeekPC(uint64(a))
	if err != nil || cu == nil {
		return "", 0
	}
	lr, err := e.lines.LineReader(cu)
	if err != nil || lr == nil {
		return "", 0
	}
	var le dwarf.LineEntry
	if err := lr.SeekPC(uint64(a), &le); err != nil || le.File == nil {
		return "", 0
	}
	return le.File.Name, le.Line
}
