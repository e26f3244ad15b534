// Package liveness holds the CG022 patterns that need the paths after the
// call: a finalized object must be used again on some path after it, or
// be kept reachable by the call's own arguments or by a variable holding
// it. Lines without a want comment are correct code.
package liveness

/*
#include <stdint.h>
#include <stdlib.h>

typedef struct conn { int n; } conn;
static conn *conn_open(void) { return calloc(1, sizeof(conn)); }
static void conn_close(conn *c) { free(c); }
static int conn_exec(conn *c, int q) { return c->n + q; }
static void conn_set_hook(conn *c, uintptr_t h) { (void)c; (void)h; }
static const char *conn_name(conn *c) { (void)c; return "main"; }
static int conn_iter(conn **out, conn *c) { *out = c; return 0; }
*/
import "C"

import (
	"runtime"
	"sync"
)

// Conn closes its C connection in a finalizer.
type Conn struct {
	c    *C.conn
	last int
}

func Open() *Conn {
	c := &Conn{c: C.conn_open()}
	runtime.SetFinalizer(c, (*Conn).Close)
	return c
}

func (c *Conn) Close() {
	if c.c != nil {
		C.conn_close(c.c)
		c.c = nil
	}
}

var (
	mu       sync.Mutex
	registry = map[uintptr]any{}
)

// keep stores v in a package registry and returns its key.
func keep(v any) C.uintptr_t {
	mu.Lock()
	defer mu.Unlock()
	k := uintptr(len(registry) + 1)
	registry[k] = v
	return C.uintptr_t(k)
}

// The object is an argument of the same call: keep(c) keeps it reachable.
func (c *Conn) Hook() {
	C.conn_set_hook(c.c, keep(c))
}

// Used again after the call.
func (c *Conn) ExecRecord(q int) int {
	n := C.conn_exec(c.c, C.int(q))
	c.last = int(n)
	return int(n)
}

// KeepAlive after the call.
func (c *Conn) Exec(q int) int {
	n := C.conn_exec(c.c, C.int(q))
	runtime.KeepAlive(c)
	return int(n)
}

// The result read through C.GoString, nothing after.
func (c *Conn) Name() string {
	return C.GoString(C.conn_name(c.c)) // want `CG022: c.c is passed to C.conn_name but c may be finalized during the call`
}

// A later branch's use does not make an earlier branch's call safe.
func (c *Conn) Branches(fast bool, q int) int {
	if fast {
		return int(C.conn_exec(c.c, C.int(q))) // want `CG022: c.c is passed to C.conn_exec but c may be finalized`
	}
	n := C.conn_exec(c.c, C.int(q))
	runtime.KeepAlive(c)
	return int(n)
}

// Used after the call on one path only: c is live at the call (the
// compiler keeps a variable live while any path ahead uses it).
func (c *Conn) OnePath(q int, log bool) int {
	n := C.conn_exec(c.c, C.int(q))
	if log {
		runtime.KeepAlive(c)
	}
	return int(n)
}

// The object given to a Go call that stores it, before the C call.
func (c *Conn) HookVar() {
	h := keep(c)
	C.conn_set_hook(c.c, h)
}

// A deferred call mentions the object: it runs at return.
func (c *Conn) Deferred(q int) int {
	defer runtime.KeepAlive(c)
	return int(C.conn_exec(c.c, C.int(q)))
}

// Base and Derived: the finalizer is on *Derived; AsBase returns a
// pointer into the same allocation.
type Base struct {
	c *C.conn
}

type Derived struct {
	Base
}

func NewBase() *Base {
	b := &Base{c: C.conn_open()}
	runtime.SetFinalizer(b, func(b *Base) { C.conn_close(b.c) })
	return b
}

func NewDerived() *Derived {
	d := &Derived{Base{c: C.conn_open()}}
	runtime.SetFinalizer(d, func(d *Derived) { C.conn_close(d.c) })
	return d
}

func (d *Derived) AsBase() *Base { return &d.Base }

// An interior pointer used with the object kept alive after.
func Interior(d *Derived, q int) int {
	b := d.AsBase()
	n := C.conn_exec(b.c, C.int(q))
	runtime.KeepAlive(d)
	return int(n)
}

// The interior pointer's object is not kept alive.
func InteriorLost(d *Derived, q int) int {
	b := d.AsBase()
	return int(C.conn_exec(b.c, C.int(q))) // want `CG022: b.c is passed to C.conn_exec but b may be finalized`
}

// The string C returned from c's connection is read after the last use
// of c on the non-nil path.
func (c *Conn) SymbolicName() string {
	var ret string
	cstr := C.conn_name(c.c)
	if cstr != nil {
		return C.GoString(cstr) // want `CG022: cstr, which C.conn_name returned from c.c, is read by C.GoString after the last use of c`
	}
	runtime.KeepAlive(c)
	return ret
}

// Read with c kept alive after.
func (c *Conn) NameKept() string {
	cstr := C.conn_name(c.c)
	s := C.GoString(cstr)
	runtime.KeepAlive(c)
	return s
}

// A method returning a copy, not an interior pointer: c is not kept
// alive by the copy.
type ID struct{ n int }

func (c *Conn) ID() *ID { return &ID{n: c.last} }

func (c *Conn) Owner() int {
	id := c.ID()
	n := C.conn_exec(c.c, 0) // want `CG022: c.c is passed to C.conn_exec but c may be finalized`
	return int(n) + id.n
}

// Through an interface whose implementations all return an interior
// pointer.
type Baser interface{ AsBase() *Base }

func InteriorIface(o Baser, q int) int {
	b := o.AsBase()
	n := C.conn_exec(b.c, C.int(q))
	runtime.KeepAlive(o)
	return int(n)
}

// An iterator that holds the connection; the address of its field is an
// argument of the call, so the iterator, and the connection it holds,
// stay reachable during the call.
type Iter struct {
	conn *Conn
	ptr  *C.conn
}

func (c *Conn) Iterate() (*Iter, int) {
	it := &Iter{conn: c}
	ret := C.conn_iter(&it.ptr, c.c)
	if ret < 0 {
		return nil, int(ret)
	}
	return it, 0
}

// The holder is set after the call, and only C's result goes into it.
func (c *Conn) IterateLate() *Iter {
	var out *C.conn
	C.conn_iter(&out, c.c) // want `CG022: c.c is passed to C.conn_iter but c may be finalized`
	return &Iter{ptr: out}
}

// A holder built before the call and used after it keeps c reachable.
func (c *Conn) IterateHeld() *Iter {
	it := &Iter{}
	it.conn = c
	var out *C.conn
	C.conn_iter(&out, c.c)
	it.ptr = out
	return it
}
