//go:build cgo

package observe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/cmem"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

func newTracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, sr
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

func TestTracingTraceIDSeenByC(t *testing.T) {
	tp, sr := newTracer(t)
	m := newModule(t, "", observe.Tracing(tp))
	buf, err := cmem.Malloc(33)
	if err != nil {
		t.Fatal(err)
	}
	defer cmem.Free(buf)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	rc, err := m.Call(ctx, cfixture.TraceID, buf)
	parent.End()
	if err != nil || rc != 1 {
		t.Fatalf("Call(TraceID) = %d, %v; want 1 (a trace id was visible)", rc, err)
	}
	fromC := cmem.GoString(buf)
	spans := sr.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans ended, want 2", len(spans))
	}
	call := spans[0]
	if call.Name() != "cgoguard.call "+m.Name() {
		t.Errorf("span name %q", call.Name())
	}
	if got := call.SpanContext().TraceID().String(); got != fromC {
		t.Errorf("trace id seen by C %q, span's %q", fromC, got)
	}
	if call.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("call span's parent %v, want the request span %v", call.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	a := attrs(call)
	if a[observe.AttrModule].AsString() != m.Name() || a[observe.AttrOutcome].AsString() != "ok" || a[observe.AttrRC].AsInt64() != 1 {
		t.Errorf("attributes %v", a)
	}
	if call.Status().Code != codes.Unset {
		t.Errorf("status %v for a successful call", call.Status())
	}
}

func TestTracingOutcomes(t *testing.T) {
	tp, sr := newTracer(t)
	m := newModule(t, "", observe.Tracing(tp, observe.WithTraceFrames(3)))
	tm := newModule(t, "_timeout", observe.Tracing(tp), cgoguard.WithTimeout(100*time.Millisecond))
	enoent := cInt(t, 2)

	callN(t, m, 1, cfixture.Errno, enoent)
	callN(t, m, 1, cfixture.Segv, cfixture.BadAddress())
	wait := timeoutCall(t, tm, 500)
	defer wait()
	// A rejected call never enters C and makes no span (the calls metric
	// counts it).
	if err := callN(t, m, 1, cfixture.Empty, nil); cgoguard.OutcomeOf(err) != cgoguard.OutcomeRejected {
		t.Fatalf("call on the quarantined module: %v", err)
	}

	spans := sr.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	tests := []struct {
		name    string
		outcome string
		check   func(t *testing.T, a map[attribute.Key]attribute.Value)
	}{
		{"error", "error", func(t *testing.T, a map[attribute.Key]attribute.Value) {
			if a[observe.AttrRC].AsInt64() != -2 || a[observe.AttrErrno].AsInt64() != 2 {
				t.Errorf("rc %v errno %v, want -2 and 2", a[observe.AttrRC], a[observe.AttrErrno])
			}
		}},
		{"crash", "crash", func(t *testing.T, a map[attribute.Key]attribute.Value) {
			if got := a[observe.AttrCrashSignal].AsString(); got != "SIGSEGV" {
				t.Errorf("signal %q", got)
			}
			if got := a[observe.AttrCrashAddr].AsString(); got != "0xdead0000" {
				t.Errorf("addr %q, want 0xdead0000", got)
			}
			if got := a[observe.AttrCrashCode].AsString(); got != "SEGV_MAPERR" {
				t.Errorf("code %q", got)
			}
			if !strings.HasPrefix(a[observe.AttrCrashPC].AsString(), "0x") {
				t.Errorf("pc %q", a[observe.AttrCrashPC].AsString())
			}
			frames := a[observe.AttrCrashFrames].AsStringSlice()
			if len(frames) == 0 || len(frames) > 3 || !strings.HasPrefix(frames[0], "fx_segv+") {
				t.Errorf("frames %q: want at most 3, innermost fx_segv", frames)
			}
			if _, ok := a[observe.AttrRC]; ok {
				t.Errorf("a crash carries no rc")
			}
		}},
		{"timeout", "timeout", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spans[i]
			a := attrs(s)
			if got := a[observe.AttrOutcome].AsString(); got != tt.outcome {
				t.Errorf("outcome %q, want %q", got, tt.outcome)
			}
			if s.Status().Code != codes.Error || s.Status().Description == "" {
				t.Errorf("status %+v, want Error with the message", s.Status())
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

func TestTracingOffNoTraceID(t *testing.T) {
	buf, err := cmem.Malloc(33)
	if err != nil {
		t.Fatal(err)
	}
	defer cmem.Free(buf)
	sr := tracetest.NewSpanRecorder()
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(sr))
	defer never.Shutdown(context.Background())
	tests := []struct {
		name string
		opts []cgoguard.Option
	}{
		{"no tracer", nil},
		{"noop provider", []cgoguard.Option{observe.Tracing(noop.NewTracerProvider())}},
		{"sampled out", []cgoguard.Option{observe.Tracing(never)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModule(t, "", tt.opts...)
			// Unsampled spans still carry a valid trace id, which C sees; a
			// noop provider or no tracer gives none.
			rc, err := m.Call(context.Background(), cfixture.TraceID, buf)
			if err != nil {
				t.Fatal(err)
			}
			s := cmem.GoString(buf)
			if tt.name == "sampled out" {
				if rc != 1 || len(s) != 32 {
					t.Errorf("sampled-out span: rc %d id %q, want the trace id", rc, s)
				}
			} else if rc != 0 || s != "" {
				t.Errorf("rc %d id %q, want 0 and \"\"", rc, s)
			}
		})
	}
	if n := len(sr.Ended()); n != 0 {
		t.Errorf("%d spans recorded, want 0", n)
	}
}

func TestTracingBadInput(t *testing.T) {
	tests := []struct {
		name string
		opt  cgoguard.Option
		want string
	}{
		{"nil provider", observe.Tracing(nil), "nil TracerProvider"},
		{"negative frames", observe.Tracing(noop.NewTracerProvider(), observe.WithTraceFrames(-1)), "negative count -1"},
		{"nil option", observe.Tracing(noop.NewTracerProvider(), nil), "option 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cgoguard.New("bad-"+strings.ReplaceAll(tt.name, " ", "-"), tt.opt)
			if err == nil {
				m.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestObserveOffCallPath checks that observe, with metrics registered and
// scraped and the status file running, adds no allocation to a call of a
// module without Tracing: the call path is the root package's own.
func TestObserveOffCallPath(t *testing.T) {
	ctx := context.Background()
	allocs := func(m *cgoguard.Module) float64 {
		return testing.AllocsPerRun(2000, func() {
			if _, err := m.Call(ctx, cfixture.Empty, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	base := allocs(newModule(t, "_base"))
	if base != 0 {
		t.Errorf("the root package's fast path allocates %v times per call, want 0", base)
	}
	reg := newRegistry(t)
	w, err := observe.StartStatus(observe.WithStatusDir(t.TempDir()), observe.WithStatusInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	m := newModule(t, "")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // scrape while the calls run
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				reg.Gather()
			}
		}
	}()
	got := allocs(m)
	close(stop)
	<-done
	if got != base {
		t.Errorf("with observe active a call allocates %v times, the bare call %v", got, base)
	}
}
