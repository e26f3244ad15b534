//go:build cgo

package cproducer

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include -Wall -Wextra -Werror
#cgo LDFLAGS: -lpthread
#include <stdlib.h>
#include <string.h>
#include "cproducer.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"
	"unsafe"

	_ "github.com/cgoguard/cgoguard/bridge" // defines cg_bridge_*
)

// Mode is what each producer thread does per message.
type Mode int

// Modes.
const (
	Push     Mode = C.CP_PUSH     // cg_bridge_push of a checked message
	Reserve  Mode = C.CP_RESERVE  // cg_bridge_reserve + cg_bridge_commit_len of a checked message
	Mixed    Mode = C.CP_MIXED    // alternate Push and Reserve
	Flood    Mode = C.CP_FLOOD    // cg_bridge_push of Size bytes (seq u64, producer u32 where they fit), unchecked
	Callback Mode = C.CP_CALLBACK // call the exported Go function (see SetSink) per event
	Latency  Mode = C.CP_LATENCY  // sleep Pause, push the CLOCK_MONOTONIC time (8 bytes)
	// Batch pushes checked messages with cg_bridge_push_batch, 1 to
	// Config.Batch at a time (sizes vary).
	Batch Mode = C.CP_BATCH
	// FloodBatch pushes Size-byte messages, Config.Batch per
	// cg_bridge_push_batch call, unchecked.
	FloodBatch Mode = C.CP_FLOOD_BATCH
)

// Config describes a run.
type Config struct {
	Threads   int
	PerThread uint64 // messages per thread; a thread stops early at -EPIPE
	Mode      Mode
	Size      int   // Flood and Callback message size, at most 64 (bytes 8-11 carry the producer when Size >= 12)
	PauseNS   int64 // Latency pause between messages
	Batch     int   // Batch and FloodBatch: most messages per call, 1 to 64
	// FirstID is the producer id of the first thread; the others follow.
	FirstID uint32
	// Together makes the threads wait for each other after their first
	// message and again before they exit, so all of them are alive and
	// have pushed at once (not with Batch and FloodBatch).
	Together bool
}

// Result is what one producer thread saw.
type Result struct {
	Accepted uint64                   // pushes that returned 0
	Codes    map[syscall.Errno]uint64 // failed pushes by errno
	CPU      time.Duration            // the thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
}

// Run is a set of running producer threads.
type Run struct {
	r *C.struct_cp_run
	n int
}

// Start starts cfg.Threads C threads pushing into the cg_bridge * b.
func Start(b unsafe.Pointer, cfg Config) (*Run, error) {
	if cfg.Threads < 1 || cfg.Threads > 64 {
		return nil, fmt.Errorf("cproducer: %d threads: must be 1 to 64", cfg.Threads)
	}
	together := 0
	if cfg.Together {
		together = 1
	}
	r := C.cp_start((*C.cg_bridge)(b), C.int(cfg.Threads), C.uint64_t(cfg.PerThread), C.int(cfg.Mode),
		C.uint32_t(cfg.Size), C.int64_t(cfg.PauseNS), C.uint32_t(cfg.Batch), C.uint32_t(cfg.FirstID), C.int(together))
	if r == nil {
		return nil, errors.New("cproducer: starting threads failed")
	}
	return &Run{r: r, n: cfg.Threads}, nil
}

var codeOrder = [...]syscall.Errno{syscall.EAGAIN, syscall.ENOBUFS, syscall.ETIMEDOUT, syscall.EPIPE,
	syscall.EMSGSIZE, syscall.EINVAL, 0}

// Wait joins the threads and returns their results, in thread order.
func (r *Run) Wait() []Result {
	out := make([]C.struct_cp_result, r.n)
	C.cp_join(r.r, unsafe.SliceData(out))
	res := make([]Result, r.n)
	for i, o := range out {
		res[i] = Result{Accepted: uint64(o.accepted), Codes: map[syscall.Errno]uint64{}, CPU: time.Duration(o.cpu_ns)}
		for j, e := range codeOrder {
			if o.codes[j] != 0 {
				res[i].Codes[e] = uint64(o.codes[j])
			}
		}
	}
	return res
}

