#include "textflag.h"

// func CallerPC() uintptr
//
// Returns the return address stored in the frame of the Go function that
// called CallerPC, that is the PC in that function's caller. With no frame
// of its own, this function sees its caller's frame pointer in BP, and on
// amd64 a frame keeps the return address just above the saved BP.
TEXT ·CallerPC(SB), NOSPLIT, $0-8
	MOVQ 8(BP), AX
	MOVQ AX, ret+0(FP)
	RET
