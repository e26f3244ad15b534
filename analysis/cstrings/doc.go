// Package cstrings defines an Analyzer that checks conversions between Go
// strings and C strings.
//
// # Analyzer cstrings
//
// cstrings: report C.GoString on buffers that may lack a terminating NUL
// and C.CString of strings that may hold NUL bytes.
//
// Rules:
//
//   - CG019: C.GoString on a fixed-size [N]C.char array (a C struct field
//     or a local array), on a Go byte slice, or on memory from C.CBytes or
//     C.malloc: nothing guarantees a NUL inside the buffer, so the read runs
//     past its end. Use C.GoStringN with a bound (strnlen). A local array
//     or byte slice handed to a C function earlier in the function
//     (directly or through a Go function) is trusted to have been
//     terminated by C: the error-string out-parameter convention, where C
//     writes a message on failure, is correct.
//   - CG020: C.CString of a constant holding a NUL, or of a string converted
//     from bytes (string(b)) that the function never checks for a NUL: C
//     sees the string cut at the first NUL.
//
// Example:
//
//	var u C.struct_utsname
//	C.uname(&u)
//	name := C.GoString(&u.sysname[0]) // CG019
//
// is fixed by
//
//	n := C.strnlen(&u.sysname[0], C.size_t(len(u.sysname)))
//	name := C.GoStringN(&u.sysname[0], C.int(n))
//
// The Analyzer keeps no state between runs and is safe for concurrent use.
package cstrings

// Doc is the analyzer's documentation, as shown by go vet help.
const Doc = `report C.GoString on unterminated buffers and C.CString of strings holding NUL

Rules CG019 (C.GoString on a fixed [N]C.char, a Go byte slice or C.CBytes/
C.malloc memory: use C.GoStringN with a bound) and CG020 (C.CString of a
constant with a NUL, or of string(bytes) never checked for NUL).`
