package cgoast

import (
	"go/types"
	"strings"
)

// IsCType reports whether t is (or names) a type cmd/cgo generated for a C
// type (_Ctype_...), looking through pointers to report the pointee.
func IsCType(t types.Type) bool {
	return CTypeName(t) != ""
}

// CTypeName returns the C spelling of a cgo type, "" if t is not one:
// _Ctype_int → "int", _Ctype_struct_foo → "struct_foo".
func CTypeName(t types.Type) string {
	if a, ok := t.(*types.Alias); ok {
		if n := a.Obj().Name(); strings.HasPrefix(n, typePrefix) {
			return n[len(typePrefix):]
		}
		t = types.Unalias(t)
	}
	if n, ok := t.(*types.Named); ok {
		if name := n.Obj().Name(); strings.HasPrefix(name, typePrefix) {
			return name[len(typePrefix):]
		}
	}
	return ""
}

// IsCPointee reports whether t is a C type or a pointer to one, at any
// depth: what a **C.char points to is a C pointer, not a Go pointer.
func IsCPointee(t types.Type) bool {
	for {
		if IsCType(t) {
			return true
		}
		p, ok := Under(t).(*types.Pointer)
		if !ok {
			return false
		}
		t = p.Elem()
	}
}

// IsCPointer reports whether t is a pointer to a C type or unsafe.Pointer
// (the types C functions take for pointer arguments).
func IsCPointer(t types.Type) bool {
	switch u := Under(t).(type) {
	case *types.Pointer:
		return IsCType(u.Elem())
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	}
	return false
}

// IsUnsafePointer reports whether t is unsafe.Pointer.
func IsUnsafePointer(t types.Type) bool {
	b, ok := Under(t).(*types.Basic)
	return ok && b.Kind() == types.UnsafePointer
}

// IsGoPointer reports whether a value of type t is, or may be, a pointer
// into Go memory as the cgo pointer rules define it: pointers to Go types,
// slices, strings' data, maps, channels, functions, interfaces. Pointers to
// C types and unsafe.Pointer are not counted (their target is unknown).
func IsGoPointer(t types.Type) bool {
	switch u := Under(t).(type) {
	case *types.Pointer:
		return !IsCPointee(u.Elem())
	case *types.Slice, *types.Map, *types.Chan, *types.Signature, *types.Interface:
		return true
	case *types.Basic:
		return u.Kind() == types.String || u.Kind() == types.UntypedString
	}
	return false
}

// ContainsGoPointer reports whether memory of type t holds Go pointers
// (strings, slices, maps, channels, functions, interfaces, pointers to Go
// types), directly or in its fields and elements. This is what the cgo
// rule "Go memory passed to C must not contain any Go pointers" is about.
// C types never do.
func ContainsGoPointer(t types.Type) bool {
	return containsGoPointer(t, map[types.Type]bool{})
}

func containsGoPointer(t types.Type, seen map[types.Type]bool) bool {
	if IsCType(t) {
		return false
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch u := Under(t).(type) {
	case *types.Pointer:
		return !IsCPointee(u.Elem())
	case *types.Slice, *types.Map, *types.Chan, *types.Signature, *types.Interface:
		return true
	case *types.Basic:
		return u.Kind() == types.String || u.Kind() == types.UntypedString
	case *types.Array:
		return u.Len() > 0 && containsGoPointer(u.Elem(), seen)
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			if containsGoPointer(u.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// Under returns the underlying type of t with aliases removed, or nil when t
// is nil (an expression without type information).
func Under(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	return types.Unalias(t).Underlying()
}
