package probe

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// clockMarkSymbol names clockMark in errors.
const clockMarkSymbol = "github.com/cgoguard/cgoguard/probe.clockMark"

var markSink int

// clockMark is what MeasureClock sets its uprobe on. A uprobe (not a
// uretprobe) is safe on Go code: it leaves the stack alone.
//
//go:noinline
func clockMark(i int) { markSink = i }

// MeasureClock measures the offset between bpf_ktime_get_ns and Go's
// monotonic clock in this process: it sets a uprobe on one of its own
// functions, calls it samples times between two readings of Go's clock, and
// intersects the ranges the kernel's timestamps allow. It needs the same
// permissions as Open.
func MeasureClock(samples int) (ClockOffset, error) {
	if samples < 1 {
		return ClockOffset{}, fmt.Errorf("cgoguard: probe.MeasureClock: %d samples", samples)
	}
	pid := os.Getpid()
	if err := supportedArch(); err != nil {
		return ClockOffset{}, &AttachError{PID: pid, Op: "check", Kind: ErrNotSupported, Err: err}
	}
	if err := uprobeSupport(); err != nil {
		return ClockOffset{}, &AttachError{PID: pid, Op: "check", Kind: ErrNotSupported, Err: err}
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "cgp_clock", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return ClockOffset{}, classify(pid, "create maps", "", err)
	}
	defer m.Close()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "cgp_clock", Type: ebpf.Kprobe, License: "Dual MIT/GPL",
		Instructions: asm.Instructions{
			call(asm.FnKtimeGetNs),
			asm.Mov.Reg(asm.R6, asm.R0),
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			call(asm.FnMapLookupElem),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.StoreMem(asm.R0, 0, asm.R6, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		},
	})
	if err != nil {
		return ClockOffset{}, classify(pid, "load programs", "", err)
	}
	defer prog.Close()
	// The function's address, as a file offset of the executable: no
	// symbol table needed (go test and go run strip it).
	pc := uint64(reflect.ValueOf(clockMark).Pointer())
	maps, err := readMaps(pid)
	if err != nil {
		return ClockOffset{}, fmt.Errorf("cgoguard: probe.MeasureClock: %w", err)
	}
	var off uint64
	var exe string
	for _, mp := range maps {
		if pc >= mp.start && pc < mp.end {
			off, exe = pc-mp.start+mp.off, mp.path
		}
	}
	if exe == "" {
		return ClockOffset{}, fmt.Errorf("cgoguard: probe.MeasureClock: no executable mapping holds %#x", pc)
	}
	ex, err := link.OpenExecutable("/proc/self/exe")
	if err != nil {
		return ClockOffset{}, classify(pid, "open", exe, err)
	}
	up, err := ex.Uprobe(clockMarkSymbol, prog, &link.UprobeOptions{PID: pid, Address: off})
	if err != nil {
		return ClockOffset{}, classify(pid, "attach uprobe to", clockMarkSymbol, err)
	}
	defer up.Close()
	res := ClockOffset{Low: -1 << 62, High: 1 << 62, Window: 1 << 62, RealtimeMinusMonotonic: realtimeMinusMonotonic()}
	zero := uint32(0)
	for i := 0; i < samples; i++ {
		var k uint64
		if err := m.Update(&zero, &k, ebpf.UpdateAny); err != nil {
			return ClockOffset{}, err
		}
		t0 := nanotime()
		clockMark(i)
		t1 := nanotime()
		if err := m.Lookup(&zero, &k); err != nil {
			return ClockOffset{}, err
		}
		if k == 0 {
			return ClockOffset{}, errors.New("cgoguard: probe.MeasureClock: the uprobe did not fire")
		}
		res.Low = max(res.Low, time.Duration(int64(k)-t1))
		res.High = min(res.High, time.Duration(int64(k)-t0))
		res.Window = min(res.Window, time.Duration(t1-t0))
		res.Samples++
	}
	res.Consistent = res.Low <= res.High
	res.Offset = (res.Low + res.High) / 2
	res.Uncertainty = (res.High - res.Low) / 2
	if res.Uncertainty < 0 {
		res.Uncertainty = -res.Uncertainty
	}
	return res, nil
}
