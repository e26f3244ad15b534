// Package checklist runs executable reliability checklists: YAML files
// whose every item runs something (a command, the cgo analyzers, a test
// run, a leak test, an HTTP probe, a metric scrape, a file check) and keeps
// what it saw as evidence.
//
// The model (Checklist, Check) is plain data with yaml and json tags and a
// published JSON Schema (checklists/schema.json). Parse and LoadFile decode
// strictly and report every problem with its file and line. A Runner runs
// the checks with bounded parallelism in depends_on order, each attempt
// under a timeout that kills the check's whole process group, retries
// failed attempts, applies waivers (an expired waiver fails), and keeps
// size-bounded, redacted evidence. The kinds of check are a registry
// filled by package checklist/kinds; outputs are package report.
//
// Example:
//
//	import (
//		"github.com/cgoguard/cgoguard/checklist"
//		_ "github.com/cgoguard/cgoguard/checklist/kinds"
//	)
//
//	cl, err := checklist.LoadFile("checklists/cgo-reliability.yaml",
//		checklist.LoadOptions{Env: "ci"})
//	if err != nil {
//		log.Fatal(err) // names file:line of each problem
//	}
//	r := checklist.NewRunner(checklist.WithPackages("./..."), checklist.WithParallelism(2))
//	res, err := r.Run(ctx, cl) // cancel ctx (Ctrl-C) to stop: no child is left running
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Println(res.Passed(), res.Counts())
//
// Concurrency: a Runner and the functions of this package are safe for
// concurrent use; a Checklist must not be changed while it runs. A Result
// is plain data, owned by the caller once Run returns.
package checklist
