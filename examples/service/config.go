package main

import (
	"context"
	"net/http"
	"time"
)

// config holds the service's limits; defaultConfig sets them in one place.
type config struct {
	addr string
	// maxInflight bounds the requests that hold zlib buffers and make C
	// calls at once; more wait up to queueWait for a place, then get 503.
	maxInflight int
	queueWait   time.Duration
	// The HTTP server's timeouts: reading the headers, reading the whole
	// request (a body trickled slower is cut off), writing the response,
	// and keeping an idle connection.
	readHeaderTimeout, readTimeout, writeTimeout, idleTimeout time.Duration
	// shutdownGrace is how long a shutdown waits for requests in flight
	// before it closes the connections left.
	shutdownGrace time.Duration
}

func defaultConfig() config {
	return config{
		addr:              "127.0.0.1:0",
		maxInflight:       32,
		queueWait:         time.Second,
		readHeaderTimeout: 5 * time.Second,
		readTimeout:       30 * time.Second,
		writeTimeout:      30 * time.Second,
		idleTimeout:       60 * time.Second,
		shutdownGrace:     5 * time.Second,
	}
}

// limited runs h while holding one of the server's maxInflight places. A
// request that finds no place within queueWait (or whose client goes away)
// gets 503 with Retry-After: the place is taken before the body is read
// or any buffer allocated, so the limit bounds the service's memory.
func (s *server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(s.cfg.queueWait)
		defer t.Stop()
		select {
		case s.limit <- struct{}{}:
		case <-t.C:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy: too many requests in flight", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			return
		}
		defer func() { <-s.limit }()
		h(w, r)
	}
}

// shutdown stops srv gracefully: no new connections, idle ones closed,
// requests in flight given up to grace to finish; then the connections
// left (a client stuck sending a slow body) are closed.
func shutdown(srv *http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}