// Message is a checked message's content.
type Message struct {
	Producer uint32
	Seq      uint64
}

// Check parses and verifies a checked message (Push, Reserve, Mixed): its
// length, checksum and payload bytes.
func Check(msg []byte) (Message, error) {
	if len(msg) < 24 {
		return Message{}, fmt.Errorf("message of %d bytes, want at least 24", len(msg))
	}
	m := Message{Producer: binary.LittleEndian.Uint32(msg), Seq: binary.LittleEndian.Uint64(msg[8:])}
	if n := binary.LittleEndian.Uint32(msg[4:]); int(n) != len(msg) || n != 24+uint32(m.Seq%23) {
		return m, fmt.Errorf("producer %d seq %d: length %d, header says %d", m.Producer, m.Seq, len(msg), n)
	}
	if sum := binary.LittleEndian.Uint64(msg[16:]); sum != Checksum(m.Producer, m.Seq) {
		return m, fmt.Errorf("producer %d seq %d: bad checksum %#x", m.Producer, m.Seq, sum)
	}
	for i, c := range msg[24:] {
		if c != byte(m.Seq+uint64(i)+uint64(m.Producer)) {
			return m, fmt.Errorf("producer %d seq %d: payload byte %d is %#x", m.Producer, m.Seq, i, c)
		}
	}
	return m, nil
}

// Checksum is the C side's checksum, computed in Go (splitmix64).
func Checksum(producer uint32, seq uint64) uint64 {
	z := seq ^ uint64(producer)<<56 ^ 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Now returns CLOCK_MONOTONIC in nanoseconds, the clock Latency messages carry.
func Now() int64 { return int64(C.cp_now()) }

// CommitChecks exercises cg_bridge_commit's argument checks on b, which must
// have room for two messages of 8 bytes. It returns, in order: commit_len
// beyond the reserved length, commit of a pointer that is not a
// reservation, commit of NULL, the valid commit, a second commit of the
// same pointer, and push with a NULL bridge.
func CommitChecks(b unsafe.Pointer) []int {
	var out [6]C.int
	C.cp_commit_checks((*C.cg_bridge)(b), &out[0])
	r := make([]int, len(out))
	for i, v := range out {
		r[i] = int(v)
	}
	return r
}

// BatchChecks exercises cg_bridge_push_batch's argument handling on b,
// which must be empty, hold at least 4 messages and have a maximum message
// size of at most 63 bytes. It returns, in order: a batch of 4 whose third
// message is too long, the rest from the too-long one, the last one alone,
// a batch of 0, a NULL bridge, NULL arrays. The bridge then holds the
// messages "a", "bb" and "ddd".
func BatchChecks(b unsafe.Pointer) []int {
	var out [6]C.int
	C.cp_batch_checks((*C.cg_bridge)(b), &out[0])
	r := make([]int, len(out))
	for i, v := range out {
		r[i] = int(v)
	}
	return r
}

// PushOne pushes msg from C (one cgo call) and returns the C result.
func PushOne(b unsafe.Pointer, msg []byte) int {
	p := C.CBytes(msg)
	defer C.free(p)
	return int(C.cg_bridge_push((*C.cg_bridge)(b), p, C.size_t(len(msg))))
}

// Retain and Release call cg_bridge_retain and cg_bridge_release.
func Retain(b unsafe.Pointer)  { C.cg_bridge_retain((*C.cg_bridge)(b)) }
func Release(b unsafe.Pointer) { C.cg_bridge_release((*C.cg_bridge)(b)) }

// ReserveOne calls cg_bridge_reserve for n bytes and fills them with c; it
// returns the reservation, or nil and the errno.
func ReserveOne(b unsafe.Pointer, n int, c byte) (unsafe.Pointer, error) {
	p, err := C.cg_bridge_reserve((*C.cg_bridge)(b), C.size_t(n))
	if p == nil {
		return nil, err
	}
	C.memset(p, C.int(c), C.size_t(n))
	return p, nil
}

// Commit calls cg_bridge_commit and returns its result.
func Commit(b, p unsafe.Pointer) int {
	return int(C.cg_bridge_commit((*C.cg_bridge)(b), p))
}
