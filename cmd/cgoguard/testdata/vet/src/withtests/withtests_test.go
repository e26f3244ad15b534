package withtests

import (
	"runtime"
	"testing"
)

func TestProcess(t *testing.T) {
	runtime.LockOSThread()
	Process(0)
}
