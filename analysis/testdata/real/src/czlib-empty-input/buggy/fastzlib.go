// Copyright 2013, Datadog Inc.  All rights reserved.
// Reduced from github.com/DataDog/czlib fastzlib.go (Simplified BSD, see
// ../LICENSE).

package czlib

import (
	"errors"
	"unsafe"
)

/*
#include <stdlib.h>

typedef struct {
	char *str;
	char *err;
	unsigned int len;
} ByteArray;

extern ByteArray c_compress2(char *input, unsigned int length);
extern ByteArray c_decompress(char *input, unsigned int length);
*/
import "C"

// Compress returns the input compressed using zlib, or an error if encountered.
func Compress(input []byte) ([]byte, error) {
	cInput := (*C.char)(unsafe.Pointer(&input[0])) // bug: CG002
	ret := C.c_compress2(cInput, C.uint(len(input)))

	// if there was an error compressing, return it and free the original message
	if ret.err != nil {
		msg := C.GoString((*C.char)(ret.err))
		C.free(unsafe.Pointer(ret.err))
		return []byte{}, errors.New(msg)
	}

	// NOTE: this creates a copy of the return *char as a Go []byte.
	// FIXME: uint -> int conversion here is dangerous
	b := C.GoBytes(unsafe.Pointer(ret.str), C.int(ret.len))
	C.free(unsafe.Pointer(ret.str))
	return b, nil
}

// Decompress returns the input decompressed using zlib, or an error if encountered.
func Decompress(input []byte) ([]byte, error) {
	// send the input byte without copying iy
	cInput := (*C.char)(unsafe.Pointer(&input[0])) // bug: CG002
	ret := C.c_decompress(cInput, C.uint(len(input)))

	// if there was an error decompressing, return it and free the original message
	if ret.err != nil {
		msg := C.GoString((*C.char)(ret.err))
		C.free(unsafe.Pointer(ret.err))
		return []byte{}, errors.New(msg)
	}

	// NOTE: this creates a copy of the return *char as a Go []byte.
	// FIXME: uint -> int conversion here is dangerous
	b := C.GoBytes(unsafe.Pointer(ret.str), C.int(ret.len))
	C.free(unsafe.Pointer(ret.str))
	return b, nil
}
