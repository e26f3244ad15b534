package config

/*
// cgoguard:status lib_flush
static int lib_init(void) { return 0; }
static int lib_flush(void) { return 0; }
static int other(void) { return 0; }
*/
import "C"

func setup() {
	C.lib_init()  // want `CG031: status returned by C.lib_init is ignored`
	C.lib_flush() // want `CG031: status returned by C.lib_flush is ignored`
	C.other()
}
