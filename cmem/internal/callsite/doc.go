// Package callsite finds the call site of an allocation cheaply: CallerPC
// returns the PC in the caller of the function that calls it, from the
// frame-pointer chain on amd64 and from runtime.Callers elsewhere.
//
// It is a package of its own because a package that uses cgo cannot hold Go
// assembly. It is safe for concurrent use.
package callsite
