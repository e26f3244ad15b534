package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/examples/service/zlib"
	"github.com/cgoguard/cgoguard/observe"
)

// maxBody bounds request and inflated sizes.
const maxBody = 8 << 20

// server holds the service's registry. The C calls go through the guarded
// module of package zlib; package observe reads its counters at scrape time
// and serves the health endpoints.
type server struct {
	cfg   config
	reg   *prometheus.Registry
	ready atomic.Bool
	limit chan struct{} // places for requests that call into C
}

func newServer(cfg config) (*server, error) {
	if _, err := zlib.Module(); err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, reg: prometheus.NewRegistry(), limit: make(chan struct{}, max(cfg.maxInflight, 1))}
	if err := observe.Register(s.reg); err != nil {
		return nil, err
	}
	if err := s.reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := s.reg.Register(chaos.Collector()); err != nil {
		return nil, err
	}
	return s, nil
}

// call runs one zlib call; the guarded module counts and times it.
func (s *server) call(fn func() error) error { return fn() }

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
	health := observe.HealthHandler()
	mux.Handle("GET /healthz", health)
	mux.Handle("GET /debug/cgoguard", health)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "modules": map[string]string{"zlib": "self-test pending"}})
			return
		}
		health.ServeHTTP(w, r)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	// Failpoints for red-blue experiments (cgoguard chaos run); writes need
	// the bearer token in CGOGUARD_ADMIN_TOKEN.
	failpoints := chaos.Handler()
	mux.Handle(chaos.DefaultAdminPath, failpoints)
	mux.Handle(chaos.DefaultAdminPath+"/", failpoints)
	mux.HandleFunc("POST /compress", s.limited(func(w http.ResponseWriter, r *http.Request) {
		in, ok := readBody(w, r)
		if !ok {
			return
		}
		var z []byte
		if err := s.call(func() (err error) { z, err = zlib.Compress(in, zlib.DefaultLevel); return err }); err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/zlib")
		_, _ = w.Write(z)
	}))
	mux.HandleFunc("POST /decompress", s.limited(func(w http.ResponseWriter, r *http.Request) {
		in, ok := readBody(w, r)
		if !ok {
			return
		}
		// The output buffer grows from the input's size up to maxBody.
		var out []byte
		if err := s.call(func() (err error) { out, err = zlib.Decompress(in, maxBody); return err }); err != nil {
			writeError(w, err)
			return
		}
		_, _ = w.Write(out)
	}))
	return mux
}

// errorStatus is the HTTP status for a failed zlib call: the client's
// fault only when zlib judged the data (400, or 413 for data that inflates
// past maxBody); a module that refuses calls for now (busy, breaker open,
// quarantined, closed) is 503, a call that outlived its deadline 504, and a
// crash in C, or any other failure, 500.
func errorStatus(err error) int {
	var ze *zlib.Error
	var crash *cgoguard.CrashError
	switch {
	case errors.As(err, &crash):
		return http.StatusInternalServerError
	case errors.As(err, &ze):
		switch ze.Code {
		case zlib.DataError:
			return http.StatusBadRequest
		case zlib.BufError:
			return http.StatusRequestEntityTooLarge
		}
	case errors.Is(err, cgoguard.ErrBusy), errors.Is(err, cgoguard.ErrOpen),
		errors.Is(err, cgoguard.ErrQuarantined), errors.Is(err, cgoguard.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, cgoguard.ErrTimeout):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// writeError answers a failed zlib call with errorStatus; a 503 says when
// to retry.
func writeError(w http.ResponseWriter, err error) {
	code := errorStatus(err)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, err.Error(), code)
}

// readBody reads a request body of at most maxBody bytes, answering 413
// for a larger one and 400 for one that could not be read (a client that
// stopped sending: the server's read timeout ends it).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	in, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return in, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
