//go:build cgo

package bridge

// SetWaitInC switches Drain to the wait that blocks in a cgo call, for the
// measurement that compares it with the netpoller wait. It returns the
// previous setting.
func SetWaitInC(on bool) bool { return waitInC.Swap(on) }
