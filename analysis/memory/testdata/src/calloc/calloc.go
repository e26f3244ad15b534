package calloc

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

type node struct {
	next *node
	name string
}

func newNode() *node {
	n := (*node)(C.malloc(C.size_t(unsafe.Sizeof(node{})))) // want `CG012: memory from C.malloc is not zeroed`
	n.next = nil
	return n
}
