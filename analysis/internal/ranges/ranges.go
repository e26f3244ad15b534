// Package ranges answers one question for cgoguard's analyzers: can the
// slice indexed by s[0] be empty at that point? It reasons over the SSA
// form of the package (golang.org/x/tools/go/ssa), path by path backwards
// from the index expression, with facts that hold there:
//
//   - how the slice was built: a non-empty composite literal, make with a
//     length that is positive (a positive constant, max(n, 1), len(x)+1, or
//     a length a condition proved positive), append of at least one
//     element, a package variable whose every store is non-empty, a struct
//     field that every construction of its struct sets non-empty and that
//     is otherwise only appended to;
//   - conditions on the paths that reach the point: len(s) > 0,
//     len(s) != 0, len(s) >= n with n >= 1, the exit of a loop padding s up
//     to a positive minimum (for len(s) < 16 { s = append(s, 0) }), an
//     early return when s is empty, a fallback assigned when it is empty,
//     and a positive check of a length passed to the same C call
//     (if n > 0 { C.memcpy(dst, &b[0], n) }).
//
// A nil check is not a length check. Variables that cmd/cgo's closures
// capture live in memory cells; the reasoning follows the stores to such a
// cell and crosses from the closure to the statement that runs it.
//
// It is written here rather than taken from a library because no
// maintained package computes these facts; it is a few hundred lines over
// go/ssa. A Prog is built lazily, once per pass, only when asked; it is
// not safe for concurrent use.
package ranges

import (
	"go/constant"
	"go/token"
	"go/types"
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

	globals map[*ssa.Global]bool
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
		if !p.nonEmptyValue(ia.X, ia) && !p.proveAt(ia, lenOf(p.key(ia.X)), p.lenArgs(ia)) {
			return false, true
		}
	}
	return true, true
}

// target is what a query must prove is at least 1: the length of a slice
// (by its key), or an integer value (by its key).
type target struct {
	isLen bool
	key   any
}

func lenOf(k any) target { return target{isLen: true, key: k} }
func intOf(k any) target { return target{key: k} }

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

