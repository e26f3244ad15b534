package probe

// The BPF side, written with cilium/ebpf's asm package so that building
// cgoguard needs no clang. Programs are assembled at Open from the layouts
// below; user space and BPF share nothing else.
//
// Per call of a probed function:
//
//	entry (uprobe, cookie = function index):
//	    slot = guard_cur[tid]                    (0: not in a guarded call)
//	    starts[{tid, fn, sp}] = {ktime, slot}    (ktime read last)
//	return (uretprobe, same cookie):
//	    ktime first; s = starts[{tid, fn, sp-8}] (sp-8: the entry's sp)
//	    stats[{fn, slot}]: calls++, sum += d, hist[bitlen(d)]++, errors++ if (int)rax < 0
//	    threads[{fn, slot, tid}]++
//	    with tracing: one 64-byte event into the ring buffer
//
// Keying the start by the stack pointer makes recursion and tail calls
// come out right, and a call abandoned by longjmp (a crash caught by the
// guard) leaves an entry that the LRU map ages out.
//
// On the trampoline, cg_call_fast(fn, arg, slot<<8|mode):
//
//	entry:  saved[{tid, sp}] = guard_cur[tid]; guard_cur[tid] = slot+1; direct[fn] = slot+1
//	return: guard_cur[tid] = saved[{tid, sp-8}]
//
// and on cg_call(fn, arg, slot, mode, trace_hi, trace_lo), the entry point
// of traced guarded calls, with tracing: spans[{tid, sp}] at entry, one
// event at return.

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Offsets into struct pt_regs (x86-64), the context of uprobe programs.
const (
	regR9  = 64
	regR8  = 72
	regAX  = 80
	regDX  = 96
	regSI  = 104
	regDI  = 112
	regSP  = 152
	retPop = 8 // a return pops the return address: sp at return = sp at entry + 8
)

// Layouts shared with user space.
const (
	statsSize = (3 + nBuckets) * 8 // calls, errors, sum_ns, hist[]
	offCalls  = 0
	offErrors = 8
	offSum    = 16
	offHist   = 24
	eventSize = 64

	counterDropped = 0 // trace events that found the ring buffer full
	counterNoStats = 1 // calls not counted: the stats map was full
	nCounters      = 4
)

// Event kinds in the ring buffer.
const (
	evCall  = 1
	evGuard = 2
)

// bpfMaps are the maps of one Probe.
type bpfMaps struct {
	starts, stats, zero, threads *ebpf.Map
	guardCur, guardSaved, direct *ebpf.Map
	spans, events, counters      *ebpf.Map
}

func (m *bpfMaps) close() {
	for _, x := range []*ebpf.Map{m.starts, m.stats, m.zero, m.threads, m.guardCur, m.guardSaved, m.direct, m.spans, m.events, m.counters} {
		if x != nil {
			x.Close()
		}
	}
}

