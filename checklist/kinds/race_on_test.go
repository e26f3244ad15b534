//go:build race

package kinds_test

// raceEnabled: the race detector slows pattern matching about tenfold.
const raceEnabled = true
