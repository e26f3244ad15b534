package isolate

import (
	"io"
	"sync"
)

// tailSize is how much of a worker's output is kept for error reports.
const tailSize = 8 << 10

// output forwards a worker's stdout and stderr (one pipe) to this
// process's stderr, so nothing the C library prints is lost, and keeps the
// last tailSize bytes for StartError and ExitError.
type output struct {
	mu   sync.Mutex
	buf  []byte
	done chan struct{} // closed when the pipe reached EOF
}

func newOutput() *output { return &output{done: make(chan struct{})} }

// copyFrom reads r to EOF; run it in its own goroutine.
func (o *output) copyFrom(r io.ReadCloser, fwd io.Writer) {
	defer close(o.done)
	defer r.Close()
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		if n > 0 {
			if fwd != nil {
				fwd.Write(b[:n])
			}
			o.mu.Lock()
			o.buf = append(o.buf, b[:n]...)
			if len(o.buf) > tailSize {
				o.buf = append(o.buf[:0], o.buf[len(o.buf)-tailSize:]...)
			}
			o.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// String returns the kept tail.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}