func newMaps(cfg *config) (*bpfMaps, error) {
	m := &bpfMaps{}
	specs := []struct {
		dst  **ebpf.Map
		spec *ebpf.MapSpec
	}{
		{&m.starts, &ebpf.MapSpec{Name: "cgp_starts", Type: ebpf.LRUHash, KeySize: 16, ValueSize: 16, MaxEntries: 32768}},
		{&m.stats, &ebpf.MapSpec{Name: "cgp_stats", Type: ebpf.Hash, KeySize: 8, ValueSize: statsSize, MaxEntries: uint32(cfg.maxFuncs) * 16, Flags: bpfNoPrealloc}},
		{&m.zero, &ebpf.MapSpec{Name: "cgp_zero", Type: ebpf.Array, KeySize: 4, ValueSize: statsSize, MaxEntries: 1}},
		{&m.threads, &ebpf.MapSpec{Name: "cgp_threads", Type: ebpf.LRUHash, KeySize: 16, ValueSize: 8, MaxEntries: 65536}},
		{&m.guardCur, &ebpf.MapSpec{Name: "cgp_guard_cur", Type: ebpf.LRUHash, KeySize: 8, ValueSize: 8, MaxEntries: 16384}},
		{&m.guardSaved, &ebpf.MapSpec{Name: "cgp_guard_save", Type: ebpf.LRUHash, KeySize: 16, ValueSize: 8, MaxEntries: 16384}},
		{&m.direct, &ebpf.MapSpec{Name: "cgp_direct", Type: ebpf.LRUHash, KeySize: 8, ValueSize: 8, MaxEntries: 4096}},
		{&m.counters, &ebpf.MapSpec{Name: "cgp_counters", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: nCounters}},
	}
	if cfg.trace {
		specs = append(specs,
			struct {
				dst  **ebpf.Map
				spec *ebpf.MapSpec
			}{&m.spans, &ebpf.MapSpec{Name: "cgp_spans", Type: ebpf.LRUHash, KeySize: 16, ValueSize: 40, MaxEntries: 16384}},
			struct {
				dst  **ebpf.Map
				spec *ebpf.MapSpec
			}{&m.events, &ebpf.MapSpec{Name: "cgp_events", Type: ebpf.RingBuf, MaxEntries: uint32(cfg.eventBuf)}},
		)
	}
	for _, s := range specs {
		x, err := ebpf.NewMap(s.spec)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("map %s: %w", s.spec.Name, err)
		}
		*s.dst = x
	}
	return m, nil
}

// bpfNoPrealloc is BPF_F_NO_PREALLOC: the stats map allocates an entry
// when a (function, module) pair is first seen.
const bpfNoPrealloc = 1

// bpfPrograms are the programs of one Probe.
type bpfPrograms struct {
	fnEntry, fnReturn       *ebpf.Program
	guardEntry, guardReturn *ebpf.Program
	spanEntry, spanReturn   *ebpf.Program
}

func (p *bpfPrograms) close() {
	for _, x := range []*ebpf.Program{p.fnEntry, p.fnReturn, p.guardEntry, p.guardReturn, p.spanEntry, p.spanReturn} {
		if x != nil {
			x.Close()
		}
	}
}

func supportedArch() error {
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("%w: the probes read x86-64 registers; this is %s", ErrNotSupported, runtime.GOARCH)
	}
	return nil
}

func newPrograms(m *bpfMaps, trace, multi bool) (*bpfPrograms, error) {
	p := &bpfPrograms{}
	list := []struct {
		dst   **ebpf.Program
		name  string
		insns asm.Instructions
	}{
		{&p.fnEntry, "cgp_fn_entry", fnEntryInsns(m)},
		{&p.fnReturn, "cgp_fn_return", fnReturnInsns(m, trace)},
		{&p.guardEntry, "cgp_guard_entry", guardEntryInsns(m)},
		{&p.guardReturn, "cgp_guard_ret", guardReturnInsns(m)},
	}
	if trace {
		list = append(list,
			struct {
				dst   **ebpf.Program
				name  string
				insns asm.Instructions
			}{&p.spanEntry, "cgp_span_entry", spanEntryInsns(m)},
			struct {
				dst   **ebpf.Program
				name  string
				insns asm.Instructions
			}{&p.spanReturn, "cgp_span_ret", spanReturnInsns(m)},
		)
	}
	attach := ebpf.AttachNone
	if multi {
		attach = ebpf.AttachTraceUprobeMulti
	}
	for _, l := range list {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: l.name, Type: ebpf.Kprobe, AttachType: attach, Instructions: l.insns,
			// None of the helpers used is GPL-only; the string is what the
			// kernel asks of every program.
			License: "Dual MIT/GPL",
		})
		if err != nil {
			p.close()
			return nil, fmt.Errorf("program %s: %w", l.name, err)
		}
		*l.dst = prog
	}
	return p, nil
}

// Registers kept across helper calls.
const (
	rCtx = asm.R6
	rTID = asm.R7
	rFn  = asm.R8
	rT   = asm.R9
)

