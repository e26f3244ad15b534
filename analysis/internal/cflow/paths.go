package cflow

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/cfg"
)

// Step is what a path walk does at one node.
type Step int

const (
	// Next continues along the path.
	Next Step = iota
	// Done ends the path: it is satisfied (the memory was freed, the
	// lock released, ownership handed on).
	Done
	// Fail ends the path: it is a violation at this node.
	Fail
)

// Walker explores the paths of one control-flow graph.
type Walker struct {
	// Step classifies a node met on a path.
	Step func(n ast.Node) Step
	// Branch, when set, says which arms of a conditional block whose
	// condition is cond can be taken (for example only the false arm of
	// "p == nil" matters for a leak of p).
	Branch func(cond ast.Expr) (whenTrue, whenFalse bool)
	// Dead, when set, reports whether an exit block ends the process or
	// the goroutine (panic, os.Exit, log.Fatal): such exits are not
	// violations.
	Dead func(b *cfg.Block) bool
	// Enter, when set, classifies entering a block, before its nodes (the
	// body of a range loop rebinds its variables there).
	Enter func(b *cfg.Block) Step
}

// RangeRebinds reports whether entering b (the body of a range loop)
// assigns v as the loop's key or value.
func RangeRebinds(info *types.Info, b *cfg.Block, v *types.Var) bool {
	if b.Kind != cfg.KindRangeBody {
		return false
	}
	r, ok := b.Stmt.(*ast.RangeStmt)
	if !ok {
		return false
	}
	for _, e := range []ast.Expr{r.Key, r.Value} {
		if id, ok := e.(*ast.Ident); ok && info.ObjectOf(id) == v {
			return true
		}
	}
	return false
}

// Find returns the block and node index of the CFG node that contains pos.
func Find(g *cfg.CFG, pos token.Pos) (*cfg.Block, int, bool) {
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if n.Pos() <= pos && pos < n.End() {
				return b, i, true
			}
		}
	}
	return nil, 0, false
}

// From walks every path that starts just after node i of block b. It
// returns the node where a path failed, or (nil, true) when a path
// reached the function's exit without being Done, or (nil, false) when
// every path was Done or died.
func (w *Walker) From(b *cfg.Block, i int) (ast.Node, bool) {
	type key struct {
		b *cfg.Block
		i int
	}
	seen := map[key]bool{}
	var walk func(b *cfg.Block, i int) (ast.Node, bool)
	walk = func(b *cfg.Block, i int) (ast.Node, bool) {
		k := key{b, i}
		if seen[k] {
			return nil, false
		}
		seen[k] = true
		if i == 0 && w.Enter != nil {
			switch w.Enter(b) {
			case Done:
				return nil, false
			case Fail:
				return nil, true
			}
		}
		for j := i; j < len(b.Nodes); j++ {
			switch w.Step(b.Nodes[j]) {
			case Done:
				return nil, false
			case Fail:
				return b.Nodes[j], true
			}
		}
		if len(b.Succs) == 0 {
			if b.Kind == cfg.KindUnreachable || (w.Dead != nil && w.Dead(b)) {
				return nil, false
			}
			return nil, true
		}
		succs := b.Succs
		if len(succs) == 2 && len(b.Nodes) > 0 && w.Branch != nil {
			if cond, ok := b.Nodes[len(b.Nodes)-1].(ast.Expr); ok {
				t, f := w.Branch(cond)
				succs = nil
				if t {
					succs = append(succs, b.Succs[0])
				}
				if f {
					succs = append(succs, b.Succs[1])
				}
			}
		}
		for _, s := range succs {
			if n, bad := walk(s, 0); bad {
				return n, true
			}
		}
		return nil, false
	}
	return walk(b, i+1)
}
