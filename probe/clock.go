package probe

import (
	"time"
	_ "unsafe" // go:linkname
)

// nanotime is the Go runtime's monotonic clock: CLOCK_MONOTONIC read
// through the vDSO. time.Now's monotonic reading is this minus the value it
// had when package time was initialised.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// monotonicNow returns Go's monotonic clock, on the time line of the
// probes' events.
func monotonicNow() time.Duration { return time.Duration(nanotime()) }

// ClockOffset is a measurement of the offset between the kernel clock that
// timestamps the probes' events (bpf_ktime_get_ns) and Go's monotonic clock
// (runtime.nanotime, clock_gettime(CLOCK_MONOTONIC) in the vDSO). Both are
// CLOCK_MONOTONIC, so Offset is expected to be zero within Uncertainty.
type ClockOffset struct {
	// Offset is the mid-point of the range of offsets (kernel minus Go)
	// that every sample allows; Uncertainty is half the range's width.
	Offset      time.Duration `json:"offset_ns"`
	Uncertainty time.Duration `json:"uncertainty_ns"`
	// Low and High bound the offset: each sample reads Go's clock before
	// and after a uprobe fires, so kernel - after <= offset <= kernel -
	// before; the bounds are the tightest over all samples.
	Low  time.Duration `json:"low_ns"`
	High time.Duration `json:"high_ns"`
	// Samples is how many probe hits were measured; Window the narrowest
	// before/after window among them (the cost of one uprobe hit, at least).
	Samples int           `json:"samples"`
	Window  time.Duration `json:"min_window_ns"`
	// Consistent is false when the samples contradict each other (Low >
	// High): the two clocks are not the same clock.
	Consistent bool `json:"consistent"`
	// RealtimeMinusMonotonic converts a monotonic reading to wall-clock
	// time (CLOCK_REALTIME - CLOCK_MONOTONIC when measured), to place
	// spans recorded with wall-clock times (OpenTelemetry) on the
	// events' time line.
	RealtimeMinusMonotonic time.Duration `json:"realtime_minus_monotonic_ns"`
}

// realtimeMinusMonotonic reads both clocks around each other and returns
// their difference.
func realtimeMinusMonotonic() time.Duration {
	best := time.Duration(1<<63 - 1)
	var off time.Duration
	for i := 0; i < 16; i++ {
		a := nanotime()
		w := time.Now().UnixNano()
		b := nanotime()
		if d := time.Duration(b - a); d < best {
			best = d
			off = time.Duration(w - (a+b)/2)
		}
	}
	return off
}