// stackPtr emits dst = fp + off.
func stackPtr(dst asm.Register, off int16) asm.Instructions {
	return asm.Instructions{asm.Mov.Reg(dst, asm.RFP), asm.Add.Imm(dst, int32(off))}
}

func call(fn asm.BuiltinFunc) asm.Instruction { return fn.Call() }

// storeImm64 emits *(u64 *)(fp + off) = v (sign-extended from 32 bits);
// asm.StoreImm refuses the 64-bit size that the kernel accepts.
func storeImm64(off int16, v int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: off, Constant: int64(v)}
}

// labeled makes label point at the first of insns.
func labeled(label string, insns asm.Instructions) asm.Instructions {
	insns[0] = insns[0].WithSymbol(label)
	return insns
}

// lookup emits r0 = bpf_map_lookup_elem(m, fp+keyOff).
func lookup(m *ebpf.Map, keyOff int16) asm.Instructions {
	out := asm.Instructions{asm.LoadMapPtr(asm.R1, m.FD())}
	out = append(out, stackPtr(asm.R2, keyOff)...)
	return append(out, call(asm.FnMapLookupElem))
}

// update emits bpf_map_update_elem(m, fp+keyOff, fp+valOff, flags).
func update(m *ebpf.Map, keyOff, valOff int16, flags int32) asm.Instructions {
	out := asm.Instructions{asm.LoadMapPtr(asm.R1, m.FD())}
	out = append(out, stackPtr(asm.R2, keyOff)...)
	out = append(out, stackPtr(asm.R3, valOff)...)
	return append(out, asm.Mov.Imm(asm.R4, flags), call(asm.FnMapUpdateElem))
}

// deleteKey emits bpf_map_delete_elem(m, fp+keyOff).
func deleteKey(m *ebpf.Map, keyOff int16) asm.Instructions {
	out := asm.Instructions{asm.LoadMapPtr(asm.R1, m.FD())}
	out = append(out, stackPtr(asm.R2, keyOff)...)
	return append(out, call(asm.FnMapDeleteElem))
}

// fnEntryInsns is the uprobe of a probed function.
//
//	fp-16: key {u32 tid, u32 fn, u64 sp}
//	fp-32: value {u64 start, u64 slot}
//	fp-40: guard key {u32 tid, u32 0}
func fnEntryInsns(m *bpfMaps) asm.Instructions {
	insns := tidPrologue()
	insns = append(insns,
		asm.Mov.Reg(asm.R1, rCtx),
		call(asm.FnGetAttachCookie),
		asm.Mov.Reg(rFn, asm.R0),
		asm.StoreMem(asm.RFP, -16, rTID, asm.Word),
		asm.StoreMem(asm.RFP, -12, rFn, asm.Word),
		asm.LoadMem(asm.R1, rCtx, regSP, asm.DWord),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		storeImm64(-24, 0),
		storeImm64(-40, 0),
		asm.StoreMem(asm.RFP, -40, rTID, asm.Word),
	)
	insns = append(insns, lookup(m.guardCur, -40)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "entry_time"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.StoreMem(asm.RFP, -24, asm.R1, asm.DWord),
		// The clock last, as close to the function's first instruction as
		// the probe gets.
		call(asm.FnKtimeGetNs).WithSymbol("entry_time"),
		asm.StoreMem(asm.RFP, -32, asm.R0, asm.DWord),
	)
	insns = append(insns, update(m.starts, -16, -32, 0)...)
	return append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return())
}

// tidPrologue saves the context in rCtx and the thread id in rTID.
func tidPrologue() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		call(asm.FnGetCurrentPidTgid),
		asm.Mov.Reg32(rTID, asm.R0), // the low half: the thread id (zero-extends)
	}
}

