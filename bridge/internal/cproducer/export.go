//go:build cgo

package cproducer

// #include <stddef.h>
import "C"

import "unsafe"

// sink receives the Callback mode's events. Set it with SetSink before
// Start; it is called on the C thread, one cgo callback per event.
var sink func([]byte)

// SetSink sets the function the Callback mode calls per event.
func SetSink(f func([]byte)) { sink = f }

//export cproducerEvent
func cproducerEvent(p unsafe.Pointer, n C.size_t) {
	sink(unsafe.Slice((*byte)(p), int(n)))
}
