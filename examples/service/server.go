package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard/examples/service/zlib"
)

// maxBody bounds request and inflated sizes.
const maxBody = 8 << 20

// server holds the service's registry and C call metrics. The metric names
// are those of cgoguard's observe package, so the same checklist reads
// either.
type server struct {
	reg      *prometheus.Registry
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ready    atomic.Bool
}

func newServer() (*server, error) {
	s := &server{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cgoguard_calls_total", Help: "C calls by module and outcome.",
		}, []string{"module", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cgoguard_call_duration_seconds", Help: "Duration of C calls.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10),
		}, []string{"module"}),
	}
	for _, o := range []string{"ok", "error"} {
		s.calls.WithLabelValues("zlib", o)
	}
	if err := s.reg.Register(s.calls); err != nil {
		return nil, err
	}
	if err := s.reg.Register(s.duration); err != nil {
		return nil, err
	}
	if err := s.reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	return s, nil
}

// call runs one C call, counting its outcome and timing it.
func (s *server) call(fn func() error) error {
	start := time.Now()
	err := fn()
	s.duration.WithLabelValues("zlib").Observe(time.Since(start).Seconds())
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.calls.WithLabelValues("zlib", outcome).Inc()
	return err
}

func (s *server) selfTest() error {
	in := bytes.Repeat([]byte("self-test "), 64)
	var z, out []byte
	if err := s.call(func() (err error) { z, err = zlib.Compress(in, zlib.DefaultLevel); return err }); err != nil {
		return err
	}
	if err := s.call(func() (err error) { out, err = zlib.Decompress(z, len(in)); return err }); err != nil {
		return err
	}
	if !bytes.Equal(in, out) {
		return errors.New("cgoguard: zlib round trip changed the data")
	}
	s.ready.Store(true)
	return nil
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "modules": map[string]string{"zlib": "self-test pending"}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "modules": map[string]string{"zlib": "closed"}, "zlib": zlib.Version()})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /compress", func(w http.ResponseWriter, r *http.Request) {
		in, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		var z []byte
		if err := s.call(func() (err error) { z, err = zlib.Compress(in, zlib.DefaultLevel); return err }); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/zlib")
		_, _ = w.Write(z)
	})
	mux.HandleFunc("POST /decompress", func(w http.ResponseWriter, r *http.Request) {
		in, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		var out []byte
		if err := s.call(func() (err error) { out, err = zlib.Decompress(in, maxBody); return err }); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(out)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
