// Package kinds implements the check kinds of package checklist and
// registers them when imported:
//
//   - command: runs argv or a shell line; expects an exit code and
//     stdout/stderr patterns.
//   - vet: runs "cgoguard vet -format json" with the check's rules over the
//     packages; fails on unsuppressed findings, which keep their locations.
//   - gotest: runs "go test -json" with flags and environment (e.g. -race,
//     GOEXPERIMENT=cgocheck2); keeps per-test results.
//   - leak: runs the leakcheck-enabled tests matching a pattern; keeps the
//     "leakcheck:" report lines as evidence.
//   - http: requests a URL; expects a status, a body pattern and JSON path
//     values. It may start the service first (serve) and stop it after.
//   - metric: scrapes a Prometheus endpoint and compares a series with a
//     threshold; may start the service too.
//   - file: checks presence, mode and content of files (by glob, or the
//     source files of the packages), environment variables and `go env`.
//
// Each kind's parameters (the check's `with`) are decoded strictly: an
// unknown key is an error.
//
// Example:
//
//	import _ "github.com/cgoguard/cgoguard/checklist/kinds"
//
//	res, err := checklist.NewRunner().Run(ctx, cl)
//
// Concurrency: kinds are stateless; any number of checks of any kind may
// run at once.
package kinds

import (
	"github.com/cgoguard/cgoguard/checklist"
)

func init() {
	checklist.RegisterKind("command", commandKind{})
	checklist.RegisterKind("vet", vetKind{})
	checklist.RegisterKind("gotest", gotestKind{})
	checklist.RegisterKind("leak", leakKind{})
	checklist.RegisterKind("http", httpKind{})
	checklist.RegisterKind("metric", metricKind{})
	checklist.RegisterKind("file", fileKind{})
}
