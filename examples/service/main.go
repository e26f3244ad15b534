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
	"time"

	"github.com/cgoguard/cgoguard/observe"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr until ctx ends, publishing the module states in the
// process's status file meanwhile.
func run(ctx context.Context, addr string, stdout io.Writer) error {
	s, err := newServer()
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
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
