package pinfix

import "runtime"

type T struct{ n int }

func Hold(t *T) {
	var p runtime.Pinner
	p.Pin(t) // want `CG005: runtime.Pinner p pins objects but is never unpinned`
	use(t)
}

func use(*T) {}
