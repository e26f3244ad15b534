package cgoguard

import (
	"context"
	"unsafe"
)

// typeWord returns the first word of an interface value: its itab, which
// is the same for every value of one dynamic type.
func typeWord(ctx context.Context) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&ctx))[0]
}

// The type words of context.Background and context.TODO, whose Done is
// always nil.
var bgType, todoType = typeWord(context.Background()), typeWord(context.TODO())

// Call's fast path needs a context that can never be done (no deadline or
// cancellation to handle). context.Background and context.TODO are
// recognised by their type word (bgType, todoType), without the dynamic
// call to Done, which costs about a nanosecond, a tenth of what the whole
// guard may add to a cgo call; any other context qualifies when doneIsNil.
// A nil ctx does not: the slow path treats it as context.Background.

// doneIsNil reports whether ctx's Done is nil: out of line, so the common
// case stays small.
func doneIsNil(ctx context.Context) bool { return ctx != nil && ctx.Done() == nil }
