package callsite

import (
	"runtime"
	"strings"
	"testing"
)

//go:noinline
func allocator() uintptr { return CallerPC() }

//go:noinline
func user() (uintptr, int) {
	_, _, line, _ := runtime.Caller(0)
	return allocator(), line + 1
}

func TestCallerPC(t *testing.T) {
	pc, line := user()
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if !strings.HasSuffix(frame.Function, "callsite.user") || frame.Line != line {
		t.Fatalf("CallerPC gave %s:%d, want callsite.user line %d", frame.Function, frame.Line, line)
	}
}
