// Package analysis is the root of cgoguard's cgo hazard checks. The
// analyzers live in its subpackages, one per theme (pointers, handles,
// memory, cstrings, lifetimes, threads, cerrors, signals, advisory), and
// analysis/suite gathers them for the drivers.
//
// This package holds no code of its own. Its test measures the analyzers
// on real cgo bugs: testdata/real holds bugs that public cgo projects
// shipped, each reduced from the project's source to a buggy and a fixed
// package with stub C, the buggy lines marked with the rule expected
// ("// bug: CG013"). The test reports the recall on the buggy versions and
// the findings on the fixed versions, and fails below 90% recall or on any
// finding in a fixed version:
//
//	go test ./analysis -run TestRealBugs -v
package analysis
