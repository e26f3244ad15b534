// Command quickstart shows cgoguard keeping a Go service alive while the C
// code inside it crashes: an HTTP endpoint parses records with a C parser
// that has real bugs (a NULL dereference, a division by zero, a failed
// assert). Each crash becomes an error response; the module is quarantined
// and reset; the service keeps answering.
//
// Run it with: go run ./examples/quickstart
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -Wall -Wextra -Werror
#include <stdlib.h>
#include "parser.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/cgoguard/cgoguard"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

type service struct {
	parser *cgoguard.Module
}

// parse runs the C parser on line under the guard.
func (s *service) parse(ctx context.Context, line string) (int, error) {
	// The request lives in C memory: C must not hold Go pointers.
	req := (*C.struct_parse_req)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_parse_req{}))))
	defer C.free(unsafe.Pointer(req))
	cline := C.CString(line)
	defer C.free(unsafe.Pointer(cline))
	req.line = cline
	return s.parser.Call(ctx, unsafe.Pointer(C.parse_record), unsafe.Pointer(req))
}

func (s *service) handle(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	n, err := s.parse(ctx, r.URL.Query().Get("record"))
	var crash *cgoguard.CrashError
	var cerr *cgoguard.CError
	switch {
	case err == nil:
		fmt.Fprintf(w, "ok: value of %d bytes\n", n)
	case errors.As(err, &crash):
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "C crashed: %s (%s) in %s\n", cgoguard.SignalName(crash.Signal), cgoguard.CodeName(crash.Signal, crash.Code), where(crash))
	case errors.As(err, &cerr):
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad record: %s (code %d)\n", cerr.Message, cerr.Code)
	case errors.Is(err, cgoguard.ErrQuarantined):
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "parser quarantined after a crash")
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unavailable: %v\n", err)
	}
}

func (s *service) healthz(w http.ResponseWriter, r *http.Request) {
	st := s.parser.Stats()
	fmt.Fprintf(w, "parser %s: %d ok, %d errors, %d crashes\n", st.State, st.OK, st.Errors, st.Crashes)
}

func run(out io.Writer) error {
	parser, err := cgoguard.New("record-parser",
		cgoguard.WithMaxConcurrent(8),
		// The parser keeps no global state: re-initialising is a no-op.
		cgoguard.WithReset(func() error { return nil }))
	if err != nil {
		return err
	}
	defer parser.Close()
	s := &service{parser: parser}
	mux := http.NewServeMux()
	mux.HandleFunc("/parse", s.handle)
	mux.HandleFunc("/healthz", s.healthz)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "serving on %s; the C parser will crash on purpose\n\n", base)

	get := func(path string) {
		resp, err := http.Get(base + path)
		if err != nil {
			fmt.Fprintf(out, "GET %-40s -> error: %v\n", path, err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(out, "GET %-40s -> %d %s", path, resp.StatusCode, body)
	}
	records := []string{
		"name=alice",
		"nameless",           // NULL dereference in C
		"name=bob",           // quarantined: fails fast
		"!reset",             // the operator resets the module
		"name=bob",           // serving again
		"name=carol;count=0", // division by zero in C
		"!reset",
		"name=" + strings.Repeat("x", 100), // assert() fails: abort
		"!reset",
		"",          // a C error, not a crash
		"name=dave", // still serving
	}
	for _, r := range records {
		if r == "!reset" {
			err := parser.Reset()
			fmt.Fprintf(out, "%-44s -> reset: %v\n", "(operator) parser.Reset()", errOrOK(err))
			continue
		}
		get("/parse?record=" + url.QueryEscape(r))
	}
	get("/healthz")
	st := parser.Stats()
	if st.Crashes != 3 || st.OK < 3 {
		return fmt.Errorf("unexpected stats: %+v", st)
	}
	fmt.Fprintf(out, "\nthe process survived %d C crashes and kept serving\n", st.Crashes)
	return nil
}

// where names the first C function of the crash that has a name: the
// innermost frames may be unnamed internals of libc.
func where(c *cgoguard.CrashError) string {
	for _, f := range c.Frames {
		if f.Function != "" && f.Function != "gsignal" && f.Function != "raise" {
			return f.Function
		}
	}
	return fmt.Sprintf("%#x", c.PC)
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
