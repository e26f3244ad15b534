package hot

import (
	"runtime"
	"testing"
)

func TestSum(t *testing.T) {
	runtime.LockOSThread()
	if Sum([]int{1}) != 2 {
		t.Fatal("sum")
	}
}
