//go:build cgo && linux

package isolate_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/cgoguard/cgoguard/isolate"
	_ "github.com/cgoguard/cgoguard/isolate/internal/fixture"
)

// Environment variables through which the tests make workers misbehave,
// and run this binary as a parent process of its own.
const (
	envStartCrash = "ISOLATE_TEST_START_CRASH" // a worker fails at start while this file exists
	envParent     = "ISOLATE_TEST_PARENT"      // run as a pool's parent (see TestParentKilled)
)

func TestMain(m *testing.M) {
	if flag := os.Getenv(envStartCrash); flag != "" && isolate.IsWorker() {
		if _, err := os.Stat(flag); err == nil {
			fmt.Fprintln(os.Stderr, "fixture: refusing to start, as the test asked")
			os.Exit(3)
		}
	}
	isolate.Main()
	if os.Getenv(envParent) != "" {
		os.Exit(runParent())
	}
	if mode := os.Getenv(envBenchChild); mode != "" {
		os.Exit(runBenchChild(mode))
	}
	os.Exit(m.Run())
}