// fnReturnInsns is the uretprobe of a probed function.
//
//	fp-16: starts key {u32 tid, u32 fn, u64 sp}
//	fp-32: {u64 start, u64 slot} copied out of starts
//	fp-40: stats key {u32 fn, u32 slot}
//	fp-48: duration
//	fp-64: threads key {u32 fn, u32 slot, u32 tid, u32 0}
//	fp-72: the value 1
//	fp-136: event (64 bytes)
func fnReturnInsns(m *bpfMaps, trace bool) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		call(asm.FnKtimeGetNs),
		asm.Mov.Reg(rT, asm.R0),
		call(asm.FnGetCurrentPidTgid),
		asm.Mov.Reg32(rTID, asm.R0),
		asm.Mov.Reg(asm.R1, rCtx),
		call(asm.FnGetAttachCookie),
		asm.Mov.Reg(rFn, asm.R0),
		asm.StoreMem(asm.RFP, -16, rTID, asm.Word),
		asm.StoreMem(asm.RFP, -12, rFn, asm.Word),
		asm.LoadMem(asm.R1, rCtx, regSP, asm.DWord),
		asm.Sub.Imm(asm.R1, retPop),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
	}
	insns = append(insns, lookup(m.starts, -16)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "out"), // entered before the probe was attached
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
		asm.LoadMem(asm.R2, asm.R0, 8, asm.DWord),
		asm.StoreMem(asm.RFP, -24, asm.R2, asm.DWord),
		asm.Mov.Reg(asm.R3, rT),
		asm.Sub.Reg(asm.R3, asm.R1),
		asm.StoreMem(asm.RFP, -48, asm.R3, asm.DWord),
		asm.StoreMem(asm.RFP, -40, rFn, asm.Word),
		asm.StoreMem(asm.RFP, -36, asm.R2, asm.Word),
	)
	insns = append(insns, deleteKey(m.starts, -16)...)
	// stats entry: look up, or insert zeros and look up again.
	insns = append(insns, lookup(m.stats, -40)...)
	insns = append(insns, asm.JNE.Imm(asm.R0, 0, "have_stats"))
	insns = append(insns, asm.LoadMapPtr(asm.R1, m.stats.FD()))
	insns = append(insns, stackPtr(asm.R2, -40)...)
	insns = append(insns,
		asm.Mov.Reg(asm.R9, asm.R2), // keep: rT is no longer needed
		asm.StoreImm(asm.RFP, -72, 0, asm.Word),
	)
	// value: the zero entry of m.zero (a map value pointer is a valid value
	// argument; the stack is too small for 536 bytes).
	insns = append(insns, asm.LoadMapPtr(asm.R1, m.zero.FD()))
	insns = append(insns, stackPtr(asm.R2, -72)...)
	insns = append(insns,
		call(asm.FnMapLookupElem),
		asm.JEq.Imm(asm.R0, 0, "no_stats"),
		asm.Mov.Reg(asm.R3, asm.R0),
		asm.LoadMapPtr(asm.R1, m.stats.FD()),
		asm.Mov.Reg(asm.R2, asm.R9),
		asm.Mov.Imm(asm.R4, 1), // BPF_NOEXIST: another CPU may have made it
		call(asm.FnMapUpdateElem),
	)
	insns = append(insns, lookup(m.stats, -40)...)
	insns = append(insns,
		asm.JNE.Imm(asm.R0, 0, "have_stats"),
		asm.Mov.Imm(asm.R1, counterNoStats).WithSymbol("no_stats"),
		asm.Ja.Label("count_miss"),
		// r0: the stats value.
		asm.Mov.Reg(asm.R9, asm.R0).WithSymbol("have_stats"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R9, asm.R1, asm.DWord), // calls at offset 0
		asm.LoadMem(asm.R1, asm.RFP, -48, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.R9),
		asm.Add.Imm(asm.R2, offSum),
		asm.StoreXAdd(asm.R2, asm.R1, asm.DWord),
		// errors: the C int return value is negative.
		asm.LoadMem(asm.R1, rCtx, regAX, asm.DWord),
		asm.LSh.Imm(asm.R1, 32),
		asm.ArSh.Imm(asm.R1, 32),
		asm.JSGE.Imm(asm.R1, 0, "bucket"),
		asm.Mov.Reg(asm.R2, asm.R9),
		asm.Add.Imm(asm.R2, offErrors),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R2, asm.R1, asm.DWord),
		// bucket = bit length of the duration (r1), in r2.
		asm.LoadMem(asm.R1, asm.RFP, -48, asm.DWord).WithSymbol("bucket"),
		asm.Mov.Imm(asm.R2, 0),
	)
	for _, sh := range []int32{32, 16, 8, 4, 2, 1} {
		lbl := fmt.Sprintf("bl%d", sh)
		insns = append(insns,
			asm.Mov.Reg(asm.R3, asm.R1),
			asm.RSh.Imm(asm.R3, sh),
			asm.JEq.Imm(asm.R3, 0, lbl),
			asm.Mov.Reg(asm.R1, asm.R3),
			asm.Add.Imm(asm.R2, sh),
			asm.Mov.Imm(asm.R3, 0).WithSymbol(lbl),
		)
	}
	insns = append(insns,
		asm.Add.Reg(asm.R2, asm.R1), // the last bit (0 or 1)
		asm.And.Imm(asm.R2, nBuckets-1),
		asm.LSh.Imm(asm.R2, 3),
		asm.Mov.Reg(asm.R3, asm.R9),
		asm.Add.Imm(asm.R3, offHist),
		asm.Add.Reg(asm.R3, asm.R2),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R3, asm.R1, asm.DWord),
		// threads[{fn, slot, tid}]++
		asm.StoreMem(asm.RFP, -64, rFn, asm.Word),
		asm.LoadMem(asm.R1, asm.RFP, -24, asm.DWord),
		asm.StoreMem(asm.RFP, -60, asm.R1, asm.Word),
		asm.StoreMem(asm.RFP, -56, rTID, asm.Word),
		asm.StoreImm(asm.RFP, -52, 0, asm.Word),
	)
	insns = append(insns, lookup(m.threads, -64)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "new_thread"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Ja.Label("traced"),
		storeImm64(-72, 1).WithSymbol("new_thread"),
	)
	insns = append(insns, update(m.threads, -64, -72, 0)...)
	insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("traced"))
	if trace {
		// event {u32 kind, u32 tid, u32 fn, u32 slot, u64 start, u64 end,
		// i64 ret, u64 trace_hi, u64 trace_lo, u64 addr} at fp-136.
		insns = append(insns,
			asm.StoreImm(asm.RFP, -136, evCall, asm.Word),
			asm.StoreMem(asm.RFP, -132, rTID, asm.Word),
			asm.StoreMem(asm.RFP, -128, rFn, asm.Word),
			asm.LoadMem(asm.R1, asm.RFP, -24, asm.DWord),
			asm.StoreMem(asm.RFP, -124, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, asm.RFP, -32, asm.DWord),
			asm.StoreMem(asm.RFP, -120, asm.R1, asm.DWord),
			asm.LoadMem(asm.R2, asm.RFP, -48, asm.DWord),
			asm.Add.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.RFP, -112, asm.R1, asm.DWord),
			asm.LoadMem(asm.R1, rCtx, regAX, asm.DWord),
			asm.StoreMem(asm.RFP, -104, asm.R1, asm.DWord),
			storeImm64(-96, 0),
			storeImm64(-88, 0),
			storeImm64(-80, 0),
		)
		insns = append(insns, ringbufOut(m, -136)...)
	}
	insns = append(insns,
		asm.Ja.Label("out"),
		// r1: the counter to bump.
		asm.StoreMem(asm.RFP, -72, asm.R1, asm.Word).WithSymbol("count_miss"),
	)
	insns = append(insns, bumpCounter(m, -72, "miss")...)
	return append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())
}

