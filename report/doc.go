// Package report writes the result of a checklist run. Formats are a
// registry (Register, Lookup); the built-in ones are:
//
//   - text: a summary table, then each failure with what it prevents, how
//     to fix it and its evidence; colour only when asked (on a terminal).
//     Progress, a line per finished check, is a separate Progress writer.
//   - json: the checklist.Result, with counts and durations in seconds.
//   - junit: JUnit XML, one testcase per check, evidence in system-out.
//   - sarif: SARIF 2.1.0; vet findings with their source locations, other
//     failures located at the check in the checklist file; waived ones as
//     external suppressions.
//   - prometheus: a textfile for node_exporter's textfile collector:
//     checks by outcome, a check duration histogram, skip and failure
//     ratios.
//
// Example:
//
//	res, _ := checklist.NewRunner().Run(ctx, cl)
//	f, err := report.Lookup("junit")
//	if err != nil {
//		log.Fatal(err)
//	}
//	_ = f.Write(os.Stdout, res)
//
// Concurrency: formats keep no state and may write several results at
// once; Register and Lookup are safe for concurrent use. A Progress
// serialises its own writes.
package report
