// Package vettest runs cgoguard analyzers over packages of a testdata
// GOPATH tree outside analysistest: for runnable examples, which have no
// *testing.T, and for benchmarks, which load once and analyse many times.
//
// Functions are safe for concurrent use; loaded packages must not be
// analysed by two calls at the same time.
package vettest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
)

// Load loads the named packages of the GOPATH tree at testdata (packages
// live in testdata/src/<path>, as analysistest expects), with the syntax
// of all their dependencies so that analyzers with facts can run.
func Load(testdata string, pkgs ...string) ([]*packages.Package, error) {
	abs, err := filepath.Abs(testdata)
	if err != nil {
		return nil, fmt.Errorf("vettest: %w", err)
	}
	cfg := &packages.Config{
		Mode: packages.LoadAllSyntax,
		Dir:  filepath.Join(abs, "src"),
		Env:  append(os.Environ(), "GOPATH="+abs, "GO111MODULE=off", "GOFLAGS=", "CGO_ENABLED=1"),
	}
	loaded, err := packages.Load(cfg, pkgs...)
	if err != nil {
		return nil, fmt.Errorf("vettest: loading %v: %w", pkgs, err)
	}
	var errs []string
	packages.Visit(loaded, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("vettest: loading %v: %v", pkgs, errs)
	}
	return loaded, nil
}

// Analyze runs analyzers over loaded packages and returns the findings of
// the root packages as "file.go:line: message" lines (base file names,
// sorted).
func Analyze(pkgs []*packages.Package, analyzers ...*analysis.Analyzer) ([]string, error) {
	g, err := checker.Analyze(analyzers, pkgs, nil)
	if err != nil {
		return nil, fmt.Errorf("vettest: %w", err)
	}
	var out []string
	for _, act := range g.Roots {
		if act.Err != nil {
			return nil, fmt.Errorf("vettest: %s: %w", act, act.Err)
		}
		for _, d := range act.Diagnostics {
			p := act.Package.Fset.Position(d.Pos)
			out = append(out, fmt.Sprintf("%s:%d: %s", filepath.Base(p.Filename), p.Line, d.Message))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Check loads pkgs from testdata and analyses them.
func Check(testdata string, pkgs []string, analyzers ...*analysis.Analyzer) ([]string, error) {
	loaded, err := Load(testdata, pkgs...)
	if err != nil {
		return nil, err
	}
	return Analyze(loaded, analyzers...)
}
