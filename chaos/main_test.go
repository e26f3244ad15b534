//go:build cgo && linux

package chaos_test

import (
	"os"
	"testing"

	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/isolate"
)

// Names the fixture's C functions are registered under, for the modules
// whose calls run in worker processes (this test binary, re-executed).
const (
	isoRet    = "ret"    // returns *(int*)arg
	isoCount  = "count"  // ++*(int*)arg, returns the new count
	isoGetpid = "getpid" // returns the worker's pid
	isoEmpty  = "empty"
	isoErrno  = "errno" // returns -*(int*)arg, or -ENOENT for NULL
)

func init() {
	// In a fixed order: the workers build the same table.
	isolate.Register(isoRet, cfixture.Ret)
	isolate.Register(isoCount, cfixture.Count)
	isolate.Register(isoGetpid, cfixture.Getpid)
	isolate.Register(isoEmpty, cfixture.Empty)
	isolate.Register(isoErrno, cfixture.Errno)
}

func TestMain(m *testing.M) {
	isolate.Main() // in a worker this serves calls and never returns
	os.Exit(m.Run())
}
