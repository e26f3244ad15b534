//go:build !cgo

// Package obsfixture holds C code for the tests of package observe; without
// cgo it is empty.
package obsfixture
