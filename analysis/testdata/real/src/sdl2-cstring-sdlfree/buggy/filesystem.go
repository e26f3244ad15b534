// Reduced from github.com/veandco/go-sdl2 sdl/filesystem.go and
// sdl/clipboard.go (BSD-3-Clause, see ../LICENSE).

package sdl

/*
#include <stdlib.h>

extern char* SDL_GetBasePath(void);
extern char* SDL_GetPrefPath(const char *org, const char *app);
extern int SDL_SetClipboardText(const char *text);
extern void SDL_free(void *mem);

static inline char* _SDL_GetBasePath() {
    return SDL_GetBasePath();
}

static inline char* _SDL_GetPrefPath(const char *org, const char *app)
{
    return SDL_GetPrefPath(org, app);
}
*/
import "C"
import "unsafe"

// GetBasePath (https://wiki.libsdl.org/SDL_GetBasePath)
func GetBasePath() string {
	_val := C._SDL_GetBasePath()
	defer C.SDL_free(unsafe.Pointer(_val))
	return C.GoString(_val)
}

// GetPrefPath (https://wiki.libsdl.org/SDL_GetPrefPath)
func GetPrefPath(org, app string) string {
	_org := C.CString(org)
	_app := C.CString(app)
	defer C.SDL_free(unsafe.Pointer(_org)) // bug: CG014
	defer C.SDL_free(unsafe.Pointer(_app)) // bug: CG014
	_val := C._SDL_GetPrefPath(_org, _app)
	defer C.SDL_free(unsafe.Pointer(_val))
	return C.GoString(_val)
}

// SetClipboardText (https://wiki.libsdl.org/SDL_SetClipboardText)
func SetClipboardText(text string) int {
	_text := C.CString(text)
	defer C.SDL_free(unsafe.Pointer(_text)) // bug: CG014
	return int(C.SDL_SetClipboardText(_text))
}
