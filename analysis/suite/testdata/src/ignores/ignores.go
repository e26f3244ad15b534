package ignores

/*
#include <stdint.h>
static void process(uintptr_t h) { (void)h; }
*/
import "C"

import "runtime/cgo"

func Used(v any) {
	h := cgo.NewHandle(v) //cgoguard:ignore CG024 the C side deletes it through on_done
	C.process(C.uintptr_t(h))
}

func NoReason(v any) {
	h := cgo.NewHandle(v) //cgoguard:ignore CG024 // want `CG000: //cgoguard:ignore CG024 has no reason`
	C.process(C.uintptr_t(h))
}

func Unused() {
	//cgoguard:ignore CG013 nothing to suppress here // want `CG000: //cgoguard:ignore CG013 suppresses no finding`
	C.process(0)
}

//cgoguard:ignore CG999 typo in the rule // want `CG000: //cgoguard:ignore names unknown rule CG999`
func Unknown() {}

//cgoguard:ignore CG024,CG013 one used, one not // want `CG000: //cgoguard:ignore CG013 suppresses no finding`
func Partly(v any) {
	h := cgo.NewHandle(v)
	C.process(C.uintptr_t(h))
}
