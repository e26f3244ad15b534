//go:build cgo

package cgoguard_test

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
	"testing"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

func TestErrnoMapping(t *testing.T) {
	m := newModule(t)
	for _, c := range []struct {
		errno  syscall.Errno
		target error
	}{
		{syscall.ENOENT, fs.ErrNotExist},
		{syscall.EEXIST, fs.ErrExist},
		{syscall.EACCES, fs.ErrPermission},
		{syscall.EPERM, fs.ErrPermission},
		{syscall.EINVAL, syscall.EINVAL},
		{syscall.ENOMEM, syscall.ENOMEM},
		{syscall.EAGAIN, syscall.EAGAIN},
		{syscall.EIO, syscall.EIO},
		{syscall.ENOTSUP, errors.ErrUnsupported},
	} {
		t.Run(c.errno.Error(), func(t *testing.T) {
			rc, err := m.Call(bg, cfixture.Errno, cint(t, int(c.errno)))
			if rc != -int(c.errno) {
				t.Errorf("rc = %d, want %d", rc, -int(c.errno))
			}
			var ce *cgoguard.CError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CError", err)
			}
			if ce.Errno != c.errno || ce.Code != rc || ce.Module != m.Name() {
				t.Errorf("CError = %+v", ce)
			}
			if !errors.Is(err, c.target) {
				t.Errorf("errors.Is(%v, %v) = false", err, c.target)
			}
			if ce.Message != "" {
				t.Errorf("message %q, want none (the errno text comes from Error)", ce.Message)
			}
		})
	}
	if m.State() != cgoguard.Closed {
		t.Errorf("C errors changed the state to %v without a breaker", m.State())
	}
}

func TestSetError(t *testing.T) {
	m := newModule(t)
	rc, err := m.Call(bg, cfixture.SetError, nil)
	var ce *cgoguard.CError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	if rc != -7 || ce.Code != 7 || ce.Errno != syscall.EACCES || ce.Message != "bad header at offset 12" {
		t.Errorf("rc %d, CError %+v", rc, ce)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Error("errno recorded by cg_set_error does not unwrap")
	}

	rc, err = m.Call(bg, cfixture.SetErrorErrno, nil)
	if !errors.As(err, &ce) || rc != -9 || ce.Code != 9 || ce.Errno != syscall.ENOENT || ce.Message != "no entry x.db" {
		t.Errorf("cg_set_error_errno: rc %d, err %v", rc, err)
	}

	// An error set and then a success returned: success wins.
	if rc, err := m.Call(bg, cfixture.SetErrorThenOK, nil); rc != 5 || err != nil {
		t.Errorf("set-then-ok = %d, %v", rc, err)
	}
	// A later plain failure does not inherit the earlier message.
	_, err = m.Call(bg, cfixture.Errno, nil)
	if !errors.As(err, &ce) || ce.Message != "" || ce.Errno != syscall.ENOENT {
		t.Errorf("plain failure after cg_set_error: %+v", ce)
	}
}

func TestSentinels(t *testing.T) {
	if !errors.Is(cgoguard.ErrTimeout, context.DeadlineExceeded) {
		t.Error("ErrTimeout does not match context.DeadlineExceeded")
	}
	for _, err := range []error{cgoguard.ErrQuarantined, cgoguard.ErrTimeout, cgoguard.ErrBusy, cgoguard.ErrClosed, cgoguard.ErrNotSupported, cgoguard.ErrOpen} {
		if msg := err.Error(); len(msg) < 10 || msg[:10] != "cgoguard: " {
			t.Errorf("%q lacks the cgoguard: prefix", msg)
		}
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []cgoguard.Option
	}{
		{"", nil},
		{"neg-timeout", []cgoguard.Option{cgoguard.WithTimeout(-1)}},
		{"neg-conc", []cgoguard.Option{cgoguard.WithMaxConcurrent(-1)}},
		{"zero-abandoned", []cgoguard.Option{cgoguard.WithMaxAbandoned(0)}},
		{"ratio", []cgoguard.Option{cgoguard.WithBreaker(cgoguard.BreakerConfig{FailureRatio: 2})}},
		{"policy", []cgoguard.Option{cgoguard.WithCrashPolicy(cgoguard.CrashPolicy(9))}},
		{"crashdir", []cgoguard.Option{cgoguard.WithCrashDir("")}},
		{"nil-option", []cgoguard.Option{nil}},
	} {
		if m, err := cgoguard.New(c.name, c.opts...); err == nil {
			m.Close()
			t.Errorf("New(%q) accepted bad input", c.name)
		}
	}
	m := newModule(t)
	if _, err := cgoguard.New(m.Name()); err == nil {
		t.Error("duplicate module name accepted")
	}
	if _, err := m.Call(bg, nil, nil); err == nil {
		t.Error("nil function accepted")
	}
}
