package good

/*
#include <stdlib.h>

typedef struct db { int n; } db;
typedef struct stmt { db *owner; } stmt;
static db *db_open(void) { return calloc(1, sizeof(db)); }
static void db_close(db *d) { free(d); }
static int db_exec(db *d, int q) { return d->n + q; }
static stmt *db_prepare(db *d) { stmt *s = calloc(1, sizeof(stmt)); s->owner = d; return s; }
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// DB clears its finalizer in Close.
type DB struct {
	h *C.db
}

func Open() *DB {
	d := &DB{h: C.db_open()}
	runtime.SetFinalizer(d, func(d *DB) {
		C.db_close(d.h)
	})
	return d
}

func (d *DB) Close() {
	runtime.SetFinalizer(d, nil)
	C.db_close(d.h)
	d.h = nil
}

func (d *DB) Exec(q int) int {
	n := C.db_exec(d.h, C.int(q))
	runtime.KeepAlive(d)
	return int(n)
}

func (d *DB) ExecDefer(q int) int {
	defer runtime.KeepAlive(d)
	return int(C.db_exec(d.h, C.int(q)))
}

func (d *DB) ExecUsed(q int) int {
	n := C.db_exec(d.h, C.int(q))
	if d.h == nil {
		return 0
	}
	return int(n)
}

// Stmt keeps its parent.
type Stmt struct {
	db *DB
	s  *C.stmt
}

func (d *DB) Prepare() *Stmt {
	s := &Stmt{db: d, s: C.db_prepare(d.h)}
	runtime.KeepAlive(d)
	return s
}

func (d *DB) PrepareLater() *Stmt {
	s := &Stmt{s: C.db_prepare(d.h)}
	s.db = d
	return s
}

// Guarded frees once, whoever comes first.
type Guarded struct {
	once sync.Once
	h    *C.db
}

func (g *Guarded) release() {
	g.once.Do(func() { C.db_close(g.h) })
}

func NewGuarded() *Guarded {
	g := &Guarded{h: C.db_open()}
	runtime.SetFinalizer(g, func(g *Guarded) {
		g.once.Do(func() { C.db_close(g.h) })
	})
	return g
}

func (g *Guarded) Close() { g.release() }

// Buf stops its cleanup in Free.
type Buf struct {
	p       unsafe.Pointer
	cleanup runtime.Cleanup
}

func NewBuf(n int) *Buf {
	b := &Buf{p: C.malloc(C.size_t(n))}
	b.cleanup = runtime.AddCleanup(b, func(p unsafe.Pointer) { C.free(p) }, b.p)
	return b
}

func (b *Buf) Free() {
	b.cleanup.Stop()
	C.free(b.p)
}

// Plain has no finalizer: passing its fields to C is the caller's business.
type Plain struct{ h *C.db }

func (p *Plain) Exec() int { return int(C.db_exec(p.h, 1)) }

func (d *DB) step() int {
	// Unexported: the exported caller keeps d alive after the call.
	return int(C.db_exec(d.h, 1))
}

func (d *DB) Step() int {
	n := d.step()
	runtime.KeepAlive(d)
	return n
}