// ringbufOut emits bpf_ringbuf_output(events, fp+off, 64, 0) and counts a
// failure in counterDropped.
func ringbufOut(m *bpfMaps, off int16) asm.Instructions {
	out := asm.Instructions{asm.LoadMapPtr(asm.R1, m.events.FD())}
	out = append(out, stackPtr(asm.R2, off)...)
	out = append(out,
		asm.Mov.Imm(asm.R3, eventSize),
		asm.Mov.Imm(asm.R4, 0),
		call(asm.FnRingbufOutput),
		asm.JEq.Imm(asm.R0, 0, "rb_ok"),
		asm.StoreImm(asm.RFP, off, counterDropped, asm.Word),
	)
	out = append(out, bumpCounter(m, off, "rb")...)
	return append(out, asm.Mov.Imm(asm.R0, 0).WithSymbol("rb_ok"))
}

// bumpCounter emits counters[*(u32 *)(fp+keyOff)]++; labels are made
// unique with tag.
func bumpCounter(m *bpfMaps, keyOff int16, tag string) asm.Instructions {
	out := lookup(m.counters, keyOff)
	return append(out,
		asm.JEq.Imm(asm.R0, 0, "cnt_done_"+tag),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("cnt_done_"+tag),
	)
}

// guardEntryInsns is the uprobe of cg_call_fast(fn, arg, slot<<8|mode).
//
//	fp-8:  guard_cur key {u32 tid, u32 0}
//	fp-24: saved key {u32 tid, u32 0, u64 sp}
//	fp-32: previous slot+1
//	fp-40: this call's slot+1
//	fp-48: direct key: fn address
func guardEntryInsns(m *bpfMaps) asm.Instructions {
	insns := tidPrologue()
	insns = append(insns,
		storeImm64(-8, 0),
		asm.StoreMem(asm.RFP, -8, rTID, asm.Word),
		storeImm64(-24, 0),
		asm.StoreMem(asm.RFP, -24, rTID, asm.Word),
		asm.LoadMem(asm.R1, rCtx, regSP, asm.DWord),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		storeImm64(-32, 0),
		// slot+1 = (slotmode >> 8) + 1 on the 32-bit int (slot -1: none).
		asm.LoadMem(asm.R1, rCtx, regDX, asm.DWord),
		asm.LSh.Imm(asm.R1, 32),
		asm.ArSh.Imm(asm.R1, 40),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.RFP, -40, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rCtx, regDI, asm.DWord),
		asm.StoreMem(asm.RFP, -48, asm.R1, asm.DWord),
	)
	insns = append(insns, lookup(m.guardCur, -8)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "no_prev"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("no_prev"),
	)
	insns = append(insns, update(m.guardSaved, -24, -32, 0)...)
	insns = append(insns, update(m.guardCur, -8, -40, 0)...)
	insns = append(insns, update(m.direct, -48, -40, 0)...)
	return append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return())
}