// key returns the canonical identity of v: the memory cell, package
// variable or field a loaded value comes from, otherwise v itself.
func (p *Prog) key(v ssa.Value) any {
	switch x := v.(type) {
	case *ssa.UnOp:
		if x.Op == token.MUL {
			return p.loc(x.X)
		}
	case *ssa.ChangeType:
		return p.key(x.X)
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
	}
	return addr
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

// lenArgs returns the keys of the integer arguments of the C call made
// in the same cgo closure as ia: the lengths passed along with the
// pointer.
func (p *Prog) lenArgs(ia *ssa.IndexAddr) []any {
	var out []any
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
			for _, a := range c.Call.Args {
				if isInteger(a.Type()) {
					out = append(out, p.key(stripConv(a)))
				}
			}
		}
	}
	return out
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
func (p *Prog) proveAt(in ssa.Instruction, t target, alts []any) bool {
	b := in.Block()
	idx := indexOf(b, in)
	if p.prove(t, b, idx, map[visit]bool{}) {
		return true
	}
	for _, a := range alts {
		if p.prove(intOf(a), b, idx, map[visit]bool{}) {
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
}

// prove reports whether t holds on every path reaching instruction
// index before of block b.
func (p *Prog) prove(t target, b *ssa.BasicBlock, before int, seen map[visit]bool) bool {
	p.steps++
	if p.steps > budget {
		return true
	}
	for i := before - 1; i >= 0; i-- {
		in := b.Instrs[i]
		if st, ok := in.(*ssa.Store); ok && p.loc(st.Addr) == t.key {
			if t.isLen {
				if p.nonEmptyValue(st.Val, st) {
					return true
				}
				t = lenOf(p.key(st.Val))
			} else {
				t = intOf(p.key(stripConv(st.Val)))
			}
			if v, ok := t.key.(ssa.Value); ok && !isPhi(v) {
				return p.holdsByValue(t, v, st)
			}
			continue
		}
		if v, ok := in.(ssa.Value); ok && v == t.key && !isPhi(v) {
			return p.holdsByValue(t, v, in)
		}
	}
	if seen[visit{b, t.key}] {
		return true // a cycle adds nothing; the entries into it decide
	}
	seen[visit{b, t.key}] = true
	if len(b.Preds) == 0 {
		return p.proveAtCall(t, b.Parent(), seen)
	}
	for _, pred := range b.Preds {
		pt := t
		if phi, ok := t.key.(*ssa.Phi); ok && phi.Block() == b {
			ev := phi.Edges[indexOfPred(b, pred)]
			if t.isLen {
				if p.nonEmptyValue(ev, nil) {
					continue
				}
				pt = lenOf(p.key(ev))
			} else {
				if lb, ok := p.lowerBound(ev, map[ssa.Value]bool{}); ok && lb >= 1 {
					continue
				}
				pt = intOf(p.key(stripConv(ev)))
			}
		}
		if p.edgeImplies(pred, b, pt) {
			continue
		}
		if !p.prove(pt, pred, len(pred.Instrs), seen) {
			return false
		}
	}
	return true
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

// proveAtCall continues a proof from the entry of a function literal at
// the statement that runs it.
func (p *Prog) proveAtCall(t target, fn *ssa.Function, seen map[visit]bool) bool {
	s, ok := p.calls[fn]
	if !ok {
		return false
	}
	if v, isValue := t.key.(ssa.Value); isValue && v.Parent() == fn {
		return false // a value of the literal itself, undefined outside
	}
	b := s.instr.Block()
	return p.prove(t, b, indexOf(b, s.instr), seen)
}

// holdsByValue decides t where its key is defined: v is the value.
func (p *Prog) holdsByValue(t target, v ssa.Value, at ssa.Instruction) bool {
	if t.isLen {
		return p.nonEmptyValue(v, at)
	}
	lb, ok := p.lowerBound(v, map[ssa.Value]bool{})
	return ok && lb >= 1
}

// edgeImplies reports whether taking the edge pred → succ proves t:
// pred ends in a condition whose outcome on that edge implies it.
func (p *Prog) edgeImplies(pred, succ *ssa.BasicBlock, t target) bool {
	if len(pred.Instrs) == 0 || len(pred.Succs) != 2 || pred.Succs[0] == pred.Succs[1] {
		return false
	}
	iff, ok := pred.Instrs[len(pred.Instrs)-1].(*ssa.If)
	if !ok {
		return false
	}
	return p.implies(iff.Cond, pred.Succs[0] == succ, t)
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
	lb, ok := p.lowerBound(y, map[ssa.Value]bool{})
	switch op {
	case token.GTR:
		return ok && lb >= 0
	case token.GEQ, token.EQL:
		return ok && lb >= 1
	case token.NEQ:
		if c, isConst := y.(*ssa.Const); isConst && c.Value != nil && constant.Sign(c.Value) == 0 {
			if t.isLen {
				return true
			}
			xlb, ok := p.lowerBound(x, map[ssa.Value]bool{})
			return ok && xlb >= 0
		}
	}
	return false
}

// matches reports whether e stands for the quantity t is about.
func (p *Prog) matches(e ssa.Value, t target) bool {
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
	case *ssa.Call:
		if b, ok := x.Call.Value.(*ssa.Builtin); ok {
			switch b.Name() {
			case "len", "cap":
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
		if x.Op == token.ADD {
			a, ok1 := p.lowerBound(x.X, seen)
			b, ok2 := p.lowerBound(x.Y, seen)
			if ok1 && ok2 {
				return a + b, true
			}
		}
	case *ssa.Phi:
		best, found := int64(0), false
		for _, e := range x.Edges {
			if increments(e, x) {
				continue // i = i + 1 around a loop only grows
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
			lb, ok := p.lowerBound(x.High, map[ssa.Value]bool{})
			return ok && lb >= 1
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
		return p.proveAt(x, intOf(p.key(stripConv(x.Len))), nil)
	case *ssa.Call:
		if b, ok := x.Call.Value.(*ssa.Builtin); ok && b.Name() == "append" && len(x.Call.Args) == 2 {
			return p.nonEmptyValue(x.Call.Args[1], at) || p.nonEmptyValue(x.Call.Args[0], at)
		}
	case *ssa.ChangeType:
		return p.nonEmptyValue(x.X, at)
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
