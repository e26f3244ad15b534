package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/isolate"
	"github.com/cgoguard/cgoguard/observe"
)

const (
	// maxBody bounds request and inflated sizes.
	maxBody = 1 << 20
	// bufSlots is how many calls may have their buffers in the arena at
	// once; more wait for a free slot.
	bufSlots = 8
	// slotSize is the arena room of one slot: the request, the input and
	// the output (at most zlib's bound of maxBody, which is below
	// maxBody + 64 KiB), with alignment padding.
	slotSize = 2*maxBody + 128<<10
)

// slot is one set of buffers in the pool's arena: the struct exz_req, the
// input and the output. The arena is a bump allocator, so the server
// carves its slots once and reuses them.
type slot struct {
	req     unsafe.Pointer
	in, out []byte
}

type server struct {
	mod   *cgoguard.Module
	pool  *isolate.Pool
	reg   *prometheus.Registry
	slots chan *slot
	ready atomic.Bool
}

func newServer(workers int) (*server, error) {
	m, p, err := newModule(workers)
	if err != nil {
		return nil, err
	}
	s := &server{mod: m, pool: p, reg: prometheus.NewRegistry(), slots: make(chan *slot, bufSlots)}
	a := p.Arena()
	for i := 0; i < bufSlots; i++ {
		_, req, err1 := a.Alloc(reqSize, 64)
		_, in, err2 := a.Alloc(maxBody, 64)
		_, out, err3 := a.Alloc(max(bound(maxBody), maxBody), 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			m.Close()
			return nil, err
		}
		s.slots <- &slot{req: unsafe.Pointer(&req[0]), in: in, out: out}
	}
	if err := observe.Register(s.reg); err != nil {
		m.Close()
		return nil, err
	}
	if err := s.reg.Register(collectors.NewGoCollector()); err != nil {
		m.Close()
		return nil, err
	}
	if err := s.reg.Register(chaos.Collector()); err != nil {
		m.Close()
		return nil, err
	}
	return s, nil
}

func (s *server) close() error { return s.mod.Close() }

// do runs one zlib operation with a buffer slot.
func (s *server) do(ctx context.Context, op string, in []byte) ([]byte, error) {
	var sl *slot
	select {
	case sl = <-s.slots:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { s.slots <- sl }()
	n, err := s.zcall(ctx, op, -1, sl, in)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(sl.out[:n]), nil
}

func (s *server) selfTest(ctx context.Context) error {
	in := bytes.Repeat([]byte("self-test "), 64)
	z, err := s.do(ctx, "compress", in)
	if err != nil {
		return err
	}
	out, err := s.do(ctx, "decompress", z)
	if err != nil {
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
	// Failpoints for red-blue experiments (cgoguard chaos run), acting in
	// the workers; writes need the bearer token in CGOGUARD_ADMIN_TOKEN.
	failpoints := chaos.Handler()
	mux.Handle("/debug/cgoguard/failpoints", failpoints)
	mux.Handle("/debug/cgoguard/failpoints/", failpoints)
	zlibOp := func(op string, status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			in, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
				return
			}
			out, err := s.do(r.Context(), op, in)
			var ce *cgoguard.CError
			switch {
			case errors.As(err, &ce):
				http.Error(w, err.Error(), status)
				return
			case err != nil:
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write(out)
		}
	}
	mux.HandleFunc("POST /compress", zlibOp("compress", http.StatusInternalServerError))
	mux.HandleFunc("POST /decompress", zlibOp("decompress", http.StatusBadRequest))
	mux.HandleFunc("POST /crash", func(w http.ResponseWriter, r *http.Request) {
		err := s.crash(r.Context())
		var ce *cgoguard.CrashError
		if !errors.As(err, &ce) {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": errString(err), "crashed": false})
			return
		}
		frames := []string{}
		for _, f := range ce.Frames {
			frames = append(frames, f.String())
		}
		writeJSON(w, http.StatusInternalServerError, map[string]any{
			"error":    err.Error(),
			"crashed":  true,
			"signal":   cgoguard.SignalName(ce.Signal),
			"frames":   frames,
			"restarts": s.pool.Restarts(isolate.ReasonCrash), // this one included
		})
	})
	return mux
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
