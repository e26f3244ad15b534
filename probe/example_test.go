package probe_test

import (
	"fmt"
	"os"

	"github.com/cgoguard/cgoguard/probe"
)

// Probe the C functions of a process whose names start with "inflate" in
// the zlib shared library, under the module name "zlib".
func ExampleOpen() {
	p, err := probe.Open(os.Getpid(), probe.WithModule("zlib", "libz.so*:inflate*"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	snap, err := p.Snapshot()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range snap.Functions {
		fmt.Println(f.Module, f.Function, f.Calls)
	}
}

func ExampleParseModule() {
	name, globs, err := probe.ParseModule("zlib=inflate*,deflate*")
	fmt.Println(name, globs, err)
	// Output: zlib [inflate* deflate*] <nil>
}