// guardReturnInsns is the uretprobe of cg_call_fast: it restores the
// thread's enclosing guarded call (0 when none).
//
//	fp-8:  guard_cur key; fp-24: saved key; fp-32: the value to restore
func guardReturnInsns(m *bpfMaps) asm.Instructions {
	insns := tidPrologue()
	insns = append(insns,
		storeImm64(-8, 0),
		asm.StoreMem(asm.RFP, -8, rTID, asm.Word),
		storeImm64(-24, 0),
		asm.StoreMem(asm.RFP, -24, rTID, asm.Word),
		asm.LoadMem(asm.R1, rCtx, regSP, asm.DWord),
		asm.Sub.Imm(asm.R1, retPop),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		storeImm64(-32, 0),
	)
	insns = append(insns, lookup(m.guardSaved, -24)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "restore"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
	)
	insns = append(insns, deleteKey(m.guardSaved, -24)...)
	insns = append(insns, asm.LoadMem(asm.R1, asm.RFP, -32, asm.DWord).WithSymbol("restore"))
	insns = append(insns, asm.JEq.Imm(asm.R1, 0, "clear"))
	insns = append(insns, update(m.guardCur, -8, -32, 0)...)
	insns = append(insns, asm.Ja.Label("done"))
	insns = append(insns, labeled("clear", deleteKey(m.guardCur, -8))...)
	return append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("done"), asm.Return())
}

