package observe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/cgoguard/cgoguard"
)

// InstrumentationName is the name of the tracer that Tracing asks its
// TracerProvider for.
const InstrumentationName = "github.com/cgoguard/cgoguard/observe"

// Span attribute keys set by Tracing.
const (
	AttrModule      = attribute.Key("cgoguard.module")       // string: the module's name
	AttrOutcome     = attribute.Key("cgoguard.outcome")      // string: ok, error, crash, timeout, rejected
	AttrRC          = attribute.Key("cgoguard.rc")           // int: the C function's return value (not for crashes, timeouts, rejections)
	AttrCrashSignal = attribute.Key("cgoguard.crash.signal") // string: "SIGSEGV"
	AttrCrashCode   = attribute.Key("cgoguard.crash.code")   // string: si_code name, "SEGV_MAPERR"
	AttrCrashAddr   = attribute.Key("cgoguard.crash.addr")   // string: faulting address, "0xdead0000"
	AttrCrashPC     = attribute.Key("cgoguard.crash.pc")     // string: faulting instruction, "0x4a1b2c"
	AttrCrashFrames = attribute.Key("cgoguard.crash.frames") // string slice: top C frames, innermost first
	AttrErrno       = attribute.Key("cgoguard.errno")        // int: errno of a C error, when set
)

// TraceOption configures Tracing.
type TraceOption func(*traceConfig) error

type traceConfig struct {
	frames int
}

// DefaultTraceFrames is how many C frames a crash span carries by default.
const DefaultTraceFrames = 8

func defaultTraceConfig() traceConfig { return traceConfig{frames: DefaultTraceFrames} }

// WithTraceFrames sets how many of the top C frames a crash span carries in
// cgoguard.crash.frames (n >= 0; 0 leaves the attribute out). Default
// DefaultTraceFrames (8).
func WithTraceFrames(n int) TraceOption {
	return func(c *traceConfig) error {
		if n < 0 {
			return fmt.Errorf("cgoguard: observe.WithTraceFrames: negative count %d", n)
		}
		c.frames = n
		return nil
	}
}

// Tracing returns a cgoguard.Option for New that makes one span per guarded
// call of the module, a child of the span in the call's context. The span,
// named "cgoguard.call <module>", carries the module, the outcome, the
// return value and, for a crash, the signal, the faulting address and PC
// and the top C frames; a failed call sets the span's status to Error. While
// the call runs, C code reads the span's trace id with cg_trace_id.
//
// Without this option (the default) calls make no span and pay nothing.
// With it, calls leave the module's allocation-free fast path.
func Tracing(tp trace.TracerProvider, opts ...TraceOption) cgoguard.Option {
	cfg := defaultTraceConfig()
	var err error
	if tp == nil {
		err = errors.New("cgoguard: observe.Tracing: nil TracerProvider")
	}
	for i, o := range opts {
		if err != nil {
			break
		}
		if o == nil {
			err = fmt.Errorf("cgoguard: observe.Tracing: option %d is nil", i)
			break
		}
		err = o(&cfg)
	}
	if err != nil {
		return failingOption(cgoguard.WithObserver(nil), err)
	}
	return cgoguard.WithObserver(&tracer{t: tp.Tracer(InstrumentationName), cfg: cfg})
}

// tracer is the cgoguard.Observer behind Tracing.
type tracer struct {
	t     trace.Tracer
	cfg   traceConfig
	start sync.Map // module name -> *spanStart
}

// spanStart is what starting a module's span takes, built once per module
// so that CallStart does not allocate it on every call.
type spanStart struct {
	name string
	opts []trace.SpanStartOption
}

func (t *tracer) spanStart(module string) *spanStart {
	if v, ok := t.start.Load(module); ok {
		return v.(*spanStart)
	}
	v, _ := t.start.LoadOrStore(module, &spanStart{
		name: "cgoguard.call " + module,
		opts: []trace.SpanStartOption{
			trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(AttrModule.String(module)),
		},
	})
	return v.(*spanStart)
}

func (t *tracer) CallStart(ctx context.Context, module string) ([16]byte, bool, any) {
	st := t.spanStart(module)
	_, span := t.t.Start(ctx, st.name, st.opts...)
	sc := span.SpanContext()
	return sc.TraceID(), sc.IsValid(), span
}

func (t *tracer) CallEnd(token any, outcome cgoguard.Outcome, rc int, err error) {
	span, ok := token.(trace.Span)
	if !ok {
		return
	}
	defer span.End()
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(AttrOutcome.String(string(outcome)))
	switch outcome {
	case cgoguard.OutcomeOK, cgoguard.OutcomeError:
		span.SetAttributes(AttrRC.Int(rc))
	}
	var ce *cgoguard.CrashError
	if errors.As(err, &ce) {
		attrs := []attribute.KeyValue{
			AttrCrashSignal.String(cgoguard.SignalName(ce.Signal)),
			AttrCrashCode.String(cgoguard.CodeName(ce.Signal, ce.Code)),
			AttrCrashAddr.String("0x" + strconv.FormatUint(uint64(ce.Addr), 16)),
			AttrCrashPC.String("0x" + strconv.FormatUint(uint64(ce.PC), 16)),
		}
		if n := min(len(ce.Frames), t.cfg.frames); n > 0 {
			frames := make([]string, n)
			for i := range frames {
				frames[i] = ce.Frames[i].String()
			}
			attrs = append(attrs, AttrCrashFrames.StringSlice(frames))
		}
		span.SetAttributes(attrs...)
	}
	var cerr *cgoguard.CError
	if errors.As(err, &cerr) && cerr.Errno != 0 {
		span.SetAttributes(AttrErrno.Int(int(cerr.Errno)))
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
}

// failingOption returns an option of the same type as like that makes New
// fail with err. (cgoguard.Option's parameter type is unexported: type
// inference names it here.)
func failingOption[T any](like func(T) error, err error) func(T) error {
	_ = like
	return func(T) error { return err }
}
