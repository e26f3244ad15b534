// Command tracee is the process the probe tests attach to. It prints
// "ready <pid>", waits for a line on standard input, makes its C calls,
// prints one JSON line per timed call and "done", and exits when standard
// input closes.
//
//	tracee -mode count -calls N -threads T   tr_work N times over T threads, by plain cgo
//	tracee -mode guarded -calls N -threads T  tr_guarded (which calls tr_inner) through module "work"
//	tracee -mode align -calls N               tr_timed through module "align" with tracing on
package main

// #cgo CFLAGS: -I${SRCDIR}/../../../include -Wall -Wextra -Werror -O2
// #include <stdlib.h>
// #include "tracee.h"
import "C"

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
	_ "unsafe" // go:linkname

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/observe"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// record is one timed call: Go's clock around Module.Call, C's inside.
type record struct {
	TID     int    `json:"tid"`
	GoStart int64  `json:"go_start"`
	GoEnd   int64  `json:"go_end"`
	CStart  int64  `json:"c_start"`
	CEnd    int64  `json:"c_end"`
	TraceID string `json:"trace_id"`
}

func main() {
	mode := flag.String("mode", "count", "count, guarded or align")
	calls := flag.Int("calls", 1000, "number of calls")
	threads := flag.Int("threads", 4, "number of threads")
	flag.Parse()

	var mod *cgoguard.Module
	var err error
	switch *mode {
	case "guarded":
		mod, err = cgoguard.New("work")
	case "align":
		tp := sdktrace.NewTracerProvider()
		defer tp.Shutdown(context.Background())
		mod, err = cgoguard.New("align", observe.Tracing(tp))
	}
	if err != nil {
		log.Fatal(err)
	}
	if mod != nil {
		st, err := observe.StartStatus()
		if err != nil {
			log.Fatal(err)
		}
		defer st.Stop()
	}
	in := bufio.NewReader(os.Stdin)
	fmt.Printf("ready %d\n", os.Getpid())
	if _, err := in.ReadString('\n'); err != nil {
		return
	}
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	var wg, locked sync.WaitGroup
	start := make(chan struct{})
	per := *calls / *threads
	for t := 0; t < *threads; t++ {
		n := per
		if t == *threads-1 {
			n = *calls - per*(*threads-1)
		}
		wg.Add(1)
		locked.Add(1)
		go func(base, n int) {
			defer wg.Done()
			// Every goroutine holds its own thread until all have one, so
			// the calls run on exactly -threads threads; the goroutine
			// ends locked, which ends its thread.
			runtime.LockOSThread()
			locked.Done()
			<-start
			tid := syscall.Gettid()
			req := (*C.struct_tr_req)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_tr_req{}))))
			defer C.free(unsafe.Pointer(req))
			for i := base; i < base+n; i++ {
				switch *mode {
				case "count":
					C.tr_work(C.int(i))
				case "guarded":
					req.i = C.int(i)
					if _, err := mod.Call(context.Background(), C.tr_guarded, unsafe.Pointer(req)); err != nil {
						log.Fatal(err)
					}
				case "align":
					g0 := nanotime()
					if _, err := mod.Call(context.Background(), C.tr_timed, unsafe.Pointer(req)); err != nil {
						log.Fatal(err)
					}
					g1 := nanotime()
					mu.Lock()
					_ = out.Encode(record{TID: tid, GoStart: g0, GoEnd: g1, CStart: int64(req.c_start), CEnd: int64(req.c_end), TraceID: C.GoString(&req.trace[0])})
					mu.Unlock()
				}
			}
		}(t*per, n)
	}
	locked.Wait()
	close(start)
	wg.Wait()
	fmt.Println("done")
	_, _ = io.Copy(io.Discard, in)
}
