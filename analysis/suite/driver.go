package suite

import (
	"fmt"
	"go/types"
	"os"
	"reflect"
	"runtime"
	"sort"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
)

// Outcome is what the analyzers reported for one package.
type Outcome struct {
	Package *packages.Package
	// Diagnostics maps each analyzer run (requested or required) to its
	// diagnostics.
	Diagnostics map[*analysis.Analyzer][]analysis.Diagnostic
	// Results maps each analyzer run to its result.
	Results map[*analysis.Analyzer]any
	// Err is the first analyzer error, if any.
	Err error
}

// Analyze runs the analyzers, and the analyzers they require, on each
// package, which must have been loaded with syntax and type information
// (packages.NeedSyntax|NeedTypes|NeedTypesInfo); dependencies need not be
// loaded from source.
//
// This driver is written here, rather than using
// golang.org/x/tools/go/analysis/checker, because checker propagates
// facts by analyzing every dependency from source (NeedDeps), which made
// "cgoguard vet" three to four times slower than go vet, whose facts come
// from its build cache. cgoguard's analyzers use no facts of their own;
// the only facts in the graph are ctrlflow's "function never returns"
// facts, which Analyze answers for functions of other packages from a
// fixed table of well-known functions (os.Exit, log.Fatal..., testing's
// FailNow/Fatal..., runtime.Goexit); facts about the package's own
// functions work as usual. Packages are analyzed in parallel.
func Analyze(pkgs []*packages.Package, analyzers []*analysis.Analyzer) []*Outcome {
	order := topo(analyzers)
	out := make([]*Outcome, len(pkgs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, p := range pkgs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = analyzePackage(p, order)
		}()
	}
	wg.Wait()
	return out
}

// topo orders the analyzers and their requirements so that each comes
// after what it requires.
func topo(roots []*analysis.Analyzer) []*analysis.Analyzer {
	var order []*analysis.Analyzer
	seen := map[*analysis.Analyzer]bool{}
	var visit func(a *analysis.Analyzer)
	visit = func(a *analysis.Analyzer) {
		if seen[a] {
			return
		}
		seen[a] = true
		for _, r := range a.Requires {
			visit(r)
		}
		order = append(order, a)
	}
	for _, a := range roots {
		visit(a)
	}
	return order
}

type factKey struct {
	obj types.Object
	pkg *types.Package
	typ reflect.Type
}

func analyzePackage(p *packages.Package, order []*analysis.Analyzer) *Outcome {
	o := &Outcome{
		Package:     p,
		Diagnostics: map[*analysis.Analyzer][]analysis.Diagnostic{},
		Results:     map[*analysis.Analyzer]any{},
	}
	facts := map[factKey]analysis.Fact{}
	readable := map[string]bool{}
	for _, list := range [][]string{p.GoFiles, p.CompiledGoFiles, p.OtherFiles, p.IgnoredFiles, p.EmbedFiles} {
		for _, f := range list {
			readable[f] = true
		}
	}
	var module *analysis.Module
	if p.Module != nil {
		module = &analysis.Module{Path: p.Module.Path, Version: p.Module.Version, GoVersion: p.Module.GoVersion}
	}
	for _, a := range order {
		if o.Err != nil {
			break
		}
		resultOf := map[*analysis.Analyzer]any{}
		for _, r := range a.Requires {
			resultOf[r] = o.Results[r]
		}
		pass := &analysis.Pass{
			Analyzer:     a,
			Fset:         p.Fset,
			Files:        p.Syntax,
			OtherFiles:   p.OtherFiles,
			IgnoredFiles: p.IgnoredFiles,
			Pkg:          p.Types,
			TypesInfo:    p.TypesInfo,
			TypesSizes:   p.TypesSizes,
			TypeErrors:   p.TypeErrors,
			Module:       module,
			ResultOf:     resultOf,
			Report: func(d analysis.Diagnostic) {
				o.Diagnostics[a] = append(o.Diagnostics[a], d)
			},
			ReadFile: func(name string) ([]byte, error) {
				if !readable[name] {
					return nil, fmt.Errorf("cgoguard: analyzer %s may not read %s: not a file of package %s", a.Name, name, p.PkgPath)
				}
				return os.ReadFile(name)
			},
			ImportObjectFact: func(obj types.Object, fact analysis.Fact) bool {
				if obj.Pkg() != p.Types {
					return foreignFact(obj, fact)
				}
				return copyFact(facts[factKey{obj: obj, typ: reflect.TypeOf(fact)}], fact)
			},
			ExportObjectFact: func(obj types.Object, fact analysis.Fact) {
				facts[factKey{obj: obj, typ: reflect.TypeOf(fact)}] = fact
			},
			ImportPackageFact: func(pkg *types.Package, fact analysis.Fact) bool {
				return pkg == p.Types && copyFact(facts[factKey{pkg: pkg, typ: reflect.TypeOf(fact)}], fact)
			},
			ExportPackageFact: func(fact analysis.Fact) {
				facts[factKey{pkg: p.Types, typ: reflect.TypeOf(fact)}] = fact
			},
			AllObjectFacts:  func() []analysis.ObjectFact { return objectFacts(facts) },
			AllPackageFacts: func() []analysis.PackageFact { return packageFacts(facts) },
		}
		res, err := a.Run(pass)
		if err != nil {
			o.Err = fmt.Errorf("cgoguard: %s: analyzer %s: %w", p.PkgPath, a.Name, err)
			break
		}
		o.Results[a] = res
	}
	return o
}

// copyFact copies a stored fact into ptr and reports whether there was one.
func copyFact(stored, ptr analysis.Fact) bool {
	if stored == nil {
		return false
	}
	reflect.ValueOf(ptr).Elem().Set(reflect.ValueOf(stored).Elem())
	return true
}

// noReturn lists functions of other packages that never return, answering
// ctrlflow's noReturn fact for them (see Analyze).
var noReturn = map[string]bool{
	"os.Exit": true, "runtime.Goexit": true, "syscall.Exit": true,
	"log.Fatal": true, "log.Fatalf": true, "log.Fatalln": true,
	"log.Panic": true, "log.Panicf": true, "log.Panicln": true,
	"(*log.Logger).Fatal": true, "(*log.Logger).Fatalf": true, "(*log.Logger).Fatalln": true,
	"(*log.Logger).Panic": true, "(*log.Logger).Panicf": true, "(*log.Logger).Panicln": true,
	"(*testing.common).FailNow": true, "(*testing.common).Fatal": true, "(*testing.common).Fatalf": true,
	"(*testing.common).SkipNow": true, "(*testing.common).Skip": true, "(*testing.common).Skipf": true,
}

func foreignFact(obj types.Object, fact analysis.Fact) bool {
	fn, ok := obj.(*types.Func)
	if !ok || reflect.TypeOf(fact).String() != "*ctrlflow.noReturn" {
		return false
	}
	return noReturn[fn.FullName()]
}

func objectFacts(facts map[factKey]analysis.Fact) []analysis.ObjectFact {
	var out []analysis.ObjectFact
	for k, f := range facts {
		if k.obj != nil {
			out = append(out, analysis.ObjectFact{Object: k.obj, Fact: f})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object.Pos() < out[j].Object.Pos() })
	return out
}

func packageFacts(facts map[factKey]analysis.Fact) []analysis.PackageFact {
	var out []analysis.PackageFact
	for k, f := range facts {
		if k.pkg != nil {
			out = append(out, analysis.PackageFact{Package: k.pkg, Fact: f})
		}
	}
	return out
}
