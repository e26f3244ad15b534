// Package ranges answers one question for cgoguard's analyzers: can the
// slice indexed by s[0] be empty at that point? It reasons over the SSA
// form of the package (golang.org/x/tools/go/ssa), path by path backwards
// from the index expression, with facts that hold there:
//
//   - how the slice was built: a non-empty composite literal, make with a
//     length that is positive (a positive constant, max(n, 1), len(x)+1, a
//     product or shift of positive lengths, the result of a function of
//     the package whose returns are positive for the arguments given, or
//     a length a condition proved positive), append of at least one
//     element, a package variable whose every store is non-empty, a struct
//     field that every construction of its struct sets non-empty and that
//     is otherwise only appended to or resliced to its capacity;
//   - conditions on the paths that reach the point: len(s) > 0,
//     len(s) != 0, len(s) >= n with n >= 1, the exit of a loop padding s up
//     to a positive minimum (for len(s) < 16 { s = append(s, 0) }), an
//     early return when s is empty, a fallback assigned when it is empty,
//     a check of the length s was made with, and a positive check of the
//     length passed with the pointer to the same C call
//     (if n > 0 { C.memcpy(dst, &b[0], n) });
//   - for a parameter of an unexported function, what every call site in
//     the package passes.
//
// A path on which a variable gets a value contradicting a condition the
// path crossed is infeasible and proves nothing wrong (a loop entered with
// an empty buffer runs at least once). A nil check is not a length check.
// A computed quantity (len(a)+len(b), bound(len(src)) for a pure integer
// function of the package) is the same wherever it is computed, until one
// of its operands changes; a count that C returns is a new quantity each
// time. Variables that cmd/cgo's closures capture live in memory cells;
// the reasoning follows the stores to such a cell and crosses from the
// closure to the statement that runs it.
//
// It is written here rather than taken from a library because no
// maintained package computes these facts over go/ssa. A Prog is built
// lazily, once per pass, only when asked; it is not safe for concurrent
// use. Each query has a step budget; a query that runs out is answered
// "non-empty", so a budget never causes a finding.
package ranges

