// Command isolated is the zlib service of examples/service with its C
// calls moved out of process: the same C wrappers (examples/service/zlib's
// exz_compress and exz_uncompress) run in the worker processes of an
// isolate pool (this binary, re-executed), so a crash in zlib kills a
// worker, not the service, and the worker is replaced.
//
//	go run ./examples/isolated -addr 127.0.0.1:8080
//	curl --data-binary @file http://127.0.0.1:8080/compress > file.z
//	curl -X POST http://127.0.0.1:8080/crash        # a worker dies of SIGSEGV inside zlib
//	curl --data-binary @file http://127.0.0.1:8080/compress > file.z   # still served
//
// It prints "listening on HOST:PORT" once it accepts connections. /metrics
// has the calls (cgoguard_calls_total{module="zlib"}) and the worker
// restarts (cgoguard_worker_restarts_total{module="zlib",reason="crash"}).
// /debug/cgoguard/failpoints is package chaos's admin handler: failpoints
// set there act in the workers (writes need CGOGUARD_ADMIN_TOKEN):
//
//	curl -H "Authorization: Bearer $CGOGUARD_ADMIN_TOKEN" -X PUT --data 'zlib.deflate=1*segv' \
//		http://127.0.0.1:8080/debug/cgoguard/failpoints   # the next compress crashes its worker
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

	"github.com/cgoguard/cgoguard/isolate"
)

func main() {
	// First: in a worker process this serves calls and never returns.
	isolate.Main()
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	workers := flag.Int("workers", 2, "worker `processes`")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *workers, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr until ctx ends, then stops the workers.
func run(ctx context.Context, addr string, workers int, stdout io.Writer) error {
	s, err := newServer(workers)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.selfTest(ctx); err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
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
