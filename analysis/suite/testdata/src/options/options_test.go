package options

import (
	"runtime"
	"testing"
)

func TestLocks(t *testing.T) {
	runtime.LockOSThread()
}
