//go:build cgo && linux

package isolate

/*
#include "isolate.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard/internal/fault"
)

// The life of worker processes: each serving position has a supervisor
// goroutine that puts a worker into service, waits until it is to be
// replaced (a crash, a timeout, an exit), has it killed and puts the next
// one into service: a ready spare when there is one, else a fresh start,
// after a backoff that grows with failures in a row. Replaced processes
// are reaped in the background; their slot pages are reused after that.

// backoff is the delay before the next start after failures failures in a
// row: none for the first, then min doubling up to max.
func (p *Pool) backoff(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	d := p.o.backoffMin
	for i := 2; i < failures && d < p.o.backoffMax; i++ {
		d *= 2
	}
	return min(d, p.o.backoffMax)
}

// stopping reports whether the workers are being stopped (Close has waited
// for the calls in flight): nothing is replaced any more.
func (p *Pool) stopping() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// sleep waits d, or less when the pool closes; false when it did.
func (p *Pool) sleep(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.done:
		return false
	}
}

// supervise keeps serving position pos staffed until the pool closes. The
// first start's result goes to first (New waits for it).
func (p *Pool) supervise(pos int, first chan<- error) {
	defer p.sup.Done()
	failures := 0
	for {
		if !p.sleep(p.backoff(failures)) {
			return
		}
		w := p.takeSpare()
		var err error
		if w == nil {
			w, err = p.startWorker()
		}
		if first != nil {
			first <- err
			first = nil
			if err != nil {
				return
			}
		}
		if err != nil {
			p.startFailed(pos, err)
			failures++
			continue
		}
		p.ready(pos, w)
		if !p.watch(w) { // the pool is closing
			return
		}
		p.mu.Lock()
		ok := w.servedOK
		p.mu.Unlock()
		if ok {
			failures = 0
		}
		failures++
	}
}

// startFailed records a failed start at position pos (another start
// follows); when no position can start, calls waiting for a worker fail
// now.
func (p *Pool) startFailed(pos int, err error) {
	var serr *StartError
	errors.As(err, &serr)
	p.mu.Lock()
	defer p.mu.Unlock()
	if serr != nil {
		p.lastErr = serr
	}
	if !p.stopping() {
		p.restarts[reasonIndex(ReasonStart)].add(1)
	}
	if s := p.slots[pos]; !s.failing {
		s.failing = true
		p.failing++
	}
	if p.unavailable() != nil {
		for _, ch := range p.waiters {
			ch <- nil
		}
		p.waiters = nil
	}
}

// ready puts worker w into service at position pos.
func (p *Pool) ready(pos int, w *worker) {
	p.mu.Lock()
	s := p.slots[pos]
	if s.failing {
		s.failing = false
		p.failing--
	}
	s.w = w
	w.idx = pos
	w.serving = true
	w.held = true // putBack hands it out as a call ending would
	p.inflight++
	p.mu.Unlock()
	p.putBack(w)
}

// watch waits until w is to be replaced (or the pool closes) and kills
// it; false when the pool closed. The process is reaped in the background.
func (p *Pool) watch(w *worker) bool {
	closing := false
	for {
		select {
		case <-w.wake:
		case <-p.done:
			if !closing {
				closing = true
				p.stopWorker(w)
			}
		}
		p.mu.Lock()
		reason, exited, held := w.reason, w.exited, w.held
		done := !held && (exited || reason != "" || closing)
		if done {
			if !closing {
				p.lost(w, ReasonExit) // unless a call said why already
			}
			p.dropIdle(w)
			w.serving = false
			if s := p.slots[w.idx]; s.w == w {
				s.w = nil
			}
		}
		p.mu.Unlock()
		if !done {
			continue
		}
		if !exited {
			w.cmd.Process.Kill()
		}
		if closing {
			p.finishWorker(w)
			return false
		}
		p.bg.Add(1)
		go func() {
			defer p.bg.Done()
			p.finishWorker(w)
		}()
		return true
	}
}

// dropIdle removes w from the idle list. p.mu held.
func (p *Pool) dropIdle(w *worker) {
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i:i], p.idle[i+1:]...)
			return
		}
	}
}

// stopWorker asks w to exit if it is idle, and kills it if it does not
// exit at once or is busy: the pool is closing and has waited for its
// calls already.
func (p *Pool) stopWorker(w *worker) {
	p.mu.Lock()
	idle := !w.held && !w.exited
	if idle {
		p.dropIdle(w)
		w.held = true
	}
	p.mu.Unlock()
	if idle {
		w.seq = nextSeq(w.seq)
		C.cg_iso_post(w.slot, C.uint32_t(w.seq), C.CG_ISO_OP_EXIT, 0, 0, 0, 0, 0, nil)
		select {
		case <-w.reaped:
		case <-time.After(500 * time.Millisecond):
		}
		p.mu.Lock()
		w.held = false
		p.mu.Unlock()
	}
	w.cmd.Process.Kill()
	w.notify()
}

// finishWorker waits until w is reaped and its output drained, and frees
// its slot page.
func (p *Pool) finishWorker(w *worker) {
	<-w.reaped
	<-w.out.done
	p.pages <- w.page
}

// ---- spares ---------------------------------------------------------------

// takeSpare returns a ready spare, or nil.
func (p *Pool) takeSpare() *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.spares) > 0 {
		w := p.spares[0]
		p.spares = p.spares[1:]
		select {
		case p.spareWake <- struct{}{}:
		default:
		}
		if !w.exited {
			return w
		}
		p.bg.Add(1)
		go func() {
			defer p.bg.Done()
			p.finishWorker(w)
		}()
	}
	return nil
}

// keepSpares keeps WithSpares workers started and ready to take over.
func (p *Pool) keepSpares() {
	defer p.sup.Done()
	failures := 0
	for {
		p.mu.Lock()
		live := p.spares[:0]
		for _, w := range p.spares {
			if w.exited {
				p.bg.Add(1)
				go func() {
					defer p.bg.Done()
					p.finishWorker(w)
				}()
				continue
			}
			live = append(live, w)
		}
		p.spares = live
		need := len(p.spares) < p.o.spares
		p.mu.Unlock()
		if !need {
			select {
			case <-p.spareWake:
				continue
			case <-p.done:
			}
			p.stopSpares()
			return
		}
		if !p.sleep(p.backoff(failures)) {
			p.stopSpares()
			return
		}
		w, err := p.startWorker()
		if err != nil {
			failures++
			p.mu.Lock()
			var serr *StartError
			if errors.As(err, &serr) {
				p.lastErr = serr
			}
			if !p.stopping() {
				p.restarts[reasonIndex(ReasonStart)].add(1)
			}
			p.mu.Unlock()
			continue
		}
		failures = 0
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			p.stopWorker(w)
			p.finishWorker(w)
			continue
		}
		p.spares = append(p.spares, w)
		p.mu.Unlock()
	}
}

func (p *Pool) stopSpares() {
	p.mu.Lock()
	spares := p.spares
	p.spares = nil
	p.mu.Unlock()
	for _, w := range spares {
		p.stopWorker(w)
		p.finishWorker(w)
	}
}

// ---- starting ---------------------------------------------------------------

// startWorker starts a worker process and waits until it is ready. On
// failure the process is killed and reaped and its page freed.
func (p *Pool) startWorker() (*worker, error) {
	var page int
	select {
	case page = <-p.pages:
	case <-p.done:
		return nil, &StartError{Module: p.module, Worker: -1, Status: "pool closed"}
	}
	slot := (*C.cg_iso_slot)(unsafe.Pointer(&p.ctl[page*C.CG_ISO_SLOT_SIZE]))
	C.cg_iso_init(slot, C.uint32_t(p.o.spin.Nanoseconds()))
	w := &worker{idx: -1, page: page, slot: slot, out: newOutput(), wake: make(chan struct{}, 1), reaped: make(chan struct{})}
	serr := &StartError{Module: p.module, Worker: page}
	pr, pw, err := os.Pipe()
	if err != nil {
		p.pages <- page
		serr.Status, serr.Err = "no pipe", err
		return nil, serr
	}
	sp := spec{index: page, ppid: os.Getpid(), arenaAddr: p.lo, nfn: len(p.tab.names), hash: p.tab.hash, module: p.module}
	files := []*os.File{p.files[0], p.files[1]} // fdArena, fdControl
	if p.gates != nil {
		files = append(files, p.gates) // fdFaults
		sp.faults = 1
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe", // this very binary, even if the file was replaced since
		Args:        []string{os.Args[0]},
		Env:         append(append(os.Environ(), p.o.env...), envWorker+"="+sp.String()),
		Stdout:      pw,
		Stderr:      pw,
		ExtraFiles:  files,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true},
	}
	w.cmd = cmd
	errc := make(chan error, 1)
	select {
	case p.starter <- func() { errc <- cmd.Start() }:
		err = <-errc
	case <-p.done:
		err = errors.New("pool closed")
	}
	pw.Close()
	if err != nil {
		pr.Close()
		p.pages <- page
		serr.Status, serr.Err = "exec failed: "+err.Error(), err
		return nil, serr
	}
	w.pid = cmd.Process.Pid
	serr.PID = w.pid
	go w.out.copyFrom(pr, os.Stderr)
	go func() {
		cmd.Wait()
		C.cg_iso_mark_dead(slot)
		p.mu.Lock()
		w.state = cmd.ProcessState
		w.exited = true
		p.mu.Unlock()
		close(w.reaped)
		w.notify()
		select {
		case p.spareWake <- struct{}{}:
		default:
		}
	}()
	// Wait for ready (the completion of request 0); a close of the pool
	// kills the worker.
	stop := make(chan struct{})
	go func() {
		select {
		case <-p.done:
			cmd.Process.Kill()
		case <-stop:
		}
	}()
	r := C.cg_iso_wait(slot, 0, C.int64_t(p.o.startTimeout), 1)
	close(stop)
	if r == C.CG_ISO_W_DONE {
		return w, nil
	}
	if r == C.CG_ISO_W_TIMEOUT {
		cmd.Process.Kill()
		serr.Status = fmt.Sprintf("not ready after %v (is isolate.Main called first in main?)", p.o.startTimeout)
	}
	<-w.reaped
	select {
	case <-w.out.done:
	case <-time.After(100 * time.Millisecond):
	}
	if serr.Status == "" {
		serr.Status = w.state.String()
	}
	serr.Stderr = w.out.String()
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		p.finishWorker(w)
	}()
	return nil, serr
}

// CloseIsolated implements cgoguard.Isolated: the module's Close and
// cgoguard.Shutdown call it. Use Pool.Close (or the module's Close) rather
// than calling it.
func (p *Pool) CloseIsolated(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.shutdown(ctx) })
	return p.closeErr
}

func (p *Pool) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	for _, ch := range p.waiters {
		ch <- nil
	}
	p.waiters = nil
	p.mu.Unlock()
	// Let the calls in flight finish, for a while.
	limit := time.Now().Add(p.o.closeTimeout)
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		p.mu.Lock()
		n := p.inflight
		p.mu.Unlock()
		if n == 0 || ctx.Err() != nil || time.Now().After(limit) {
			break
		}
		time.Sleep(delay)
	}
	close(p.done)
	p.sup.Wait()
	// Calls that held a killed worker return promptly; wait for them, as
	// they read the slots.
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		p.mu.Lock()
		n := p.inflight
		p.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(delay)
	}
	p.bg.Wait()
	fault.RemoveCarrier(p)
	close(p.starter)
	poolsMu.Lock()
	for i, x := range pools {
		if x == p {
			pools = append(pools[:i:i], pools[i+1:]...)
			break
		}
	}
	poolsMu.Unlock()
	p.release()
	return nil
}
