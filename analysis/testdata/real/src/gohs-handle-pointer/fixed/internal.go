// Reduced from github.com/flier/gohs hyperscan/internal.go (MIT, see
// ../LICENSE).

package hyperscan

/*
#include <stdlib.h>

typedef int hs_error_t;
typedef struct hs_database hs_database_t;
typedef struct hs_scratch hs_scratch_t;
typedef int (*match_event_handler)(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *context);

#define HS_SUCCESS 0
#define HS_INVALID (-1)

extern hs_error_t hs_scan(const hs_database_t *db, const char *data, unsigned int length, unsigned int flags, hs_scratch_t *scratch, match_event_handler onEvent, void *context);

extern int hsMatchEventCallback(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *context);

static inline hs_error_t safe_hs_scan(const hs_database_t *db, const char *data, unsigned int length, unsigned int flags, hs_scratch_t *scratch, match_event_handler onEvent, unsigned long context) {
  return hs_scan(db, data, length, flags, scratch, onEvent, (void*)(context));
}
*/
import "C"

import (
	"reflect"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// HsError represents an error
type HsError C.hs_error_t

func (e HsError) Error() string { return "hyperscan error" }

// ScanFlag represents a scan flag
type ScanFlag uint

type hsDatabase *C.hs_database_t
type hsScratch *C.hs_scratch_t

type hsMatchEventHandler func(id uint, from, to uint64, flags uint, context interface{}) error

type hsMatchEventContext struct {
	handler hsMatchEventHandler
	context interface{}
}

//export hsMatchEventCallback
func hsMatchEventCallback(id C.uint, from, to C.ulonglong, flags C.uint, data unsafe.Pointer) C.int {
	ctx, ok := cgo.Handle(data).Value().(hsMatchEventContext)
	if !ok {
		return C.HS_INVALID
	}
	if err := ctx.handler(uint(id), uint64(from), uint64(to), uint(flags), ctx.context); err != nil {
		return C.HS_INVALID
	}
	return C.HS_SUCCESS
}

func hsScan(db hsDatabase, data []byte, flags ScanFlag, scratch hsScratch, onEvent hsMatchEventHandler, context interface{}) error {
	if data == nil {
		return HsError(C.HS_INVALID)
	}

	h := cgo.NewHandle(hsMatchEventContext{onEvent, context})
	defer h.Delete()

	hdr := (*reflect.SliceHeader)(unsafe.Pointer(&data)) // FIXME: Zero-copy access to go data

	ret := C.safe_hs_scan(db,
		(*C.char)(unsafe.Pointer(hdr.Data)),
		C.uint(hdr.Len),
		C.uint(flags),
		scratch,
		C.match_event_handler(C.hsMatchEventCallback),
		(C.ulong)(h))

	// Ensure go data is alive before the C function returns
	runtime.KeepAlive(data)

	if ret != C.HS_SUCCESS {
		return HsError(ret)
	}

	return nil
}