// spanEntryInsns is the uprobe of cg_call(fn, arg, slot, mode, trace_hi,
// trace_lo), the entry of guarded calls that carry a trace id.
//
//	fp-16: key {u32 tid, u32 0, u64 sp}
//	fp-56: value {u64 start, u64 hi, u64 lo, u64 fn, u64 slot+1}
func spanEntryInsns(m *bpfMaps) asm.Instructions {
	insns := tidPrologue()
	insns = append(insns,
		storeImm64(-16, 0),
		asm.StoreMem(asm.RFP, -16, rTID, asm.Word),
		asm.LoadMem(asm.R1, rCtx, regSP, asm.DWord),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rCtx, regR8, asm.DWord),
		asm.StoreMem(asm.RFP, -48, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rCtx, regR9, asm.DWord),
		asm.StoreMem(asm.RFP, -40, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rCtx, regDI, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rCtx, regDX, asm.DWord),
		asm.LSh.Imm(asm.R1, 32),
		asm.ArSh.Imm(asm.R1, 32),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.RFP, -24, asm.R1, asm.DWord),
		call(asm.FnKtimeGetNs),
		asm.StoreMem(asm.RFP, -56, asm.R0, asm.DWord),
	)
	insns = append(insns, update(m.spans, -16, -56, 0)...)
	return append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return())
}

// spanReturnInsns is the uretprobe of cg_call: one evGuard event.
//
//	fp-16: key; fp-80: event (64 bytes)
func spanReturnInsns(m *bpfMaps) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		call(asm.FnKtimeGetNs),
		asm.Mov.Reg(rT, asm.R0),
		call(asm.FnGetCurrentPidTgid),
		asm.Mov.Reg32(rTID, asm.R0),
		storeImm64(-16, 0),
		asm.StoreMem(asm.RFP, -16, rTID, asm.Word),
		asm.LoadMem(asm.R1, rCtx, regSP, asm.DWord),
		asm.Sub.Imm(asm.R1, retPop),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
	}
	insns = append(insns, lookup(m.spans, -16)...)
	insns = append(insns,
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreImm(asm.RFP, -80, evGuard, asm.Word),
		asm.StoreMem(asm.RFP, -76, rTID, asm.Word),
		asm.StoreImm(asm.RFP, -72, 0, asm.Word),
		asm.LoadMem(asm.R1, asm.R0, 32, asm.DWord), // slot+1
		asm.StoreMem(asm.RFP, -68, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), // start
		asm.StoreMem(asm.RFP, -64, asm.R1, asm.DWord),
		asm.StoreMem(asm.RFP, -56, rT, asm.DWord),   // end
		asm.LoadMem(asm.R1, rCtx, regAX, asm.DWord), // cg_ret: rc | status<<32
		asm.StoreMem(asm.RFP, -48, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord),
		asm.StoreMem(asm.RFP, -40, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 16, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 24, asm.DWord),
		asm.StoreMem(asm.RFP, -24, asm.R1, asm.DWord),
	)
	insns = append(insns, deleteKey(m.spans, -16)...)
	insns = append(insns, ringbufOut(m, -80)...)
	return append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())
}

// rawEvent is an event as the ring buffer carries it.
type rawEvent struct {
	kind, tid, fn, slot1 uint32
	start, end           uint64
	ret                  int64
	traceHi, traceLo     uint64
	addr                 uint64
}

func decodeEvent(b []byte) (rawEvent, bool) {
	if len(b) < eventSize {
		return rawEvent{}, false
	}
	le := binary.LittleEndian
	return rawEvent{
		kind: le.Uint32(b[0:]), tid: le.Uint32(b[4:]), fn: le.Uint32(b[8:]), slot1: le.Uint32(b[12:]),
		start: le.Uint64(b[16:]), end: le.Uint64(b[24:]), ret: int64(le.Uint64(b[32:])),
		traceHi: le.Uint64(b[40:]), traceLo: le.Uint64(b[48:]), addr: le.Uint64(b[56:]),
	}, true
}
