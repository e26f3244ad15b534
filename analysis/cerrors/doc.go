// Package cerrors defines an Analyzer that checks how Go code reads the
// status of C calls.
//
// # Analyzer cerrors
//
// cerrors: report misuse of the errno form r, err := C.f() and C status
// results that are dropped.
//
// Rules:
//
//   - CG030: in r, err := C.f(), err (errno) is tested before r, or r is
//     discarded while err is used. C functions may leave errno set when
//     they succeed, so err != nil does not mean failure: test r for the
//     failure value first, then read err. For a function returning void
//     the errno form itself is reported, unless the package's C code sets
//     errno in it. Functions whose errno is meaningful on its own (strtol,
//     zmq_proxy, which returns only on failure) are listed by the -errno
//     flag (default DefaultErrnoFuncs, '+' adds) and by
//     "//cgoguard:errno NAME..." comments.
//   - CG031: the integer status returned by a C function from a list is
//     dropped (the call is a statement). Assigning it to _ is taken as a
//     deliberate decision and not reported. The list defaults to libc and
//     pthread calls whose status matters and to names that flush, close,
//     write, sync, commit or initialise (DefaultFuncs); the -funcs flag
//     replaces it, or adds to it when it starts with '+', and entries may
//     be glob patterns (lib_*). A "//cgoguard:status NAME..." comment
//     anywhere in the package (the cgo preamble included) adds functions.
//     Functions whose result is no status worth checking are listed by
//     the -nostatus flag (default DefaultNoStatus, '+' adds) and by
//     "//cgoguard:nostatus NAME..." comments. A cleanup in a branch that
//     then returns an error or panics, a status checked by other means
//     (ferror, a library's last-error call, errno), a periodic flush in a
//     goroutine's loop and the close of a stream opened for reading are
//     not reported.
//
// Example:
//
//	n, err := C.write(fd, buf, size)
//	if err != nil { // CG030
//		return err
//	}
//
// is fixed by
//
//	n, err := C.write(fd, buf, size)
//	if n < 0 {
//		return err
//	}
//
// The -funcs, -nostatus and -errno flags must be set before the first run;
// after that the Analyzer is safe for concurrent use.
package cerrors

// Doc is the analyzer's documentation, as shown by go vet help.
const Doc = `report errno misuse and ignored C status results

Rules CG030 (r, err := C.f() with err tested before r, or r discarded) and
CG031 (status of a listed C function dropped; -funcs sets the list, '+'
adds to the default, entries may be globs; //cgoguard:status NAME
comments add functions; -nostatus and //cgoguard:nostatus name results
that are no status; -errno and //cgoguard:errno name functions whose
errno may be read on its own).`
