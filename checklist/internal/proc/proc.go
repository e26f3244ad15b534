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
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// waitDelay bounds how long Wait waits for output pipes held open by a
// process that outlived the group kill.
const waitDelay = 2 * time.Second

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
}

// Run runs c to completion. When ctx ends first the whole process group is
// killed and ctx's error is returned with the output so far.
func Run(ctx context.Context, c Cmd) (Output, error) {
	if len(c.Argv) == 0 {
		return Output{ExitCode: -1}, errors.New("cgoguard: empty command")
	}
	cmd := command(ctx, c)
	out := NewBuffer(c.Limit)
	errb := NewBuffer(c.Limit)
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	} else {
		cmd.Stdout = out
	}
	cmd.Stderr = errb
	err := cmd.Run()
	o := Output{ExitCode: -1, Stdout: out.String(), Stderr: errb.String()}
	if cmd.ProcessState != nil {
		o.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return o, fmt.Errorf("cgoguard: run %s: %w", c.Argv[0], err)
	}
	return o, nil
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
