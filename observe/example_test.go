//go:build cgo

package observe_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

func ExampleRegister() {
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		panic(err)
	}
	m, err := cgoguard.New("example-register")
	if err != nil {
		panic(err)
	}
	defer m.Close()
	for i := 0; i < 3; i++ {
		m.Call(context.Background(), cfixture.Empty, nil)
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP cgoguard_inflight_calls Calls running in C now, timed-out ones included.
# TYPE cgoguard_inflight_calls gauge
cgoguard_inflight_calls{module="example-register"} 0
`), "cgoguard_inflight_calls")
	fmt.Println(err)
	n, _ := testutil.GatherAndCount(reg, "cgoguard_calls_total")
	fmt.Println(n, "outcome series")
	// Output:
	// <nil>
	// 5 outcome series
}

func ExampleTracing() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	m, err := cgoguard.New("example-tracing", observe.Tracing(tp))
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Call(context.Background(), cfixture.Empty, nil)
	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
		for _, a := range s.Attributes() {
			fmt.Println(a.Key, a.Value.Emit())
		}
	}
	// Output:
	// cgoguard.call example-tracing
	// cgoguard.module example-tracing
	// cgoguard.outcome ok
	// cgoguard.rc 0
}

func ExampleHealthHandler() {
	m, err := cgoguard.New("example-health")
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Call(context.Background(), cfixture.Segv, cfixture.BadAddress())

	rec := httptest.NewRecorder()
	observe.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code)
	m.Reset()
	rec = httptest.NewRecorder()
	observe.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	fmt.Println(rec.Code)
	// Output:
	// 503
	// 200
}

func ExampleStartStatus() {
	dir, _ := os.MkdirTemp("", "status")
	defer os.RemoveAll(dir)
	m, err := cgoguard.New("example-status")
	if err != nil {
		panic(err)
	}
	defer m.Close()
	m.Call(context.Background(), cfixture.Empty, nil)

	w, err := observe.StartStatus(observe.WithStatusDir(dir))
	if err != nil {
		panic(err)
	}
	defer w.Stop()
	s, err := observe.ReadStatus(dir, os.Getpid())
	if err != nil {
		panic(err)
	}
	for _, ms := range s.Modules {
		fmt.Println(ms.Name, ms.StateName, ms.OK, s.Stale)
	}
	// Output:
	// example-status serving 1 false
}
