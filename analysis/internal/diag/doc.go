// Package diag is the reporting plumbing shared by cgoguard's analyzers:
// rule metadata, and a Reporter through which every rule reports so that
// in-source suppressions are honoured the same way everywhere.
//
// A finding is suppressed by a directive comment naming its rule and a
// reason:
//
//	//cgoguard:ignore CG013 ownership passes to the C queue
//
// placed at the end of the finding's line, on the line above the statement
// that holds the finding (any enclosing statement), or in the doc comment of
// the enclosing function. Several rules may be named, separated by commas.
// Inside a C preamble the directive is a C comment on the line of the
// finding or the line above. A directive without a reason suppresses
// nothing; the suppression analyzer of analysis/suite reports it, and
// reports directives that suppressed nothing.
//
// Typical use in an analyzer:
//
//	var Analyzer = &analysis.Analyzer{
//		Name:       "memory",
//		Doc:        Doc,
//		URL:        URL,
//		Run:        run,
//		ResultType: diag.ResultType,
//	}
//
//	func run(pass *analysis.Pass) (any, error) {
//		r := diag.New(pass)
//		// ... r.Report(call, "CG013", "C.CString result is not freed on every path")
//		return r.Result(), nil
//	}
//
// Diagnostics get the rule ID as Category and as message prefix
// ("CG013: C.CString result is not freed on every path").
//
// A Reporter belongs to one pass and is not safe for concurrent use; the
// package-level functions are.
package diag
