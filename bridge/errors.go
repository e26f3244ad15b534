package bridge

import "errors"

var (
	// ErrClosed is returned by Drain once the bridge is closed and every
	// accepted message has been delivered, by Push after Close (C sees
	// -EPIPE), and by a second Close.
	ErrClosed = errors.New("cgoguard: bridge closed")

	// ErrFull is returned by Push when the ring is full under the Error
	// policy (C sees -EAGAIN).
	ErrFull = errors.New("cgoguard: bridge full")

	// ErrDropped is returned by Push when the ring is full under the
	// DropNewest policy and the message was dropped (C sees -ENOBUFS).
	ErrDropped = errors.New("cgoguard: bridge full, message dropped")

	// ErrTimeout is returned by Push when the ring stayed full for the Block
	// policy's bound (C sees -ETIMEDOUT).
	ErrTimeout = errors.New("cgoguard: bridge full, block timeout expired")

	// ErrTooLarge is returned by Push for a message larger than the maximum
	// message size (C sees -EMSGSIZE).
	ErrTooLarge = errors.New("cgoguard: bridge message too large")

	// ErrBusy is returned by Drain when another Drain on the same bridge is
	// running: a bridge has exactly one consumer at a time.
	ErrBusy = errors.New("cgoguard: bridge already being drained")

	// ErrInvalidConfig is wrapped by the errors New returns for a bad
	// capacity or option; the message names the value that was wrong.
	ErrInvalidConfig = errors.New("cgoguard: invalid bridge configuration")

	// ErrNotSupported is returned by New in a program built without cgo.
	ErrNotSupported = errors.New("cgoguard: bridge needs cgo")
)
