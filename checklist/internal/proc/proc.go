// Package proc runs the commands of checklist checks: each in its own
// process group, killed as a group on timeout or cancellation, with
// size-bounded capture of its output.
//
// Functions are safe for concurrent use; a Process is used by one goroutine.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// waitDelay bounds how long Run keeps reading output pipes that stay open,
// without new data, after the command exited and its process group was
// killed: only a process that left the group (setsid, a daemon) can hold
// them then.
const waitDelay = 2 * time.Second

// ErrOutputHeld is returned by Run when the command exited but a process
// outside its process group kept its stdout or stderr open.
var ErrOutputHeld = errors.New("cgoguard: the command exited but its output stayed open")

// Cmd describes one command.
type Cmd struct {
	Argv []string
	Dir  string
	// Env is the whole environment; nil means the parent's.
	Env []string
	// Limit bounds each captured stream in bytes (head and tail kept).
	Limit int
	// Stdout, when set, receives stdout instead of the bounded capture.
	Stdout io.Writer
	// Stderr, when set, receives stderr instead of the bounded capture
	// (Run only).
	Stderr io.Writer
	// StderrTee, when set, also receives stderr (Start only).
	StderrTee io.Writer
}

// Output is what a finished command left.
type Output struct {
	// ExitCode is the exit status, or -1 when the process was killed by a
	// signal or never started.
	ExitCode int
	Stdout   string
	Stderr   string
	// LeftRunning is set when the command exited while processes it
	// started (background jobs) still ran in its process group; Run killed
	// them.
	LeftRunning bool
}

// Run runs c to completion in its own process group. When ctx ends first
// the whole group is killed and ctx's error is returned with the output so
// far. When the command exits, whatever it left running in its group is
// killed too, so nothing outlives Run; a process that left the group and
// keeps the output open ends the reading after waitDelay without new data,
// with ErrOutputHeld.
func Run(ctx context.Context, c Cmd) (Output, error) {
	if len(c.Argv) == 0 {
		return Output{ExitCode: -1}, errors.New("cgoguard: empty command")
	}
	cmd := command(ctx, c)
	cmd.WaitDelay = 0 // the pipes are ours (below), not exec's
	var outBuf, errBuf *Buffer
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		outBuf = NewBuffer(c.Limit)
		stdout = outBuf
	}
	if stderr == nil {
		errBuf = NewBuffer(c.Limit)
		stderr = errBuf
	}
	o := Output{ExitCode: -1}
	finish := func() Output {
		if outBuf != nil {
			o.Stdout = outBuf.String()
		}
		if errBuf != nil {
			o.Stderr = errBuf.String()
		}
		return o
	}
	// Our own pipes, read by our own goroutines: exec's copying goroutines
	// would make Wait wait for every holder of the pipes, and its
	// WaitDelay cuts off a slow reader as well as a stray holder.
	var pipes [2]*pipeCopy
	for i, w := range []io.Writer{stdout, stderr} {
		r, wf, err := os.Pipe()
		if err != nil {
			for _, p := range pipes[:i] {
				p.r.Close()
				p.w.Close()
			}
			return finish(), fmt.Errorf("cgoguard: run %s: %w", c.Argv[0], err)
		}
		pipes[i] = &pipeCopy{r: r, w: wf, dst: w, name: [2]string{"stdout", "stderr"}[i], done: make(chan struct{})}
	}
	cmd.Stdout, cmd.Stderr = pipes[0].w, pipes[1].w
	err := cmd.Start()
	for _, p := range pipes {
		p.w.Close() // the child has its copies
	}
	if err != nil {
		for _, p := range pipes {
			p.r.Close()
		}
		return finish(), fmt.Errorf("cgoguard: run %s: %w", c.Argv[0], err)
	}
	for _, p := range pipes {
		go p.copy()
	}
	werr := cmd.Wait()
	if cmd.ProcessState != nil {
		o.ExitCode = cmd.ProcessState.ExitCode()
	}
	// The leader is gone; anything still in its group was left behind.
	if syscall.Kill(-cmd.Process.Pid, 0) == nil {
		o.LeftRunning = groupRunning(cmd.Process.Pid)
		_ = killGroup(cmd)
	}
	held := waitPipes(ctx, pipes[:])
	for _, p := range pipes {
		p.r.Close()
	}
	if ctx.Err() != nil {
		return finish(), ctx.Err()
	}
	if held != "" {
		return finish(), fmt.Errorf("%w: a process it started outside its process group (with setsid, or a daemon) kept %s open; "+
			"reading stopped %s after the command exited, with no new data", ErrOutputHeld, held, waitDelay)
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return finish(), fmt.Errorf("cgoguard: run %s: %w", c.Argv[0], werr)
	}
	return finish(), nil
}

