// Command cgoguard-vet runs cgoguard's cgo analyzers as a go vet tool:
//
//	go install github.com/cgoguard/cgoguard/cmd/cgoguard-vet@latest
//	go vet -vettool=$(command -v cgoguard-vet) ./...
//
// It runs every analyzer of analysis/suite (rules CG001-CG032 and the
// suppression check CG000). Each analyzer can be switched off with its
// flag, e.g. -advisory=false; -suppressions.rules limits unused-suppression
// reports to some rules. The richer front end, with rule selection, JSON
// and SARIF output and suppressed findings, is "cgoguard vet".
package main

import (
	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/cgoguard/cgoguard/analysis/suite"
)

func main() { unitchecker.Main(suite.All()...) }
