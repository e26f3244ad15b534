// Package suite gathers cgoguard's analyzers and the registry of their
// rules, for the drivers (cmd/cgoguard-vet, cgoguard vet) and for tests.
//
// Analyzers lists the theme analyzers, one per package under analysis/;
// Suppressions is the analyzer that checks //cgoguard:ignore directives
// (CG000): a directive without a reason, naming an unknown rule, or
// suppressing no finding. It requires every theme analyzer, so running it
// runs them all. All returns both. Rules, Lookup, Implemented and
// AnalyzerFor answer questions about rules; Analyze runs analyzers over
// packages loaded with golang.org/x/tools/go/packages, the way cgoguard vet
// does.
//
// Example, a complete vet tool:
//
//	package main
//
//	import (
//		"golang.org/x/tools/go/analysis/unitchecker"
//
//		"github.com/cgoguard/cgoguard/analysis/suite"
//	)
//
//	func main() { unitchecker.Main(suite.All()...) }
//
// The package's variables are set at init and only read afterwards; its
// functions are safe for concurrent use, except that setting the flags of
// Suppressions must happen before analysis starts.
package suite
