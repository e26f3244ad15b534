// Reduced from github.com/cogentcore/webgpu wgpu/queue.go (Apache-2.0, see
// ../LICENSE).

package wgpu

/*
#include <stdlib.h>

typedef struct WGPUQueueImpl* WGPUQueue;
typedef enum WGPUQueueWorkDoneStatus {
	WGPUQueueWorkDoneStatus_Success = 0x00000000,
	WGPUQueueWorkDoneStatus_Error = 0x00000001
} WGPUQueueWorkDoneStatus;
typedef void (*WGPUQueueOnSubmittedWorkDoneCallback)(WGPUQueueWorkDoneStatus status, void * userdata);

extern void wgpuQueueOnSubmittedWorkDone(WGPUQueue queue, WGPUQueueOnSubmittedWorkDoneCallback callback, void * userdata);

extern void gowebgpu_queue_work_done_callback_c(WGPUQueueWorkDoneStatus status, void * userdata);
*/
import "C"
import (
	"runtime/cgo"
	"unsafe"
)

type QueueWorkDoneStatus uint32

type QueueWorkDoneCallback func(QueueWorkDoneStatus)

type Queue struct {
	ref C.WGPUQueue
}

//export gowebgpu_queue_work_done_callback_go
func gowebgpu_queue_work_done_callback_go(status C.WGPUQueueWorkDoneStatus, userdata unsafe.Pointer) {
	handle := *(*cgo.Handle)(userdata)
	defer handle.Delete()

	cb, ok := handle.Value().(QueueWorkDoneCallback)
	if ok {
		cb(QueueWorkDoneStatus(status))
	}
}

func (p *Queue) OnSubmittedWorkDone(callback QueueWorkDoneCallback) {
	handle := cgo.NewHandle(callback)

	C.wgpuQueueOnSubmittedWorkDone(p.ref, C.WGPUQueueOnSubmittedWorkDoneCallback(C.gowebgpu_queue_work_done_callback_c), unsafe.Pointer(&handle)) // bug: CG010
}
