// Reduced from github.com/veandco/go-sdl2 sdl/audio.go (BSD-3-Clause, see
// ../LICENSE).

package sdl

/*
#include <stdlib.h>

extern void SDL_free(void *mem);
extern char* SDL_GetClipboardText(void);
*/
import "C"
import "unsafe"

// AudioFormat is an enumeration of audio formats.
type AudioFormat uint16

// AudioCVT contains audio data conversion information.
type AudioCVT struct {
	Needed    int32          // set to 1 if conversion possible
	SrcFormat AudioFormat    // source audio format
	DstFormat AudioFormat    // target audio format
	RateIncr  float64        // rate conversion increment
	Buf       unsafe.Pointer // the buffer to hold entire audio data
	Len       int32          // length of original audio buffer
	LenCVT    int32          // length of converted audio buffer
	LenMult   int32          // buf must be len*len_mult big
	LenRatio  float64        // given len, final size is len*len_ratio
}

// AllocBuf allocates the requested memory for AudioCVT buffer.
func (cvt *AudioCVT) AllocBuf(size uintptr) {
	cvt.Buf = C.malloc(C.size_t(size))
}

// FreeBuf deallocates the memory previously allocated from AudioCVT buffer.
func (cvt *AudioCVT) FreeBuf() {
	C.SDL_free(cvt.Buf) // bug: CG014
}

// GetClipboardText (https://wiki.libsdl.org/SDL_GetClipboardText)
func GetClipboardText() string {
	text := C.SDL_GetClipboardText()
	defer C.SDL_free(unsafe.Pointer(text))
	_text := C.GoString(text)
	return _text
}
