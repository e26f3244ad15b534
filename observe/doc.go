// Package observe makes the C side of a Go program visible in the tools its
// operators already run: Prometheus metrics, OpenTelemetry spans, health
// endpoints and a shared-memory status file that other processes read.
//
// # Metrics
//
// Register adds a collector to a prometheus.Registerer. It reads the
// counters of every open cgoguard module (and of packages cmem, arena and
// bridge) when scraped; nothing is counted on the call path by this
// package. The metric names are fixed:
//
//	cgoguard_calls_total{module,outcome}          counter (ok, error, crash, timeout, rejected)
//	cgoguard_call_duration_seconds{module}        histogram (modules created WithMetrics(MetricsHistogram))
//	cgoguard_crashes_total{module,signal}         counter (signal "SIGSEGV")
//	cgoguard_module_state{module,state}           gauge, 1 for the current state (closed, open, half_open, quarantined)
//	cgoguard_abandoned_calls{module}              gauge
//	cgoguard_inflight_calls{module}               gauge
//	cgoguard_cmem_live_bytes                      gauge
//	cgoguard_cmem_live_allocations                gauge
//	cgoguard_arena_used_bytes{arena}              gauge
//	cgoguard_bridge_messages_total{bridge,result} counter (delivered, dropped)
//
// No global registry is touched unless it is passed to Register.
//
// # Tracing
//
// Tracing(tp) is a cgoguard.Option that makes one span per guarded call
// (calls rejected before entering C make none), carrying the module, the
// outcome and, on a crash, the signal, address and top C frames. While the
// call runs, C code reads the trace id with cg_trace_id (cgoguard.h), so C
// logs can carry it. A module created without Tracing pays nothing.
//
// # Health
//
// HealthHandler serves /healthz, /readyz (503 while a module is quarantined
// or its breaker open, or a signal handler was taken; the JSON body says
// which and why) and /debug/cgoguard (a JSON Snapshot with each module's C
// code's own key/values, reported through cg_snapshot_register in
// cgoguard_observe.h).
//
// # Status file
//
// StartStatus publishes the module states and counters in
// /dev/shm/cgoguard-<pid>.status, a fixed layout under a sequence lock that
// other processes (cgoguard status, ReadStatus) and C code
// (cg_status_read) read without locks. Stop removes it; a file left by a
// process that died is reported as stale.
//
// # Example
//
//	reg := prometheus.NewRegistry()
//	if err := observe.Register(reg); err != nil {
//		log.Fatal(err)
//	}
//	zlib, err := cgoguard.New("zlib",
//		cgoguard.WithMetrics(cgoguard.MetricsHistogram),
//		observe.Tracing(otel.GetTracerProvider()))
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer zlib.Close()
//	status, err := observe.StartStatus()
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer status.Stop()
//	mux := http.NewServeMux()
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//	mux.Handle("/", observe.HealthHandler())
//	log.Fatal(http.ListenAndServe(":8080", mux))
//
// # Concurrency
//
// All exported functions and methods are safe to be used concurrently
// unless specified otherwise. The C functions of cgoguard_observe.h are
// thread-safe; snapshot callbacks run one at a time.
//
// Without cgo, the metrics, health endpoints and status file work (there
// are no modules to report), and the C snapshot and reader functions are
// absent (ReadStatus still works: it is Go).
package observe
