package bad

/*
#include <stdlib.h>

typedef struct db { int n; } db;
typedef struct stmt { db *owner; } stmt;
static db *db_open(void) { return calloc(1, sizeof(db)); }
static void db_close(db *d) { free(d); }
static int db_exec(db *d, int q) { return d->n + q; }
static stmt *db_prepare(db *d) { stmt *s = calloc(1, sizeof(stmt)); s->owner = d; return s; }
static db *db_child(db *d) { return d; }
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// DB frees its handle in both Close and the finalizer.
type DB struct {
	h *C.db
}

func Open() *DB {
	d := &DB{h: C.db_open()}
	runtime.SetFinalizer(d, func(d *DB) { // want `CG021: finalizer frees DB.h, which Close also frees, with no guard`
		C.db_close(d.h)
	})
	return d
}

func (d *DB) Close() {
	C.db_close(d.h)
}

func (d *DB) Exec(q int) int {
	return int(C.db_exec(d.h, C.int(q))) // want `CG022: d.h is passed to C.db_exec but d may be finalized during the call`
}

// Stmt is a child of DB that keeps DB's memory but not DB.
type Stmt struct {
	s *C.stmt
}

func (d *DB) Prepare() *Stmt {
	s := &Stmt{s: C.db_prepare(d.h)} // want `CG023: Stmt holds C memory of d but no reference to it`
	runtime.KeepAlive(d)
	return s
}

// View points into the parent's memory.
type View struct {
	p unsafe.Pointer
}

func (d *DB) View() View {
	return View{p: unsafe.Pointer(d.h)} // want `CG023: View holds C memory of d`
}

// Buf uses AddCleanup and a Free method that does not stop it.
type Buf struct {
	p unsafe.Pointer
}

func NewBuf(n int) *Buf {
	b := &Buf{p: C.malloc(C.size_t(n))}
	runtime.AddCleanup(b, func(p unsafe.Pointer) { C.free(p) }, b.p) // want `CG021: cleanup frees Buf.p, which Free also frees`
	return b
}

func (b *Buf) Free() {
	C.free(b.p)
}

func execOnce() int {
	d := Open()
	return int(C.db_exec(d.h, 1)) // want `CG022: d.h is passed to C.db_exec`
}
