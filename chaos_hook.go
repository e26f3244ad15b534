package cgoguard

import (
	"sync/atomic"
	"unsafe"
)

// This file is the injection point of package chaos (failpoints at the
// Go→C boundary). It is exported only because package chaos lives in
// another package; programs use package chaos, never these names.
//
// A module that failpoints target carries wordChaos in its state word, so
// its calls leave the fast path (which runs only while the word is zero:
// one atomic load, no extra work when no failpoint is set) and the slow
// path asks the hook which C function to call.

// wordChaos marks a module that failpoints target.
const wordChaos = 8

// ChaosHook is the interface package chaos installs with InstallChaosHook.
// It is for package chaos only.
type ChaosHook interface {
	// Arm sets or clears the module's failpoint mark (ArmChaos) according
	// to the failpoints set now. New calls it for every new module, after
	// the module is registered, so modules created after a failpoint was
	// set are marked too. Implementations serialise Arm with their own
	// updates, so the mark always follows the last update.
	Arm(m *Module)
	// Intercept runs on the slow path of a marked module's call, after
	// every policy check and just before the call enters C. It returns the
	// C function and argument to call instead (a chaos C function that
	// misbehaves or calls fn(arg) in the end), or fn and arg unchanged.
	Intercept(m *Module, fn, arg unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer)
}

type chaosHookBox struct{ h ChaosHook }

var chaosHook atomic.Pointer[chaosHookBox]

// InstallChaosHook installs h (package chaos does it from its init) and
// lets it mark every open module; nil removes the hook and clears every
// module's mark. It is for package chaos only.
func InstallChaosHook(h ChaosHook) {
	if h == nil {
		chaosHook.Store(nil)
		for _, m := range Modules() {
			m.ArmChaos(false)
		}
		return
	}
	chaosHook.Store(&chaosHookBox{h})
	for _, m := range Modules() {
		h.Arm(m)
	}
}

// ArmChaos sets (on) or clears the module's failpoint mark, which sends its
// calls through the installed ChaosHook. It is for package chaos only.
func (m *Module) ArmChaos(on bool) {
	for {
		w := m.word.Load()
		n := w &^ wordChaos
		if on {
			n |= wordChaos
		}
		if n == w || m.word.CompareAndSwap(w, n) {
			return
		}
	}
}

// ChaosArmed reports whether the module carries the failpoint mark.
func (m *Module) ChaosArmed() bool { return m.word.Load()&wordChaos != 0 }

// FuncName returns the symbol name of the C function fn as crash frames
// name it (the executable's ELF symbols, else the dynamic symbol table),
// or "" when it has none.
func FuncName(fn unsafe.Pointer) string {
	if fn == nil {
		return ""
	}
	return symbolize(uintptr(fn)).Function
}

// chaosArm lets the installed hook mark a new module.
func (m *Module) chaosArm() {
	if b := chaosHook.Load(); b != nil {
		b.h.Arm(m)
	}
}

// chaosIntercept asks the installed hook what to call instead of fn(arg).
func (m *Module) chaosIntercept(fn, arg unsafe.Pointer) (unsafe.Pointer, unsafe.Pointer) {
	if b := chaosHook.Load(); b != nil {
		return b.h.Intercept(m, fn, arg)
	}
	return fn, arg
}
