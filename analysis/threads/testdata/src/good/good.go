package good

/*
#include <stdlib.h>
#include <unistd.h>
static int work(int x) { usleep(10); return x; }
static void set_thread_name(void) {}
static void unshare_thread(void) {}
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"unsafe"
)

func init() {
	runtime.LockOSThread()
}

func deferred() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.set_thread_name()
}

func everyPath(fail bool) error {
	runtime.LockOSThread()
	if fail {
		runtime.UnlockOSThread()
		return errors.New("failed")
	}
	C.set_thread_name()
	runtime.UnlockOSThread()
	return nil
}

func panics() {
	runtime.LockOSThread()
	if C.work(1) != 1 {
		panic("bad")
	}
	runtime.UnlockOSThread()
}

// isolate changes the thread's namespace and lets the goroutine exit
// locked so that the runtime discards the thread.
func isolate(done chan struct{}) {
	go func() {
		//cgoguard:thread-exit the thread's state was changed in C; let it die
		runtime.LockOSThread()
		C.unshare_thread()
		close(done)
	}()
}

// dedicated runs on its own thread until it returns.
//
//cgoguard:thread-exit the thread is discarded on purpose
func dedicated() {
	runtime.LockOSThread()
	C.unshare_thread()
}

var mu sync.Mutex
var count int

func outsideLock(x int) int {
	n := C.work(C.int(x))
	mu.Lock()
	count += int(n)
	mu.Unlock()
	return int(n)
}

func helpersUnderLock(s string) {
	mu.Lock()
	defer mu.Unlock()
	p := C.CString(s)
	C.free(unsafe.Pointer(p))
}

func pool(items []int) {
	ch := make(chan int)
	for range 4 {
		go func() {
			for it := range ch {
				C.work(C.int(it))
			}
		}()
	}
	for i := 0; i < runtime.NumCPU(); i++ {
		go func() { C.work(C.int(i)) }()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
}

func semaphore(items []int) {
	sem := make(chan struct{}, 8)
	for _, it := range items {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			C.work(C.int(it))
		}()
	}
}

func waitGroup(items []int) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			count++
			_ = it
		}()
	}
	wg.Wait()
}
