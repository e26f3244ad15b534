package arena

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by every operation on an arena after Close.
	ErrClosed = errors.New("cgoguard: arena closed")
	// ErrExhausted is returned by Alloc when the arena has no room left for
	// the block; the cursor is not moved.
	ErrExhausted = errors.New("cgoguard: arena exhausted")
	// ErrInvalidRef is the error every rejected reference matches; the
	// *RefError says why (ErrForeignRef, ErrStaleRef, ErrOutOfBounds or a
	// malformed encoding).
	ErrInvalidRef = errors.New("cgoguard: invalid arena reference")
	// ErrForeignRef: the reference belongs to another arena.
	ErrForeignRef = errors.New("cgoguard: reference from another arena")
	// ErrStaleRef: the reference was made before the arena's last Reset.
	ErrStaleRef = errors.New("cgoguard: reference from an earlier generation")
	// ErrOutOfBounds: the reference does not lie inside the allocated part
	// of the arena.
	ErrOutOfBounds = errors.New("cgoguard: reference out of bounds")
	// ErrBadHeader is returned by Open for a file that is not an arena of
	// this layout version.
	ErrBadHeader = errors.New("cgoguard: not a cgoguard arena or incompatible layout")
	// ErrAddressInUse is returned by New and OpenFile with WithAddress when
	// something is already mapped at the address.
	ErrAddressInUse = errors.New("cgoguard: arena address already in use")
	// ErrNotSupported is returned where the platform lacks what the call
	// needs (the C API without cgo, shared memory without /dev/shm).
	ErrNotSupported = errors.New("cgoguard: arena feature not supported on this platform")
)

// RefError is the error for a rejected reference. It matches ErrInvalidRef
// and its reason with errors.Is.
type RefError struct {
	Ref    Ref
	Reason error // ErrForeignRef, ErrStaleRef, ErrOutOfBounds or nil for a malformed ref
	Detail string
}

// Error describes the rejected reference and why.
func (e *RefError) Error() string {
	msg := "cgoguard: invalid arena reference"
	if e.Reason != nil {
		msg = e.Reason.Error()
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Is reports whether target is ErrInvalidRef or the error's reason.
func (e *RefError) Is(target error) bool {
	return target == ErrInvalidRef || (e.Reason != nil && target == e.Reason)
}

// Unwrap returns the reason.
func (e *RefError) Unwrap() error { return e.Reason }

func refErr(r Ref, reason error, format string, args ...any) error {
	return &RefError{Ref: r, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