// groupRunning reports whether process group pgid has a member that is not
// a zombie (a child that exited, waiting for init to reap it, still counts
// as a member for kill).
func groupRunning(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// pipeCopy copies one output pipe of a command to its destination.
type pipeCopy struct {
	r, w   *os.File
	dst    io.Writer
	name   string
	copied atomic.Int64
	done   chan struct{}
}

func (p *pipeCopy) copy() {
	defer close(p.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := p.r.Read(buf)
		if n > 0 {
			_, _ = p.dst.Write(buf[:n]) // destinations keep what they can
			p.copied.Add(int64(n))
		}
		if err != nil {
			return
		}
	}
}

// waitPipes waits until every pipe reached its end. A pipe that yields no
// new data for waitDelay is closed (a process outside the group holds it)
// and named in held; a pipe whose data still flows is waited for.
func waitPipes(ctx context.Context, pipes []*pipeCopy) (held string) {
	allDone := make(chan struct{})
	go func() {
		for _, p := range pipes {
			<-p.done
		}
		close(allDone)
	}()
	last := make([]int64, len(pipes))
	for i, p := range pipes {
		last[i] = p.copied.Load()
	}
	t := time.NewTimer(waitDelay)
	defer t.Stop()
	for {
		select {
		case <-allDone:
			return held
		case <-ctx.Done():
			for _, p := range pipes {
				p.r.Close()
			}
			<-allDone
			return held
		case <-t.C:
			for i, p := range pipes {
				select {
				case <-p.done:
					continue
				default:
				}
				if n := p.copied.Load(); n != last[i] {
					last[i] = n
					continue
				}
				p.r.Close()
				if held == "" {
					held = p.name
				} else {
					held += " and " + p.name
				}
			}
			t.Reset(waitDelay)
		}
	}
}

func command(ctx context.Context, c Cmd) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = waitDelay
	return cmd
}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	// The group id is the leader's pid (Setpgid with Pgid 0).
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Process is a started long-running command (a service under test).
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	// Stderr holds the bounded stderr of the process.
	Stderr *Buffer
}

// Start starts c in its own process group; stdout goes to c.Stdout.
func Start(ctx context.Context, c Cmd) (*Process, error) {
	if len(c.Argv) == 0 {
		return nil, errors.New("cgoguard: empty command")
	}
	cmd := command(ctx, c)
	p := &Process{cmd: cmd, done: make(chan struct{}), Stderr: NewBuffer(c.Limit)}
	cmd.Stdout = c.Stdout
	cmd.Stderr = p.Stderr
	if c.StderrTee != nil {
		cmd.Stderr = io.MultiWriter(p.Stderr, c.StderrTee)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cgoguard: start %s: %w", c.Argv[0], err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Pid is the process id (and process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop kills the process group and waits for the process.
func (p *Process) Stop() {
	_ = killGroup(p.cmd)
	<-p.done
}

// Buffer is an io.Writer that keeps at most limit bytes: the first half
// and the last half of what was written, and counts what it dropped.
// A limit of 0 or less keeps everything.
type Buffer struct {
	mu      sync.Mutex
	limit   int
	head    []byte
	tail    []byte // ring
	tailPos int
	dropped int64
	full    bool
}

// NewBuffer returns a buffer bounded to limit bytes.
func NewBuffer(limit int) *Buffer { return &Buffer{limit: limit} }

// Write keeps what fits and counts the rest; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if b.limit <= 0 {
		b.head = append(b.head, p...)
		return n, nil
	}
	half := b.limit / 2
	if room := b.limit - half - len(b.head); room > 0 && !b.full {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	b.full = true
	tailCap := half
	for _, c := range p {
		if len(b.tail) < tailCap {
			b.tail = append(b.tail, c)
			continue
		}
		if tailCap == 0 {
			b.dropped++
			continue
		}
		b.tail[b.tailPos] = c
		b.tailPos = (b.tailPos + 1) % tailCap
		b.dropped++
	}
	return n, nil
}

// Dropped is the number of bytes not kept.
func (b *Buffer) Dropped() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// String returns the kept bytes, with a marker where bytes were dropped.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s bytes.Buffer
	s.Write(b.head)
	if b.dropped > 0 {
		fmt.Fprintf(&s, "\n... [%d bytes omitted] ...\n", b.dropped)
	}
	s.Write(b.tail[b.tailPos:])
	s.Write(b.tail[:b.tailPos])
	return s.String()
}
