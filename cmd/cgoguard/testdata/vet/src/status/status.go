// Package status ignores the result of a C function whose name says it
// returns a status (CG031), which a project may declare carries none.
package status

/*
static int mylib_flush(void) { return 0; }
*/
import "C"

// Flush asks the library to flush and ignores its result.
func Flush() {
	C.mylib_flush()
}
