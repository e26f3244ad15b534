package config

/*
// cgoguard:status lib_start
static int lib_init(void) { return 0; }
static int lib_start(void) { return 0; }
static int lib_close(void) { return 0; }
static int other(void) { return 0; }
*/
import "C"

func setup() {
	C.lib_init()  // want `CG031: status returned by C.lib_init is ignored`
	C.lib_start() // want `CG031: status returned by C.lib_start is ignored`
	C.other()
	C.lib_close() // want `CG031: status returned by C.lib_close is ignored`
}
