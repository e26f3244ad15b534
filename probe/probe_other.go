//go:build !linux

package probe

// Probe is a set of uprobes attached to one process; it exists on Linux
// only.
type Probe struct{}

// Function is one probed C function.
type Function struct {
	Name    string `json:"function"`
	Object  string `json:"object"`
	Offset  uint64 `json:"offset"`
	Module  string `json:"module,omitempty"`
	Guarded bool   `json:"guarded,omitempty"`
}

// Open returns ErrNotSupported: uprobes are a Linux feature.
func Open(pid int, opts ...Option) (*Probe, error) { return nil, ErrNotSupported }

// MeasureClock returns ErrNotSupported.
func MeasureClock(samples int) (ClockOffset, error) { return ClockOffset{}, ErrNotSupported }

// PID returns 0.
func (p *Probe) PID() int { return 0 }

// Functions returns nil.
func (p *Probe) Functions() []Function { return nil }

// Guarded returns false.
func (p *Probe) Guarded() bool { return false }

// Alive returns false.
func (p *Probe) Alive() bool { return false }

// Warnings returns nil.
func (p *Probe) Warnings() []string { return nil }

// Snapshot returns ErrNotSupported.
func (p *Probe) Snapshot() (*Snapshot, error) { return nil, ErrNotSupported }

// ReadEvent returns ErrNotSupported.
func (p *Probe) ReadEvent() (Event, error) { return Event{}, ErrNotSupported }

// Detach does nothing.
func (p *Probe) Detach() error { return nil }

// Close does nothing.
func (p *Probe) Close() error { return nil }
