package signals

import (
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/cgoguard/cgoguard/analysis/internal/cgoast"
	"github.com/cgoguard/cgoguard/analysis/internal/diag"
)

// Doc is the analyzer's documentation.
const Doc = `check signal handlers installed by C code (CG032)

Reports C code in preambles and .c files that installs a signal handler
without SA_ONSTACK, or takes SIGSEGV, SIGBUS or SIGFPE without chaining to
the Go runtime's handler.`

// URL is the documentation of the analyzer's rule.
const URL = diag.BaseURL + "CG032.md"

// Analyzer checks signal handlers installed by C code.
var Analyzer = &analysis.Analyzer{
	Name:       "signals",
	Doc:        Doc,
	URL:        URL,
	Run:        run,
	ResultType: diag.ResultType,
}

var (
	signalCall    = regexp.MustCompile(`\bsignal\s*\(`)
	sigactionCall = regexp.MustCompile(`\bsigaction\s*\(`)
	structBefore  = regexp.MustCompile(`struct\s*$`)
	// A call through a saved action: old.sa_sigaction(...),
	// (*old->sa_handler)(...), saved[sig].sa_sigaction(sig, info, ctx).
	chainCall  = regexp.MustCompile(`\bsa_(sigaction|handler)\s*\)?\s*\(`)
	crashSigs  = map[string]bool{"SIGSEGV": true, "SIGBUS": true, "SIGFPE": true}
	nullArg    = regexp.MustCompile(`^\(?\s*(NULL|0|nullptr|\(\s*void\s*\*\s*\)\s*0)\s*\)?$`)
	defaultArg = regexp.MustCompile(`^\(?\s*(SIG_IGN|SIG_DFL)\s*\)?$`)
)

func run(pass *analysis.Pass) (any, error) {
	r := diag.New(pass)
	for _, src := range cgoast.CSources(pass) {
		if tf := src.File(); tf != nil {
			r.AddSource(tf, src.Text)
		}
		check(r, src)
	}
	return r.Result(), nil
}

func check(r *diag.Reporter, src *cgoast.CSource) {
	code := src.Code
	report := func(off int, format string, args ...any) {
		p := src.Pos(off)
		r.Report(posRange(p), "CG032", format, args...)
	}
	for _, m := range signalCall.FindAllStringIndex(code, -1) {
		if m[0] > 0 && (isIdent(code[m[0]-1]) || code[m[0]-1] == '.' || code[m[0]-1] == '>') {
			continue
		}
		args, _ := cgoast.CallArgs(code, m[1]-1)
		if len(args) != 2 || defaultArg.MatchString(args[1]) {
			continue
		}
		if isPrototype(code, m[0]) {
			continue
		}
		report(m[0], "signal(%s, %s) installs a handler without SA_ONSTACK; the Go runtime requires it (use sigaction with SA_ONSTACK|SA_SIGINFO)", args[0], args[1])
	}
	hasOnstack := strings.Contains(code, "SA_ONSTACK")
	chains := chainCall.MatchString(code)
	for _, m := range sigactionCall.FindAllStringIndex(code, -1) {
		if structBefore.MatchString(code[:m[0]]) || (m[0] > 0 && (isIdent(code[m[0]-1]) || code[m[0]-1] == '.' || code[m[0]-1] == '>')) {
			continue
		}
		if isPrototype(code, m[0]) {
			continue
		}
		args, _ := cgoast.CallArgs(code, m[1]-1)
		if len(args) != 3 || nullArg.MatchString(args[1]) {
			continue // a query, not an installation
		}
		if !onstackNear(code, m[0], hasOnstack) {
			report(m[0], "sigaction(%s, ...) installs a handler without SA_ONSTACK; signals arriving on Go threads then run it on a goroutine stack", args[0])
		}
		if crashSigs[args[0]] {
			switch {
			case nullArg.MatchString(args[2]):
				report(m[0], "sigaction(%s, ...) replaces Go's handler without saving it; faults in Go code no longer become panics (save the old action and call it for faults outside your code)", args[0])
			case !chains:
				report(m[0], "sigaction(%s, ...) saves Go's handler but never calls it; chain to the saved action for faults outside your code", args[0])
			}
		}
	}
}

// onstackNear reports whether SA_ONSTACK is set for the sigaction call at
// off: in the enclosing function when that function sets sa_flags, else
// anywhere in the text.
func onstackNear(code string, off int, anywhere bool) bool {
	for _, f := range cgoast.CFuncs(code) {
		if f.Start <= off && off < f.End {
			if !strings.Contains(f.Body, "sa_flags") {
				break
			}
			if strings.Contains(f.Body, "SA_ONSTACK") {
				return true
			}
			// Flags computed from something other than SA_ constants
			// (a wrapper forwarding its caller's flags) cannot be judged.
			for _, m := range flagsAssign.FindAllStringSubmatch(f.Body, -1) {
				for _, id := range identRe.FindAllString(m[1], -1) {
					if !strings.HasPrefix(id, "SA_") && !cTypeWords[id] {
						return true
					}
				}
			}
			return false
		}
	}
	return anywhere
}

var (
	flagsAssign = regexp.MustCompile(`sa_flags\s*[|]?=\s*([^;]*);`)
	identRe     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	cTypeWords  = map[string]bool{"int": true, "unsigned": true, "long": true, "short": true, "char": true, "signed": true}
)

// isPrototype reports a declaration such as "int sigaction(int, ...);" at
// file scope rather than a call: the name is preceded by a type word.
func isPrototype(code string, off int) bool {
	j := off - 1
	for j >= 0 && (code[j] == ' ' || code[j] == '\t' || code[j] == '*') {
		j--
	}
	end := j + 1
	for j >= 0 && isIdent(code[j]) {
		j--
	}
	word := code[j+1 : end]
	switch word {
	case "int", "void", "sighandler_t", "__sighandler_t", "extern", "static":
		return true
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type posRange = diag.PosRange