import (
	"go/constant"
	"go/token"
	"go/types"
	"maps"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// Prog is the SSA form of one package, built on first use.
type Prog struct {
	pass  *analysis.Pass
	built bool
	pkg   *ssa.Package
	funcs []*ssa.Function
	index map[token.Pos][]*ssa.IndexAddr // by the position of '['
	calls map[*ssa.Function]site         // call site of each closure
	steps int

	at      *ssa.BasicBlock // the block whose condition implies is reading
	env     map[*ssa.Parameter]bound
	depth   int
	globals map[*ssa.Global]bool
	fields  map[fieldID]bool
	sites   map[*ssa.Function][]ssa.CallInstruction
	pure    map[*ssa.Function]bool
}

// site is where a function literal runs: the instruction that calls it.
type site struct {
	instr ssa.Instruction
	mk    *ssa.MakeClosure // nil when called without free variables
}

// New returns a Prog for the pass; nothing is built until a query.
func New(pass *analysis.Pass) *Prog {
	return &Prog{pass: pass}
}

func (p *Prog) build() {
	if p.built {
		return
	}
	p.built = true
	prog := ssa.NewProgram(p.pass.Fset, ssa.BuilderMode(0))
	created := map[*types.Package]bool{}
	var create func(pkgs []*types.Package)
	create = func(pkgs []*types.Package) {
		for _, t := range pkgs {
			if created[t] {
				continue
			}
			created[t] = true
			prog.CreatePackage(t, nil, nil, true)
			create(t.Imports())
		}
	}
	create(p.pass.Pkg.Imports())
	p.pkg = prog.CreatePackage(p.pass.Pkg, p.pass.Files, p.pass.TypesInfo, false)
	p.pkg.Build()
	if dump != nil {
		defer dump(p)
	}

	p.index = map[token.Pos][]*ssa.IndexAddr{}
	p.globals = map[*ssa.Global]bool{}
	p.fields = map[fieldID]bool{}
	p.sites = map[*ssa.Function][]ssa.CallInstruction{}
	p.calls = map[*ssa.Function]site{}
	seen := map[*ssa.Function]bool{}
	var add func(f *ssa.Function)
	add = func(f *ssa.Function) {
		if f == nil || seen[f] {
			return
		}
		seen[f] = true
		p.funcs = append(p.funcs, f)
		for _, a := range f.AnonFuncs {
			add(a)
		}
	}
	for _, m := range p.pkg.Members {
		switch m := m.(type) {
		case *ssa.Function:
			add(m)
		case *ssa.Type:
			for _, t := range []types.Type{m.Type(), types.NewPointer(m.Type())} {
				ms := prog.MethodSets.MethodSet(t)
				for i := range ms.Len() {
					add(prog.MethodValue(ms.At(i)))
				}
			}
		}
	}
	for _, f := range p.funcs {
		for _, b := range f.Blocks {
			for _, in := range b.Instrs {
				switch x := in.(type) {
				case *ssa.IndexAddr:
					p.index[x.Pos()] = append(p.index[x.Pos()], x)
				case *ssa.MakeClosure:
					if fn, ok := x.Fn.(*ssa.Function); ok {
						if c, ok := p.callOf(x); ok {
							p.calls[fn] = site{instr: c, mk: x}
						}
					}
				case ssa.CallInstruction:
					if fn, ok := x.Common().Value.(*ssa.Function); ok && fn.Parent() != nil {
						p.calls[fn] = site{instr: x}
					}
				}
			}
		}
	}
}

// callOf returns the instruction that calls the closure mk makes, when
// it is called right away in the same function.
func (p *Prog) callOf(mk *ssa.MakeClosure) (ssa.Instruction, bool) {
	refs := mk.Referrers()
	if refs == nil {
		return nil, false
	}
	for _, r := range *refs {
		if c, ok := r.(ssa.CallInstruction); ok && c.Common().Value == mk {
			return r, true
		}
	}
	return nil, false
}

// budget bounds the work of one query; a query that runs out is answered
// "non-empty" so that an analysis too deep to finish raises no alarm.
const budget = 4000

// NonEmpty reports whether the slice indexed by the index expression
// whose '[' is at lbrack is certainly not empty when the index is taken.
// ok is false when the expression has no SSA form (it is not an address
// of a slice element, or the package could not be built).
func (p *Prog) NonEmpty(lbrack token.Pos) (nonEmpty, ok bool) {
	p.build()
	ias := p.index[lbrack]
	if len(ias) == 0 {
		return false, false
	}
	for _, ia := range ias {
		if _, isSlice := ia.X.Type().Underlying().(*types.Slice); !isSlice {
			continue // arrays are never empty at index 0 of a constant-size array
		}
		p.steps = 0
		alts := append(p.lenArgs(ia), p.madeLengths(ia.X)...)
		if !p.nonEmptyValue(ia.X, ia) && !p.proveAt(ia, lenOf(p.key(ia.X)), alts) {
			return false, true
		}
	}
	return true, true
}

// target is what a query must prove is at least min (1 unless said
// otherwise): the length of a slice (by its key), or an integer value (by
// its key).
type target struct {
	isLen bool
	key   any
	min   int64
}

func lenOf(k any) target { return target{isLen: true, key: k, min: 1} }
func intOf(k any) target { return target{key: k, min: 1} }

// intTarget is the target "v >= 1" for an integer value v; a length
// len(x) becomes the length target of x, so a check of len(x) anywhere
// proves it.
func (p *Prog) intTarget(v ssa.Value) target {
	v = stripConv(v)
	if call, ok := v.(*ssa.Call); ok {
		if b, ok := call.Call.Value.(*ssa.Builtin); ok && b.Name() == "len" && len(call.Call.Args) == 1 {
			return lenOf(p.key(call.Call.Args[0]))
		}
	}
	return intOf(p.key(v))
}

// fieldKey identifies a field reached from a base key.
type fieldKey struct {
	base  any
	field int
}

// cellKey identifies a memory cell: a local variable that lives in memory
// (captured by a closure, or its address taken) or a package variable.
type cellKey struct {
	v ssa.Value // *ssa.Alloc or *ssa.Global
}

// exprKey identifies a computed value by its operation and operands, so
// that len(a)+len(b) computed twice is the same quantity.
type exprKey struct {
	op   string
	x, y any
}

// key returns the canonical identity of v: the memory cell, package
// variable or field a loaded value comes from, the operation and operands
// of a length or a sum, otherwise v itself.
func (p *Prog) key(v ssa.Value) any {
	switch x := v.(type) {
	case *ssa.UnOp:
		if x.Op == token.MUL {
			return p.loc(x.X)
		}
	case *ssa.ChangeType:
		return p.key(x.X)
	case *ssa.Convert:
		if isInteger(x.X.Type()) && isInteger(x.Type()) {
			return p.key(x.X)
		}
	case *ssa.Call:
		if b, ok := x.Call.Value.(*ssa.Builtin); ok && len(x.Call.Args) == 1 && (b.Name() == "len" || b.Name() == "cap") {
			return exprKey{op: b.Name(), x: p.key(x.Call.Args[0])}
		}
		// A function of the package over integers only that calls nothing
		// but such functions and reads no package variable is
		// deterministic: bound(len(src)) computed twice is one quantity.
		if fn := x.Call.StaticCallee(); fn != nil && fn.Pkg == p.pkg && integerOnly(fn.Signature) && p.isPure(fn) {
			var args any
			for i := len(x.Call.Args) - 1; i >= 0; i-- {
				args = exprKey{op: "arg", x: p.key(x.Call.Args[i]), y: args}
			}
			return exprKey{op: "call " + fn.String(), x: args}
		}
	case *ssa.BinOp:
		switch x.Op {
		case token.ADD, token.MUL, token.SUB, token.SHL, token.SHR:
			return exprKey{op: x.Op.String(), x: p.key(x.X), y: p.key(x.Y)}
		}
	case *ssa.Const:
		if x.Value != nil {
			return exprKey{op: "const", x: x.Value.ExactString()}
		}
	}
	return v
}

// loc returns the identity of the location addr points to.
func (p *Prog) loc(addr ssa.Value) any {
	switch x := addr.(type) {
	case *ssa.Alloc, *ssa.Global:
		return cellKey{x}
	case *ssa.FreeVar:
		if b := p.binding(x); b != nil {
			return p.loc(b)
		}
	case *ssa.FieldAddr:
		return fieldKey{p.key(x.X), x.Field}
	case *ssa.UnOp:
		// A pointer loaded from a local cell stored once (cmd/cgo's
		// _cgoIndex0 := &s, kept in a cell by a nested closure): the
		// location is where that pointer points.
		if a, ok := x.X.(*ssa.Alloc); ok && x.Op == token.MUL {
			if v := uniqueStore(a); v != nil {
				return p.loc(v)
			}
		}
	}
	return addr
}

// uniqueStore returns the value of the only store to a local cell whose
// address serves nothing but loads and that store, or nil.
func uniqueStore(a *ssa.Alloc) ssa.Value {
	refs := a.Referrers()
	if refs == nil {
		return nil
	}
	var val ssa.Value
	for _, r := range *refs {
		switch x := r.(type) {
		case *ssa.Store:
			if x.Addr != a || val != nil {
				return nil
			}
			val = x.Val
		case *ssa.UnOp:
			if x.Op != token.MUL {
				return nil
			}
		case *ssa.MakeClosure, *ssa.DebugRef:
			// captured by a nested closure that only reads it (cgo's)
		default:
			return nil
		}
	}
	return val
}

// binding returns the value a closure's free variable is bound to.
func (p *Prog) binding(fv *ssa.FreeVar) ssa.Value {
	fn := fv.Parent()
	s, ok := p.calls[fn]
	if !ok || s.mk == nil {
		return nil
	}
	for i, f := range fn.FreeVars {
		if f == fv && i < len(s.mk.Bindings) {
			return s.mk.Bindings[i]
		}
	}
	return nil
}

// lenArgs returns the length passed along with the pointer ia makes: the
// first integer argument after it in the C call of the same cgo closure
// (C.f(&b[0], n), C.memcpy(&dst[0], src, n)).
func (p *Prog) lenArgs(ia *ssa.IndexAddr) []ssa.Value {
	var out []ssa.Value
	for _, b := range ia.Parent().Blocks {
		for _, in := range b.Instrs {
			c, ok := in.(*ssa.Call)
			if !ok {
				continue
			}
			fn, ok := c.Call.Value.(*ssa.Function)
			if !ok || !strings.HasPrefix(fn.Name(), "_Cfunc_") {
				continue
			}
			seen := false
			for _, a := range c.Call.Args {
				if !seen {
					seen = derivesFrom(a, ia, 0)
					continue
				}
				if isInteger(a.Type()) {
					out = append(out, a)
					break
				}
			}
		}
	}
	return out
}

// derivesFrom reports whether v is ia, through conversions and local
// cells stored once (cmd/cgo's temporaries).
func derivesFrom(v ssa.Value, ia *ssa.IndexAddr, depth int) bool {
	for depth < 8 {
		depth++
		switch x := v.(type) {
		case *ssa.IndexAddr:
			return x == ia
		case *ssa.Convert:
			v = x.X
		case *ssa.ChangeType:
			v = x.X
		case *ssa.MakeInterface:
			v = x.X
		case *ssa.UnOp:
			if x.Op != token.MUL {
				return false
			}
			a, ok := x.X.(*ssa.Alloc)
			if !ok {
				return false
			}
			v = uniqueStore(a)
			if v == nil {
				return false
			}
		default:
			return false
		}
	}
	return false
}

// madeLengths returns the length given to make when the slice comes from
// one make (directly, or through the only store to its cell): a check of
// that length where the slice is used proves the slice non-empty.
func (p *Prog) madeLengths(v ssa.Value) []ssa.Value {
	if m, ok := v.(*ssa.MakeSlice); ok {
		return []ssa.Value{m.Len}
	}
	if k, ok := p.key(v).(cellKey); ok {
		if a, ok := k.v.(*ssa.Alloc); ok {
			if m, ok := uniqueStore(a).(*ssa.MakeSlice); ok {
				return []ssa.Value{m.Len}
			}
		}
	}
	return nil
}

// isPure reports a function declared at package level (not a closure,
// such as the ones cmd/cgo wraps C calls in) whose body calls only the
// builtins and other such functions, and neither reads nor writes memory
// other than its own locals.
func (p *Prog) isPure(fn *ssa.Function) bool {
	if r, ok := p.pure[fn]; ok {
		return r
	}
	if p.pure == nil {
		p.pure = map[*ssa.Function]bool{}
	}
	p.pure[fn] = false // recursion: not proved
	if fn.Parent() != nil || fn.Blocks == nil || len(fn.FreeVars) > 0 {
		return false
	}
	for _, b := range fn.Blocks {
		for _, in := range b.Instrs {
			switch x := in.(type) {
			case *ssa.Call:
				if _, ok := x.Call.Value.(*ssa.Builtin); ok {
					continue
				}
				callee := x.Call.StaticCallee()
				if callee == nil || callee.Pkg != p.pkg || !p.isPure(callee) {
					return false
				}
			case *ssa.Go, *ssa.Defer, *ssa.Send, *ssa.Select, *ssa.MapUpdate, *ssa.Panic:
				return false
			case *ssa.UnOp:
				if x.Op == token.MUL || x.Op == token.ARROW {
					if _, local := x.X.(*ssa.Alloc); !local {
						return false
					}
				}
			case *ssa.Store:
				if _, local := x.Addr.(*ssa.Alloc); !local {
					return false
				}
			}
		}
	}
	p.pure[fn] = true
	return true
}

// integerOnly reports a signature whose parameters and results are all
// integers.
func integerOnly(sig *types.Signature) bool {
	if sig.Recv() != nil || sig.Results().Len() == 0 {
		return false
	}
	for _, tup := range []*types.Tuple{sig.Params(), sig.Results()} {
		for i := range tup.Len() {
			if !isInteger(tup.At(i).Type()) {
				return false
			}
		}
	}
	return true
}

func isInteger(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// stripConv removes conversions between integer types.
func stripConv(v ssa.Value) ssa.Value {
	for {
		switch x := v.(type) {
		case *ssa.Convert:
			if isInteger(x.X.Type()) {
				v = x.X
				continue
			}
		case *ssa.ChangeType:
			v = x.X
			continue
		}
		return v
	}
}

// proveAt proves t holds just before instruction in. A length passed to
// the same C call (alts) may be proved instead of the slice's length.
func (p *Prog) proveAt(in ssa.Instruction, t target, alts []ssa.Value) bool {
	b := in.Block()
	idx := indexOf(b, in)
	if p.prove(t, b, idx, map[visit]bool{}, nil) {
		return true
	}
	for _, a := range alts {
		if p.prove(p.intTarget(a), b, idx, map[visit]bool{}, nil) {
			return true
		}
	}
	return false
}

func indexOf(b *ssa.BasicBlock, in ssa.Instruction) int {
	for i, x := range b.Instrs {
		if x == in {
			return i
		}
	}
	return len(b.Instrs)
}

type visit struct {
	b   *ssa.BasicBlock
	key any
	min int64
}

// assumption is the outcome of a condition on an edge that a backward
// path has crossed.
type assumption struct {
	cond    ssa.Value
	outcome bool
}

// prove reports whether t holds on every feasible path reaching
// instruction index before of block b. assume holds the conditions the
// path has crossed: a path on which a cell gets a value contradicting one
// of them (the loop for len(buf) < 1024 entered with buf nil runs at
// least once) is infeasible and proves nothing wrong.
func (p *Prog) prove(t target, b *ssa.BasicBlock, before int, seen map[visit]bool, assume []assumption) bool {
	p.steps++
	if p.steps > budget {
		return true
	}
	refuted := false // t failed on this path; only infeasibility can save it
	for i := before - 1; i >= 0; i-- {
		in := b.Instrs[i]
		if cell, val, ok := p.defines(in); ok {
			if p.contradicts(assume, cell, val) {
				return true
			}
			assume = dropAbout(p, assume, cell)
		}
		if refuted {
			continue
		}
		if ek, ok := t.key.(exprKey); ok && p.setsOperand(ek, in) {
			// Above this point the expression's operands held other
			// values (an earlier iteration, an older value of a cell):
			// conditions there say nothing about it.
			refuted = true
			continue
		}
		if st, ok := in.(*ssa.Store); ok && p.loc(st.Addr) == t.key {
			val := st.Val
			min := t.min
			if t.isLen {
				if p.nonEmptyValue(val, st) {
					return true
				}
				t = lenOf(p.key(val))
			} else {
				t = p.intTarget(val)
				val = stripConv(val)
			}
			t.min = min
			if decidedHere(val) && t.key != nil {
				if _, isCell := t.key.(cellKey); !isCell {
					if _, isField := t.key.(fieldKey); !isField && !p.lenTarget(val, t) {
						if p.holdsByValue(t, val, st) {
							return true
						}
						refuted = true
					}
				}
			}
			continue
		}
		if v, ok := in.(ssa.Value); ok && !isPhi(v) && p.key(v) == t.key && v == p.defOf(t) {
			if p.holdsByValue(t, v, in) {
				return true
			}
			refuted = true
		}
	}
	if refuted && len(assume) == 0 {
		return false
	}
	k := visit{b, t.key, t.min}
	if refuted {
		k.key = refutedKey{}
	}
	if seen[k] {
		return true // a cycle adds nothing; the entries into it decide
	}
	seen[k] = true
	if len(b.Preds) == 0 {
		if refuted {
			return false
		}
		return p.proveAtEntry(t, b.Parent(), seen, assume)
	}
	for _, pred := range b.Preds {
		pt := t
		if phi, ok := t.key.(*ssa.Phi); ok && phi.Block() == b && !refuted {
			ev := phi.Edges[indexOfPred(b, pred)]
			if t.isLen {
				if p.nonEmptyValue(ev, nil) {
					continue
				}
				pt = lenOf(p.key(ev))
			} else {
				if lb, ok := p.lowerBound(ev, map[ssa.Value]bool{}); ok && lb >= t.min {
					continue
				}
				pt = p.intTarget(ev)
				pt.min = t.min
			}
		}
		pa := assume
		if iff, outcome, ok := edgeCond(pred, b); ok {
			if !refuted {
				if p.impliesAt(iff.Cond, outcome, pt, pred) {
					continue
				}
				if alias, ok := p.aliasAtEnd(pred, pt); ok && p.impliesAt(iff.Cond, outcome, alias, pred) {
					continue
				}
			}
			pa = append(append([]assumption(nil), assume...), assumption{iff.Cond, outcome})
		}
		if refuted {
			pt = target{key: refutedKey{}}
		}
		if !p.prove(pt, pred, len(pred.Instrs), seen, pa) {
			return false
		}
	}
	return true
}

// setsOperand reports whether in gives an operand of the computed
// expression k its value: it defines a value k is computed from, or
// stores to a cell or field k reads.
func (p *Prog) setsOperand(k exprKey, in ssa.Instruction) bool {
	var loc any
	if st, ok := in.(*ssa.Store); ok {
		loc = p.loc(st.Addr)
	} else if a, ok := in.(*ssa.Alloc); ok {
		loc = cellKey{a}
	}
	v, _ := in.(ssa.Value)
	var walk func(x any) bool
	walk = func(x any) bool {
		switch x := x.(type) {
		case exprKey:
			return walk(x.x) || walk(x.y)
		case fieldKey:
			return (loc != nil && x == loc) || walk(x.base)
		case cellKey:
			return loc != nil && x == loc
		case ssa.Value:
			return v != nil && x == v
		}
		return false
	}
	return walk(k)
}

// refutedKey stands for the target of a path on which it already failed.
type refutedKey struct{}

// edgeCond returns the If that ends pred and its outcome on the edge to
// succ.
func edgeCond(pred, succ *ssa.BasicBlock) (*ssa.If, bool, bool) {
	if len(pred.Instrs) == 0 || len(pred.Succs) != 2 || pred.Succs[0] == pred.Succs[1] {
		return nil, false, false
	}
	iff, ok := pred.Instrs[len(pred.Instrs)-1].(*ssa.If)
	if !ok {
		return nil, false, false
	}
	return iff, pred.Succs[0] == succ, true
}

// aliasAtEnd returns what t stands for when pred ends: the last value
// stored in t's cell in pred (valp := v; if len(v) == 0 {...}: the check
// of v is a check of valp).
func (p *Prog) aliasAtEnd(pred *ssa.BasicBlock, t target) (target, bool) {
	for i := len(pred.Instrs) - 1; i >= 0; i-- {
		st, ok := pred.Instrs[i].(*ssa.Store)
		if !ok || p.loc(st.Addr) != t.key {
			continue
		}
		var a target
		if t.isLen {
			a = lenOf(p.key(st.Val))
		} else {
			a = p.intTarget(st.Val)
		}
		a.min = t.min
		return a, true
	}
	return target{}, false
}

// defines reports an instruction that sets a local cell to a value: a
// store, or the zero value of a fresh allocation.
func (p *Prog) defines(in ssa.Instruction) (cellKey, ssa.Value, bool) {
	switch x := in.(type) {
	case *ssa.Store:
		if k, ok := p.loc(x.Addr).(cellKey); ok {
			return k, x.Val, true
		}
	case *ssa.Alloc:
		return cellKey{x}, nil, true // nil: the zero value
	}
	return cellKey{}, nil, false
}

// dropAbout removes the assumptions that mention cell: older values of
// the cell say nothing about them.
func dropAbout(p *Prog, assume []assumption, cell cellKey) []assumption {
	var out []assumption
	for _, a := range assume {
		if !p.mentionsCell(a.cond, cell) {
			out = append(out, a)
		}
	}
	return out
}

func (p *Prog) mentionsCell(cond ssa.Value, cell cellKey) bool {
	be, ok := cond.(*ssa.BinOp)
	if !ok {
		if u, ok := cond.(*ssa.UnOp); ok && u.Op == token.NOT {
			return p.mentionsCell(u.X, cell)
		}
		return false
	}
	for _, side := range []ssa.Value{be.X, be.Y} {
		if _, ok := p.cellOperand(side, cell); ok {
			return true
		}
	}
	return false
}

// cellOperand reports whether e is a load of cell (possibly converted) or
// len of one, and says which.
func (p *Prog) cellOperand(e ssa.Value, cell cellKey) (isLen, ok bool) {
	e = stripConv(e)
	if call, isCall := e.(*ssa.Call); isCall {
		if b, isB := call.Call.Value.(*ssa.Builtin); isB && b.Name() == "len" && len(call.Call.Args) == 1 {
			return true, p.key(call.Call.Args[0]) == cell
		}
		return false, false
	}
	return false, p.key(e) == cell
}

// contradicts reports whether giving cell the value val (nil: the zero
// value) makes an assumption false.
func (p *Prog) contradicts(assume []assumption, cell cellKey, val ssa.Value) bool {
	for _, a := range assume {
		cond, outcome := a.cond, a.outcome
		for {
			u, ok := cond.(*ssa.UnOp)
			if !ok || u.Op != token.NOT {
				break
			}
			cond, outcome = u.X, !outcome
		}
		be, ok := cond.(*ssa.BinOp)
		if !ok {
			continue
		}
		x, okx := p.evalWith(be.X, cell, val)
		y, oky := p.evalWith(be.Y, cell, val)
		if !okx || !oky {
			continue
		}
		if r, ok := compare(be.Op, x, y); ok && r != outcome {
			return true
		}
	}
	return false
}

// evalWith evaluates an integer operand when it is a constant, or a load
// (or len) of cell holding val with a known value.
func (p *Prog) evalWith(e ssa.Value, cell cellKey, val ssa.Value) (int64, bool) {
	if c, ok := stripConv(e).(*ssa.Const); ok && c.Value != nil && c.Value.Kind() == constant.Int {
		return constant.Int64Val(c.Value)
	}
	isLen, ok := p.cellOperand(e, cell)
	if !ok {
		return 0, false
	}
	if val == nil {
		return 0, true // the zero value: 0, or an empty slice
	}
	if isLen {
		if c, ok := val.(*ssa.Const); ok && c.IsNil() {
			return 0, true
		}
		return 0, false
	}
	if c, ok := stripConv(val).(*ssa.Const); ok && c.Value != nil && c.Value.Kind() == constant.Int {
		return constant.Int64Val(c.Value)
	}
	return 0, false
}

func compare(op token.Token, x, y int64) (bool, bool) {
	switch op {
	case token.LSS:
		return x < y, true
	case token.LEQ:
		return x <= y, true
	case token.GTR:
		return x > y, true
	case token.GEQ:
		return x >= y, true
	case token.EQL:
		return x == y, true
	case token.NEQ:
		return x != y, true
	}
	return false, false
}

// lenTarget reports an integer value that intTarget turned into the
// length target of a slice (len(x)): conditions on that length decide,
// not the value's own bounds.
func (p *Prog) lenTarget(val ssa.Value, t target) bool {
	return t.isLen
}

// defOf returns the SSA value a target is keyed by when it is a plain
// value (not a cell, field or computed expression).
func (p *Prog) defOf(t target) ssa.Value {
	v, _ := t.key.(ssa.Value)
	return v
}

// decidedHere reports values whose definition decides a target: constants
// and values computed by instructions other than phis (parameters, free
// variables and phis are followed further back).
func decidedHere(v ssa.Value) bool {
	switch v.(type) {
	case *ssa.Const:
		return true
	case *ssa.Phi, *ssa.Parameter, *ssa.FreeVar:
		return false
	}
	_, isInstr := v.(ssa.Instruction)
	return isInstr
}

func isPhi(v ssa.Value) bool {
	_, ok := v.(*ssa.Phi)
	return ok
}

func indexOfPred(b, pred *ssa.BasicBlock) int {
	for i, x := range b.Preds {
		if x == pred {
			return i
		}
	}
	return 0
}

// proveAtEntry continues a proof from a function's entry: for a
// function literal at the statement that runs it, for an unexported
// function only ever called directly at each of its call sites.
func (p *Prog) proveAtEntry(t target, fn *ssa.Function, seen map[visit]bool, assume []assumption) bool {
	if s, ok := p.calls[fn]; ok {
		if v, isValue := t.key.(ssa.Value); isValue && v.Parent() == fn {
			if _, isFV := v.(*ssa.FreeVar); !isFV {
				return false // a value of the literal itself, undefined outside
			}
		}
		b := s.instr.Block()
		return p.prove(t, b, indexOf(b, s.instr), seen, assume)
	}
	param, ok := t.key.(*ssa.Parameter)
	if !ok || param.Parent() != fn || fn.Object() == nil || fn.Object().Exported() {
		return false
	}
	idx := -1
	for i, q := range fn.Params {
		if q == param {
			idx = i
		}
	}
	sites := p.callSites(fn)
	if idx < 0 || len(sites) == 0 {
		return false
	}
	for _, c := range sites {
		args := c.Common().Args
		if idx >= len(args) {
			return false
		}
		pt := p.intTarget(args[idx])
		if t.isLen {
			if p.nonEmptyValue(args[idx], c) {
				continue
			}
			pt = lenOf(p.key(args[idx]))
		}
		if lb, ok := p.lowerBound(args[idx], map[ssa.Value]bool{}); !t.isLen && ok && lb >= 1 {
			continue
		}
		b := c.Block()
		if !p.prove(pt, b, indexOf(b, c), seen, nil) {
			return false
		}
	}
	return true
}

// callSites returns the calls of fn in the package, nil when fn is also
// used as a value (called where it cannot be seen).
func (p *Prog) callSites(fn *ssa.Function) []ssa.CallInstruction {
	if cs, ok := p.sites[fn]; ok {
		return cs
	}
	var out []ssa.CallInstruction
	var ops []*ssa.Value
	for _, f := range p.funcs {
		for _, b := range f.Blocks {
			for _, in := range b.Instrs {
				c, isCall := in.(ssa.CallInstruction)
				ops = in.Operands(ops[:0])
				for i, op := range ops {
					if *op != fn {
						continue
					}
					if isCall && i == 0 && c.Common().Value == fn {
						out = append(out, c)
						continue
					}
					p.sites[fn] = nil
					return nil
				}
			}
		}
	}
	p.sites[fn] = out
	return out
}

// holdsByValue decides t where its key is defined: v is the value.
func (p *Prog) holdsByValue(t target, v ssa.Value, at ssa.Instruction) bool {
	if t.isLen {
		return t.min <= 0 || p.nonEmptyValue(v, at)
	}
	lb, ok := p.lowerBound(v, map[ssa.Value]bool{})
	return ok && lb >= t.min
}

// impliesAt is implies for a condition that ends block at: an operand
// loaded from a cell that at stored earlier stands for the stored value
// (n = len(v); if n > 0 is a check of len(v)).
func (p *Prog) impliesAt(cond ssa.Value, outcome bool, t target, at *ssa.BasicBlock) bool {
	saved := p.at
	p.at = at
	defer func() { p.at = saved }()
	return p.implies(cond, outcome, t)
}

// implies reports whether cond having the given outcome proves t >= 1.
func (p *Prog) implies(cond ssa.Value, outcome bool, t target) bool {
	for {
		u, ok := cond.(*ssa.UnOp)
		if !ok || u.Op != token.NOT {
			break
		}
		cond, outcome = u.X, !outcome
	}
	be, ok := cond.(*ssa.BinOp)
	if !ok {
		return false
	}
	op := be.Op
	x, y := be.X, be.Y
	switch {
	case p.matches(x, t):
	case p.matches(y, t):
		x, y = y, x
		op = flip(op)
	default:
		return false
	}
	if !outcome {
		op = negate(op)
	}
	if t.isLen && t.min <= 0 {
		return true // a length is never negative
	}
	lb, ok := p.lowerBound(y, map[ssa.Value]bool{})
	switch op {
	case token.GTR:
		return ok && lb >= t.min-1
	case token.GEQ, token.EQL:
		return ok && lb >= t.min
	case token.NEQ:
		c, isConst := y.(*ssa.Const)
		if !isConst || c.Value == nil || c.Value.Kind() != constant.Int {
			return false
		}
		cv, exact := constant.Int64Val(c.Value)
		if !exact || cv != t.min-1 {
			return false
		}
		if t.isLen {
			return t.min <= 1 // len(s) != 0
		}
		// x != min-1 and x >= min-1 (known, or proved on the path).
		if xlb, ok := p.lowerBound(x, map[ssa.Value]bool{}); ok && xlb >= t.min-1 {
			return true
		}
		if p.at == nil || t.min <= -8 {
			return false
		}
		lower := t
		lower.min = t.min - 1
		at := p.at
		return p.prove(lower, at, len(at.Instrs)-1, map[visit]bool{}, nil)
	}
	return false
}

// matches reports whether e stands for the quantity t is about, directly
// or through the value last stored in the cell e is loaded from (in the
// block whose condition is being read).
func (p *Prog) matches(e ssa.Value, t target) bool {
	if p.matches1(e, t) {
		return true
	}
	if r := p.storedAt(e); r != nil {
		return p.matches1(r, t)
	}
	return false
}

// storedAt returns the value last stored, in block p.at, into the cell
// that e (conversions removed) is loaded from.
func (p *Prog) storedAt(e ssa.Value) ssa.Value {
	u, ok := stripConv(e).(*ssa.UnOp)
	if p.at == nil || !ok || u.Op != token.MUL {
		return nil
	}
	k, ok := p.loc(u.X).(cellKey)
	if !ok {
		return nil
	}
	for i := len(p.at.Instrs) - 1; i >= 0; i-- {
		if st, ok := p.at.Instrs[i].(*ssa.Store); ok && p.loc(st.Addr) == k {
			return st.Val
		}
	}
	if a, ok := k.v.(*ssa.Alloc); ok {
		return uniqueStore(a) // n := C.size_t(len(s)), stored once
	}
	return nil
}

func (p *Prog) matches1(e ssa.Value, t target) bool {
	e = stripConv(e)
	if t.isLen {
		call, ok := e.(*ssa.Call)
		if !ok {
			return false
		}
		b, ok := call.Call.Value.(*ssa.Builtin)
		return ok && b.Name() == "len" && len(call.Call.Args) == 1 && p.key(call.Call.Args[0]) == t.key
	}
	return p.key(e) == t.key
}

func flip(op token.Token) token.Token {
	switch op {
	case token.LSS:
		return token.GTR
	case token.LEQ:
		return token.GEQ
	case token.GTR:
		return token.LSS
	case token.GEQ:
		return token.LEQ
	}
	return op
}

func negate(op token.Token) token.Token {
	switch op {
	case token.LSS:
		return token.GEQ
	case token.LEQ:
		return token.GTR
	case token.GTR:
		return token.LEQ
	case token.GEQ:
		return token.LSS
	case token.EQL:
		return token.NEQ
	case token.NEQ:
		return token.EQL
	}
	return op
}

// lowerBound returns a lower bound of the integer value v, when known.
func (p *Prog) lowerBound(v ssa.Value, seen map[ssa.Value]bool) (int64, bool) {
	if seen[v] {
		return 0, false
	}
	seen[v] = true
	defer delete(seen, v)
	switch x := v.(type) {
	case *ssa.Const:
		if x.Value != nil && x.Value.Kind() == constant.Int {
			if n, ok := constant.Int64Val(x.Value); ok {
				return n, true
			}
		}
		return 0, false
	case *ssa.Parameter:
		if env := p.env; env != nil {
			if b, ok := env[x]; ok {
				return b.lb, b.ok
			}
		}
	case *ssa.Call:
		if fn := x.Call.StaticCallee(); fn != nil && fn.Pkg == p.pkg && len(fn.Blocks) > 0 && x.Call.Signature().Results().Len() == 1 {
			return p.resultLowerBound(fn, x.Call.Args, seen)
		}
		if b, ok := x.Call.Value.(*ssa.Builtin); ok {
			switch b.Name() {
			case "len", "cap":
				// The length of a field kept non-empty is at least 1.
				if len(x.Call.Args) == 1 {
					if u, ok := x.Call.Args[0].(*ssa.UnOp); ok && u.Op == token.MUL {
						if fa, ok := u.X.(*ssa.FieldAddr); ok && p.fieldNonEmpty(fa) {
							return 1, true
						}
					}
				}
				return 0, true
			case "max":
				best, found := int64(0), false
				for _, a := range x.Call.Args {
					if lb, ok := p.lowerBound(a, seen); ok && (!found || lb > best) {
						best, found = lb, true
					}
				}
				return best, found
			}
		}
	case *ssa.Convert:
		if isInteger(x.X.Type()) {
			return p.lowerBound(x.X, seen)
		}
	case *ssa.UnOp:
		// A load of a local cell: the least of what is stored there.
		if k, ok := p.loc(x.X).(cellKey); ok && x.Op == token.MUL {
			if a, ok := k.v.(*ssa.Alloc); ok {
				return p.cellLowerBound(a, seen)
			}
		}
	case *ssa.BinOp:
		if x.Op == token.SUB {
			a, ok1 := p.lowerBound(x.X, seen)
			b, ok2 := p.upperBound(x.Y)
			if ok1 && ok2 {
				return a - b, true
			}
			// low - n where a condition n < low guards the computation.
			if d, ok := p.guardedDifference(x); ok {
				return d, true
			}
			return 0, false
		}
		a, ok1 := p.lowerBound(x.X, seen)
		b, ok2 := p.lowerBound(x.Y, seen)
		if ok1 && ok2 {
			switch x.Op {
			case token.ADD:
				return a + b, true
			case token.MUL:
				if a >= 0 && b >= 0 {
					return a * b, true
				}
			case token.SHR:
				if a >= 0 && b >= 0 && b < 63 {
					if c, isConst := x.Y.(*ssa.Const); isConst && c.Value != nil {
						return a >> uint(b), true
					}
					return 0, true
				}
			}
		}
	case *ssa.Phi:
		best, found := int64(0), false
		for i, e := range x.Edges {
			if increments(e, x) {
				continue // i = i + 1 around a loop only grows
			}
			if p.env != nil && i < len(x.Block().Preds) && p.edgeInfeasible(x.Block().Preds[i], x.Block()) {
				continue // the parameters' bounds rule this edge out
			}
			lb, ok := p.lowerBound(e, seen)
			if !ok {
				return 0, false
			}
			if !found || lb < best {
				best, found = lb, true
			}
		}
		return best, found
	}
	if b, ok := v.Type().Underlying().(*types.Basic); ok && b.Info()&types.IsUnsigned != 0 {
		return 0, true
	}
	return 0, false
}

// bound is a lower bound that may be unknown, and an upper bound when the
// argument was a constant.
type bound struct {
	lb   int64
	ok   bool
	ub   int64
	okUB bool
}

// edgeInfeasible reports an edge from pred to succ taken on an outcome of
// pred's condition that the parameters' bounds (p.env) rule out.
func (p *Prog) edgeInfeasible(pred, succ *ssa.BasicBlock) bool {
	iff, outcome, ok := edgeCond(pred, succ)
	if !ok {
		return false
	}
	r, ok := p.evalCond(iff.Cond)
	return ok && r != outcome
}

// evalCond decides a comparison of integers whose bounds are known.
func (p *Prog) evalCond(cond ssa.Value) (bool, bool) {
	if u, ok := cond.(*ssa.UnOp); ok && u.Op == token.NOT {
		r, ok := p.evalCond(u.X)
		return !r, ok
	}
	be, ok := cond.(*ssa.BinOp)
	if !ok || !isInteger(be.X.Type()) {
		return false, false
	}
	xl, okxl := p.lowerBound(be.X, map[ssa.Value]bool{})
	xu, okxu := p.upperBound(be.X)
	yl, okyl := p.lowerBound(be.Y, map[ssa.Value]bool{})
	yu, okyu := p.upperBound(be.Y)
	switch be.Op {
	case token.GTR, token.GEQ:
		// x > y is y < x.
		xl, okxl, xu, okxu, yl, okyl, yu, okyu = yl, okyl, yu, okyu, xl, okxl, xu, okxu
	}
	switch be.Op {
	case token.LSS, token.GTR: // x < y
		if okxu && okyl && xu < yl {
			return true, true
		}
		if okxl && okyu && xl >= yu {
			return false, true
		}
	case token.LEQ, token.GEQ: // x <= y
		if okxu && okyl && xu <= yl {
			return true, true
		}
		if okxl && okyu && xl > yu {
			return false, true
		}
	}
	return false, false
}

// guardedDifference returns a lower bound of x - y computed only where a
// dominating condition says y < x (1) or y <= x (0).
func (p *Prog) guardedDifference(d *ssa.BinOp) (int64, bool) {
	b := d.Block()
	if b == nil {
		return 0, false
	}
	for dom := b.Idom(); dom != nil; dom = dom.Idom() {
		if len(dom.Succs) != 2 {
			continue
		}
		iff, ok := dom.Instrs[len(dom.Instrs)-1].(*ssa.If)
		if !ok {
			continue
		}
		for si, s := range dom.Succs {
			if len(s.Preds) != 1 || !s.Dominates(b) {
				continue
			}
			cond, outcome := iff.Cond, si == 0
			for {
				u, ok := cond.(*ssa.UnOp)
				if !ok || u.Op != token.NOT {
					break
				}
				cond, outcome = u.X, !outcome
			}
			be, ok := cond.(*ssa.BinOp)
			if !ok {
				continue
			}
			same := func(a, b ssa.Value) bool {
				k := p.key(a)
				switch k.(type) {
				case cellKey, fieldKey:
					return false // memory may change between the two
				}
				return k == p.key(b)
			}
			op, l, r := be.Op, be.X, be.Y
			if !outcome {
				switch op {
				case token.LSS:
					op = token.GEQ
				case token.LEQ:
					op = token.GTR
				case token.GTR:
					op = token.LEQ
				case token.GEQ:
					op = token.LSS
				default:
					continue
				}
			}
			// Normalise to l < r or l <= r.
			switch op {
			case token.GTR:
				op, l, r = token.LSS, r, l
			case token.GEQ:
				op, l, r = token.LEQ, r, l
			}
			if same(l, d.Y) && same(r, d.X) {
				switch op {
				case token.LSS:
					return 1, true
				case token.LEQ:
					return 0, true
				}
			}
		}
	}
	return 0, false
}

// upperBound returns an upper bound of v when it is a constant, or a
// parameter bound to a constant argument.
func (p *Prog) upperBound(v ssa.Value) (int64, bool) {
	v = stripConv(v)
	switch x := v.(type) {
	case *ssa.Const:
		if x.Value != nil && x.Value.Kind() == constant.Int {
			return constant.Int64Val(x.Value)
		}
	case *ssa.Parameter:
		if b, ok := p.env[x]; ok && b.okUB {
			return b.ub, true
		}
	}
	return 0, false
}

// resultLowerBound returns a lower bound of what fn returns when called
// with args: the least bound of its return values, its parameters bound by
// the arguments' bounds (bound(len(src)) with return n + n>>8 + 64).
func (p *Prog) resultLowerBound(fn *ssa.Function, args []ssa.Value, seen map[ssa.Value]bool) (int64, bool) {
	if p.depth > 4 {
		return 0, false
	}
	env := map[*ssa.Parameter]bound{}
	for i, a := range args {
		if i < len(fn.Params) {
			lb, ok := p.lowerBound(a, seen)
			ub, okUB := p.upperBound(a)
			env[fn.Params[i]] = bound{lb: lb, ok: ok, ub: ub, okUB: okUB}
		}
	}
	// A parameter that may be 0 is taken in two cases, 0 and at least 1:
	// n + (low-n)>>11 is 64 for n == 0 and at least 1 otherwise.
	for _, prm := range fn.Params {
		b, ok := env[prm]
		if !ok || !b.ok || b.lb != 0 || (b.okUB && b.ub == 0) {
			continue
		}
		zero, one := maps.Clone(env), maps.Clone(env)
		zero[prm] = bound{lb: 0, ok: true, ub: 0, okUB: true}
		one[prm] = bound{lb: 1, ok: true, ub: b.ub, okUB: b.okUB}
		lb0, ok0 := p.returnsLowerBound(fn, zero)
		lb1, ok1 := p.returnsLowerBound(fn, one)
		if ok0 && ok1 {
			return min(lb0, lb1), true
		}
		break
	}
	return p.returnsLowerBound(fn, env)
}

// returnsLowerBound is the least lower bound of fn's return values with
// its parameters bound as env says.
func (p *Prog) returnsLowerBound(fn *ssa.Function, env map[*ssa.Parameter]bound) (int64, bool) {
	saved := p.env
	p.env = env
	p.depth++
	defer func() { p.env, p.depth = saved, p.depth-1 }()
	best, found := int64(0), false
	for _, b := range fn.Blocks {
		for _, in := range b.Instrs {
			r, ok := in.(*ssa.Return)
			if !ok || len(r.Results) != 1 {
				continue
			}
			lb, ok := p.lowerBound(r.Results[0], map[ssa.Value]bool{})
			if !ok {
				return 0, false
			}
			if !found || lb < best {
				best, found = lb, true
			}
		}
	}
	return best, found
}

// cellLowerBound returns the least lower bound of the values stored in a
// local cell whose address is used only to load and store.
func (p *Prog) cellLowerBound(a *ssa.Alloc, seen map[ssa.Value]bool) (int64, bool) {
	refs := a.Referrers()
	if refs == nil {
		return 0, false
	}
	best, found := int64(0), false
	for _, r := range *refs {
		switch x := r.(type) {
		case *ssa.Store:
			if x.Addr != a {
				return 0, false
			}
			lb, ok := p.lowerBound(x.Val, seen)
			if !ok {
				return 0, false
			}
			if !found || lb < best {
				best, found = lb, true
			}
		case *ssa.UnOp:
			if x.Op != token.MUL {
				return 0, false
			}
		case *ssa.MakeClosure:
			// captured: the closure must only load it
			fvs := x.Fn.(*ssa.Function).FreeVars
			for i, b := range x.Bindings {
				if b == a && i < len(fvs) && p.storesTo(fvs[i]) {
					return 0, false
				}
			}
		case *ssa.DebugRef:
		default:
			return 0, false
		}
	}
	return best, found
}

// storesTo reports whether a function stores through its free variable
// fv, or hands it on.
func (p *Prog) storesTo(fv *ssa.FreeVar) bool {
	refs := fv.Referrers()
	if refs == nil {
		return false
	}
	for _, r := range *refs {
		if u, ok := r.(*ssa.UnOp); ok && u.Op == token.MUL {
			continue
		}
		return true
	}
	return false
}

// increments reports whether e is phi + c with a positive constant c.
func increments(e ssa.Value, phi *ssa.Phi) bool {
	b, ok := e.(*ssa.BinOp)
	if !ok || b.Op != token.ADD {
		return false
	}
	x, y := b.X, b.Y
	if x != phi {
		x, y = y, x
	}
	c, ok := y.(*ssa.Const)
	return x == phi && ok && c.Value != nil && constant.Sign(c.Value) > 0
}

// nonEmptyValue reports whether the slice value v is non-empty by the way
// it was built. at is where v is used (for proofs of a make length); nil
// when unknown.
func (p *Prog) nonEmptyValue(v ssa.Value, at ssa.Instruction) bool {
	p.steps++
	if p.steps > budget {
		return true
	}
	switch x := v.(type) {
	case *ssa.Slice:
		if x.Low != nil {
			if c, ok := x.Low.(*ssa.Const); !ok || c.Value == nil || constant.Sign(c.Value) != 0 {
				return false
			}
		}
		if x.High != nil {
			if lb, ok := p.lowerBound(x.High, map[ssa.Value]bool{}); ok && lb >= 1 {
				return true
			}
			// s[:cap(s)] is at least as long as s.
			if call, ok := stripConv(x.High).(*ssa.Call); ok {
				if b, ok := call.Call.Value.(*ssa.Builtin); ok && b.Name() == "cap" && len(call.Call.Args) == 1 && p.key(call.Call.Args[0]) == p.key(x.X) {
					return p.nonEmptyValue(x.X, at)
				}
			}
			return false
		}
		if ptr, ok := x.X.Type().Underlying().(*types.Pointer); ok {
			if arr, ok := ptr.Elem().Underlying().(*types.Array); ok {
				return arr.Len() > 0
			}
		}
		return p.nonEmptyValue(x.X, at)
	case *ssa.MakeSlice:
		if lb, ok := p.lowerBound(x.Len, map[ssa.Value]bool{}); ok && lb >= 1 {
			return true
		}
		return p.proveAt(x, p.intTarget(x.Len), nil)
	case *ssa.Call:
		if b, ok := x.Call.Value.(*ssa.Builtin); ok && b.Name() == "append" && len(x.Call.Args) == 2 {
			return p.nonEmptyValue(x.Call.Args[1], at) || p.nonEmptyValue(x.Call.Args[0], at)
		}
	case *ssa.ChangeType:
		return p.nonEmptyValue(x.X, at)
	case *ssa.Extract:
		return p.mapValueNonEmpty(x)
	case *ssa.Convert:
		if c, ok := x.X.(*ssa.Const); ok && c.Value != nil && c.Value.Kind() == constant.String {
			return constant.StringVal(c.Value) != ""
		}
	case *ssa.Phi:
		for _, e := range x.Edges {
			if !p.nonEmptyValue(e, at) {
				return false
			}
		}
		return len(x.Edges) > 0
	case *ssa.UnOp:
		if x.Op != token.MUL {
			return false
		}
		switch k := p.loc(x.X).(type) {
		case cellKey:
			if g, ok := k.v.(*ssa.Global); ok {
				return p.globalNonEmpty(g)
			}
			return p.proveAt(x, lenOf(k), nil)
		case fieldKey:
			if fa, ok := x.X.(*ssa.FieldAddr); ok {
				return p.fieldNonEmpty(fa)
			}
		}
	}
	return false
}

// mapValueNonEmpty reports a value of a range over a local map whose
// every element is stored non-empty (m[k] = append(m[k], v)) and which
// serves nothing but lookups, stores, ranges and len.
func (p *Prog) mapValueNonEmpty(x *ssa.Extract) bool {
	next, ok := x.Tuple.(*ssa.Next)
	if !ok || next.IsString || x.Index != 2 {
		return false
	}
	rng, ok := next.Iter.(*ssa.Range)
	if !ok {
		return false
	}
	var maps []ssa.Value // the values standing for the map
	inSet := map[ssa.Value]bool{}
	var collect func(v ssa.Value) bool
	collect = func(v ssa.Value) bool {
		if inSet[v] {
			return true
		}
		inSet[v] = true
		switch m := v.(type) {
		case *ssa.MakeMap:
			maps = append(maps, m)
			return true
		case *ssa.Phi:
			maps = append(maps, m)
			for _, e := range m.Edges {
				if !collect(e) {
					return false
				}
			}
			return true
		}
		return false
	}
	switch m := rng.X.(type) {
	case *ssa.MakeMap, *ssa.Phi:
		if !collect(m) {
			return false
		}
	case *ssa.UnOp:
		k, ok := p.key(m).(cellKey)
		if !ok {
			return false
		}
		a, ok := k.v.(*ssa.Alloc)
		if !ok || a.Referrers() == nil {
			return false
		}
		for _, r := range *a.Referrers() {
			switch y := r.(type) {
			case *ssa.Store:
				if _, isMake := y.Val.(*ssa.MakeMap); !isMake || y.Addr != a {
					return false // a map from elsewhere
				}
			case *ssa.UnOp:
				if y.Op != token.MUL {
					return false
				}
				maps = append(maps, y)
			case *ssa.MakeClosure, *ssa.DebugRef:
			default:
				return false
			}
		}
	default:
		return false
	}
	updates := 0
	for _, m := range maps {
		if m.Referrers() == nil {
			return false
		}
		for _, u := range *m.Referrers() {
			switch z := u.(type) {
			case *ssa.Lookup, *ssa.Range, *ssa.DebugRef:
			case *ssa.Phi:
				if !inSet[z] {
					return false
				}
			case *ssa.MapUpdate:
				if z.Map != m || !p.nonEmptyValue(z.Value, z) {
					return false
				}
				updates++
			case *ssa.Call:
				if b, ok := z.Call.Value.(*ssa.Builtin); !ok || b.Name() != "len" {
					return false
				}
			default:
				return false
			}
		}
	}
	return updates > 0
}

// globalNonEmpty reports a package variable whose every store is a
// non-empty slice and whose address is used for nothing else.
func (p *Prog) globalNonEmpty(g *ssa.Global) bool {
	if ok, done := p.globals[g]; done {
		return ok
	}
	p.globals[g] = true // assume while checking (a store of g itself)
	stores := 0
	ok := true
	var ops []*ssa.Value
	for _, f := range p.funcs {
		for _, b := range f.Blocks {
			for _, in := range b.Instrs {
				ops = in.Operands(ops[:0])
				for i, op := range ops {
					if *op != g {
						continue
					}
					switch x := in.(type) {
					case *ssa.Store:
						if i != 0 || !p.nonEmptyValue(x.Val, x) {
							ok = false // g stored somewhere, or set to what may be empty
						}
						stores++
					case *ssa.UnOp:
						if x.Op != token.MUL {
							ok = false
						}
					default:
						ok = false // its address escapes
					}
				}
			}
		}
	}
	ok = ok && stores > 0
	p.globals[g] = ok
	return ok
}

// fieldID identifies a struct field for the memo of fieldNonEmpty.
type fieldID = *types.Var

// fieldNonEmpty reports a struct field (of the struct fa addresses)
// that every construction of the struct in the package sets, and every
// store sets to a non-empty slice or appends to.
func (p *Prog) fieldNonEmpty(fa *ssa.FieldAddr) bool {
	ptr, ok := fa.X.Type().Underlying().(*types.Pointer)
	if !ok {
		return false
	}
	st := ptr.Elem()
	if named, ok := types.Unalias(st).(*types.Named); !ok || named.Obj().Pkg() != p.pass.Pkg {
		return false
	}
	stt, ok := st.Underlying().(*types.Struct)
	if !ok || fa.Field >= stt.NumFields() {
		return false
	}
	id := stt.Field(fa.Field)
	if ok, done := p.fields[id]; done {
		return ok
	}
	p.fields[id] = true // assume while checking: w.buf = w.buf[:cap(w.buf)]
	ok = p.fieldStores(fa, st)
	p.fields[id] = ok
	return ok
}

// fieldStores checks the stores and constructions for fieldNonEmpty.
func (p *Prog) fieldStores(fa *ssa.FieldAddr, st types.Type) bool {
	stores := 0
	for _, f := range p.funcs {
		setIn := map[ssa.Value]bool{} // struct pointers whose field is stored in f
		var allocs []*ssa.Alloc
		for _, b := range f.Blocks {
			for _, in := range b.Instrs {
				switch x := in.(type) {
				case *ssa.Alloc:
					if types.Identical(x.Type().Underlying().(*types.Pointer).Elem(), st) {
						allocs = append(allocs, x)
					}
				case *ssa.Store:
					a, ok := x.Addr.(*ssa.FieldAddr)
					if !ok || a.Field != fa.Field || !types.Identical(a.X.Type(), fa.X.Type()) {
						continue
					}
					if !p.nonEmptyValue(x.Val, x) && !selfAppend(x.Val, a.Field) {
						return false
					}
					setIn[a.X] = true
					stores++
				}
			}
		}
		for _, a := range allocs {
			if !setIn[a] {
				return false // a construction that leaves the field empty
			}
		}
	}
	return stores > 0
}

// selfAppend reports v = append(x.f, ...) for field index field.
func selfAppend(v ssa.Value, field int) bool {
	call, ok := v.(*ssa.Call)
	if !ok {
		return false
	}
	b, ok := call.Call.Value.(*ssa.Builtin)
	if !ok || b.Name() != "append" || len(call.Call.Args) == 0 {
		return false
	}
	load, ok := call.Call.Args[0].(*ssa.UnOp)
	if !ok || load.Op != token.MUL {
		return false
	}
	fa, ok := load.X.(*ssa.FieldAddr)
	return ok && fa.Field == field
}

// dump, set by tests, prints the SSA of functions.
var dump func(*Prog)
