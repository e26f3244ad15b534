//go:build !cgo

// Package cbase is the untracked baseline for the cmem benchmarks; it needs
// cgo.
package cbase

// Available reports whether the baseline is built (it needs cgo).
const Available = false

// CStringFree needs cgo.
func CStringFree(string) {}
