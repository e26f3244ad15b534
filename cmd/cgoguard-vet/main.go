// Command cgoguard-vet runs cgoguard's cgo analyzers as a go vet tool.
// Build it to a known path first, so that a failed install fails loudly
// instead of go vet silently running its own analyzers:
//
//	GOBIN=$PWD/.bin go install github.com/cgoguard/cgoguard/cmd/cgoguard-vet@latest
//	go vet -vettool=$PWD/.bin/cgoguard-vet ./...
//
// It runs every analyzer of analysis/suite (rules CG001-CG032 and the
// suppression check CG000), with the same defaults as "cgoguard vet":
//
//	-advisory          also report the advisory rules (CG020, CG027, CG028)
//	-advisory-max N    at most N findings of each advisory rule per function (default 1, -1 all)
//	-advisory-package-max N
//	                   at most N per package (default 1, -1 all)
//	-tests             also report findings in _test.go files (go vet hands them over)
//
// Settings also come from the "vet" section of .cgoguard.yaml in the
// package's directory or a parent up to go.mod (see docs/vet.md);
// flags override it. Analyzer flags work as usual (-memory.owns=f,
// -suppressions.rules=CG013). An analyzer can be switched off with
// -NAME=false, except the analyzer named advisory, whose flag is -advisory
// above. The richer front end, with rule selection, JSON and SARIF output
// and suppressed findings, is "cgoguard vet".
//
// go vet caches the tool's results under its -V=full answer, which
// includes a digest of every .cgoguard.yaml of the module (and workspace)
// go vet runs in, so a configuration change makes go vet analyse the
// packages again instead of replaying findings made under the old
// settings.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/cgoguard/cgoguard/analysis/suite"
)

func main() {
	if versionQuery(os.Args[1:]) {
		printVersion(os.Stdout)
		return
	}
	var opts suite.Options
	cfg, err := suite.FindConfig(".")
	if err == nil {
		err = cfg.ApplyFlags()
	}
	if err != nil && !handshake(os.Args[1:]) {
		fmt.Fprintf(os.Stderr, "cgoguard-vet: %v\n", err)
		os.Exit(1)
	}
	if err != nil {
		// go vet asks for the flags or the version from its own
		// directory; the error shows when it runs the packages.
		cfg = &suite.Config{}
	}
	if cfg.Advisory != nil {
		opts.Advisory = *cfg.Advisory
	}
	if cfg.AdvisoryMax != nil {
		opts.AdvisoryPerFunction = *cfg.AdvisoryMax
	}
	if cfg.AdvisoryPackageMax != nil {
		opts.AdvisoryPerPackage = *cfg.AdvisoryPackageMax
	}
	if cfg.Tests != nil {
		opts.Tests = *cfg.Tests
	}
	opts.Disable = cfg.Disable
	args, err := takeAdvisory(os.Args[1:], &opts.Advisory)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgoguard-vet: %v\n", err)
		os.Exit(1)
	}
	os.Args = append(os.Args[:1], args...)
	if opts.AdvisoryPerFunction == 0 {
		opts.AdvisoryPerFunction = suite.DefaultAdvisoryPerFunction
	}
	if opts.AdvisoryPerPackage == 0 {
		opts.AdvisoryPerPackage = suite.DefaultAdvisoryPerPackage
	}
	flag.BoolVar(&opts.Tests, "tests", opts.Tests, "also report findings in _test.go files")
	flag.IntVar(&opts.AdvisoryPerFunction, "advisory-max", opts.AdvisoryPerFunction,
		"with -advisory, at most this many findings of each advisory rule per function (-1: all)")
	flag.IntVar(&opts.AdvisoryPerPackage, "advisory-package-max", opts.AdvisoryPerPackage,
		"with -advisory, at most this many findings of each advisory rule per package (-1: all)")
	// -advisory itself is the analyzer's enable flag, which unitchecker
	// registers; takeAdvisory has already consumed it.
	unitchecker.Main(suite.Configure(&opts)...)
}

// takeAdvisory removes -advisory and -advisory=BOOL (one or two dashes)
// from the arguments and sets *on.
// The analyzer named "advisory" gives unitchecker a flag of that name
// ("run only this analyzer"); here -advisory means "report the advisory
// rules", as in cgoguard vet.
func takeAdvisory(args []string, on *bool) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "advisory" {
			out = append(out, a)
			continue
		}
		if !hasVal {
			*on = true
			continue
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return nil, fmt.Errorf("invalid value %q for -advisory: want true or false", val)
		}
		*on = b
	}
	return out, nil
}

// versionQuery reports whether go vet asks for the tool's version
// (-V=full), which it hashes into the key of its cached results.
func versionQuery(args []string) bool {
	return len(args) == 1 && (args[0] == "-V=full" || args[0] == "--V=full")
}

// printVersion answers -V=full as go vet expects ("NAME version devel ...
// buildID=ID"), with an ID that covers both the executable and the
// configuration files the tool would read (suite.ConfigDigest of the
// directory go vet runs in): go vet keys its cached findings by this
// line, so editing .cgoguard.yaml makes it analyse the packages again
// instead of replaying findings made under the old settings.
func printVersion(w io.Writer) {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgoguard-vet: %v\n", err)
		os.Exit(1)
	}
	h := sha256.New()
	f, err := os.Open(exe)
	if err == nil {
		_, err = io.Copy(h, f)
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgoguard-vet: %v\n", err)
		os.Exit(1)
	}
	config, err := suite.ConfigDigest(".")
	if err != nil {
		// A configuration that cannot be found is a state of its own:
		// the run reports the error; the ID only has to differ.
		config = "error:" + err.Error()
	}
	fmt.Fprintf(h, "\x00config %s", config)
	short := config
	if len(short) > 16 {
		short = short[:16]
	}
	fmt.Fprintf(w, "%s version devel config=%s buildID=%x\n", exe, strings.Join(strings.Fields(short), "_"), h.Sum(nil))
}

// handshake reports whether go vet is only asking for the tool's flags or
// version.
func handshake(args []string) bool {
	for _, a := range args {
		if a == "-flags" || strings.HasPrefix(a, "-V") {
			return true
		}
	}
	return false
}
