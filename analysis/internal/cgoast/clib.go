package cgoast

import (
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// LibC is the family of the C allocator: memory from malloc, calloc,
// realloc, strdup, C.CString and C.CBytes, released with free.
const LibC = "libc"

// Lib describes the C functions a package uses, for pairing allocations
// with their release: which functions are a library's own deallocator
// (sqlite3_free, SDL_free, rocksdb_free) and which allocator family the
// memory a function returns belongs to.
//
// A generic deallocator is a function named <prefix>free, <prefix>_free,
// <prefix>Free or <prefix>mem_free whose last parameter is a void pointer
// (one or two parameters), such as rocksdb_free(void *) or
// rd_kafka_mem_free(rd_kafka_t *, void *). Memory that another function
// with the same prefix returns, or writes through an out-parameter, belongs
// to that library's family and goes back through its deallocator. A
// deallocator or producer defined in the package's own C code that calls
// free or malloc belongs to the C allocator's family.
//
// The signatures come from the declarations cmd/cgo generates for the C
// functions the package calls (_Cfunc_name), and from the prototypes and
// definitions in its preambles and .c/.h files.
type Lib struct {
	scope    *types.Scope
	defs     map[string]CFunc
	protos   map[string]string // name → parameter text of a prototype
	deallocs map[string]string // deallocator → family
	families []string          // families, longest first
}

var (
	protoRe   = regexp.MustCompile(`(?m)\b([A-Za-z_][A-Za-z0-9_]*)\s*\(([^()]*)\)\s*;`)
	allocCall = regexp.MustCompile(`\b(malloc|calloc|realloc|strdup|strndup|asprintf|vasprintf)\s*\(`)
	freeCall  = regexp.MustCompile(`(^|[^A-Za-z0-9_])free\s*\(`)
)

// NewLib indexes the C functions of the pass's package.
func NewLib(pass *analysis.Pass) *Lib {
	l := &Lib{
		scope:    pass.Pkg.Scope(),
		defs:     map[string]CFunc{},
		protos:   map[string]string{},
		deallocs: map[string]string{},
	}
	for _, src := range CSources(pass) {
		for _, f := range CFuncs(src.Code) {
			l.defs[f.Name] = f
		}
		for _, m := range protoRe.FindAllStringSubmatch(src.Code, -1) {
			l.protos[m[1]] = m[2]
		}
	}
	var names []string
	for _, n := range l.scope.Names() {
		if c, ok := strings.CutPrefix(n, funcPrefix); ok {
			names = append(names, c)
		}
	}
	for n := range l.protos {
		names = append(names, n)
	}
	for n := range l.defs {
		names = append(names, n)
	}
	fams := map[string]bool{}
	for _, n := range names {
		if fam, ok := l.deallocFamily(n); ok {
			l.deallocs[n] = fam
			if fam != LibC {
				fams[fam] = true
			}
		}
	}
	for f := range fams {
		l.families = append(l.families, f)
	}
	// Longest prefix first, so rd_kafka_topic_ wins over rd_kafka_.
	for i := 1; i < len(l.families); i++ {
		for j := i; j > 0 && len(l.families[j]) > len(l.families[j-1]); j-- {
			l.families[j], l.families[j-1] = l.families[j-1], l.families[j]
		}
	}
	return l
}

// deallocSuffixes are the name endings of generic deallocators, tried in
// order.
var deallocSuffixes = []string{"_mem_free", "mem_free", "_free", "Free", "free"}

// deallocFamily reports whether name is a generic deallocator and
// returns the family of the memory it releases.
func (l *Lib) deallocFamily(name string) (string, bool) {
	if name == "free" {
		return LibC, true
	}
	prefix := ""
	for _, suf := range deallocSuffixes {
		if p, ok := strings.CutSuffix(name, suf); ok && p != "" {
			prefix = p
			if strings.HasSuffix(suf, "free") && strings.HasPrefix(suf, "_") {
				prefix += "_"
			}
			break
		}
	}
	if prefix == "" || !l.voidPointerLast(name) {
		return "", false
	}
	if d, ok := l.defs[name]; ok && freeCall.MatchString(d.Body) {
		return LibC, true // a wrapper around free
	}
	return prefix, true
}

// voidPointerLast reports whether the C function takes one or two
// parameters, the last a void pointer.
func (l *Lib) voidPointerLast(name string) bool {
	if sig := l.Signature(name); sig != nil {
		n := sig.Params().Len()
		return (n == 1 || n == 2) && IsUnsafePointer(sig.Params().At(n-1).Type())
	}
	params, ok := l.protos[name]
	if d, isDef := l.defs[name]; isDef && !ok {
		params, ok = d.Params, true
	}
	if !ok {
		return false
	}
	ps := strings.Split(params, ",")
	if len(ps) != 1 && len(ps) != 2 {
		return false
	}
	last := strings.Join(strings.Fields(ps[len(ps)-1]), " ")
	return strings.HasPrefix(last, "void *") || strings.HasPrefix(last, "void*") || strings.HasPrefix(last, "const void")
}

// Signature returns the Go signature cmd/cgo generated for the C function
// name, or nil when the package does not call it.
func (l *Lib) Signature(name string) *types.Signature {
	obj := l.scope.Lookup(funcPrefix + name)
	if obj == nil {
		return nil
	}
	sig, _ := obj.Type().(*types.Signature)
	return sig
}

// Def returns the definition of the C function name in the package's C
// sources.
func (l *Lib) Def(name string) (CFunc, bool) {
	d, ok := l.defs[name]
	return d, ok
}

// Dealloc reports whether name releases memory (free, or a library's
// generic deallocator) and returns the family it expects.
func (l *Lib) Dealloc(name string) (family string, ok bool) {
	fam, ok := l.deallocs[name]
	return fam, ok
}

// IsLibDealloc reports whether name is a generic deallocator other than
// free.
func (l *Lib) IsLibDealloc(name string) bool {
	_, ok := l.deallocs[name]
	return ok && name != "free"
}

// DeallocOf returns a deallocator of the family, for messages.
func (l *Lib) DeallocOf(family string) string {
	if family == LibC {
		return "free"
	}
	best := ""
	for d, f := range l.deallocs {
		if f == family && (best == "" || len(d) < len(best) || (len(d) == len(best) && d < best)) {
			best = d
		}
	}
	return best
}

// Family returns the allocator family of the memory that the C function
// name returns or writes through an out-parameter: LibC for the C
// allocator and cgo's helpers, a library's prefix ("rocksdb_") when the
// library has its own deallocator, "" when unknown.
func (l *Lib) Family(name string) string {
	switch name {
	case "malloc", "calloc", "realloc", "strdup", "strndup", "CString", "CBytes":
		return LibC
	}
	if _, ok := l.deallocs[name]; ok {
		return ""
	}
	if d, ok := l.defs[name]; ok {
		if allocCall.MatchString(d.Body) {
			return LibC
		}
		for _, fam := range l.families {
			if regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(fam) + `[A-Za-z0-9_]*\s*\(`).MatchString(d.Body) {
				return fam
			}
		}
		return ""
	}
	for _, fam := range l.families {
		if strings.HasPrefix(name, fam) {
			return fam
		}
	}
	return ""
}

// FamilyName returns a readable name of the family: "the C allocator",
// "rocksdb_".
func FamilyName(family string) string {
	if family == LibC {
		return "the C allocator"
	}
	return family + "*"
}
