// Command service is a small HTTP service that embeds a C library, the
// system's zlib, and exposes what the cgo reliability checklist looks at:
// /healthz, /readyz and Prometheus /metrics with the C calls counted.
//
//	go run ./examples/service -addr 127.0.0.1:8080
//	curl --data-binary @file http://127.0.0.1:8080/compress > file.z
//
// It prints "listening on HOST:PORT" once it accepts connections (with
// -addr 127.0.0.1:0 the port is chosen by the system), which is how a
// checklist's http and metric checks find it.
//
// What a service embedding C should copy from it: the guarded module
// (package zlib), a limit on the requests that hold buffers and call into C
// (-max-inflight; taken before the body is read), buffers sized from the
// input with a cap, the HTTP server's read, write and idle timeouts with a
// bounded request body, and a graceful shutdown that gives requests in
// flight a few seconds and then closes what is left.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/cgoguard/cgoguard/observe"
)

func main() {
	cfg := defaultConfig()
	flag.StringVar(&cfg.addr, "addr", cfg.addr, "listen `address`")
	flag.IntVar(&cfg.maxInflight, "max-inflight", cfg.maxInflight, "at most `N` compress and decompress requests at once")
	flag.Parse()
	if cfg.maxInflight < 1 {
		log.Fatal("-max-inflight must be at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves on cfg.addr until ctx ends, publishing the module states in
// the process's status file meanwhile, then shuts down gracefully.
func run(ctx context.Context, cfg config, stdout io.Writer) error {
	s, err := newServer(cfg)
	if err != nil {
		return err
	}
	// A self-test through the guarded path before declaring readiness: a
	// broken C library fails here, not on the first request.
	if err := s.selfTest(); err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	// The status file names the process's modules for cgoguard status and
	// cgoguard probe.
	status, err := observe.StartStatus()
	if err != nil {
		return err
	}
	defer status.Stop()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: cfg.readHeaderTimeout,
		ReadTimeout:       cfg.readTimeout,
		WriteTimeout:      cfg.writeTimeout,
		IdleTimeout:       cfg.idleTimeout,
	}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if err := shutdown(srv, cfg.shutdownGrace); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
