package brokentest

import "testing"

func TestLeak(t *testing.T) {
	var n int = "not an int"
	Leak(n)
}
