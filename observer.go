package cgoguard

import (
	"context"
	"errors"
)

// Outcome is how a call ended, as counted in metrics.
type Outcome string

// The outcomes of a call.
const (
	OutcomeOK       Outcome = "ok"       // rc >= 0
	OutcomeError    Outcome = "error"    // rc < 0: a *CError
	OutcomeCrash    Outcome = "crash"    // a *CrashError
	OutcomeTimeout  Outcome = "timeout"  // deadline passed or context cancelled
	OutcomeRejected Outcome = "rejected" // not run: busy, open, quarantined or closed
)

// Observer sees every call of the modules it is attached to with
// WithObserver. Package observe provides one that makes OpenTelemetry
// spans. Implementations must be safe for concurrent use.
type Observer interface {
	// CallStart runs before the call. It may return a trace id (ok true)
	// that C code reads with cg_trace_id during the call, and a token that
	// is handed back to CallEnd.
	CallStart(ctx context.Context, module string) (traceID [16]byte, ok bool, token any)
	// CallEnd runs after the call with its outcome; err is nil for
	// OutcomeOK.
	CallEnd(token any, outcome Outcome, rc int, err error)
}

// OutcomeOf classifies an error returned by Call.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	return outcomeOf(err)
}

func outcomeOf(err error) Outcome {
	var ce *CrashError
	var ee *CError
	switch {
	case errors.As(err, &ce):
		return OutcomeCrash
	case errors.As(err, &ee):
		return OutcomeError
	case errors.Is(err, ErrTimeout), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	}
	return OutcomeRejected
}
