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

func newNode() *node { // want newNode:`ownership\(\) result0=malloc`
	n := (*node)(C.malloc(C.size_t(unsafe.Sizeof(node{})))) // want `CG012: memory from C.malloc is not zeroed`
	n.next = nil
	return n
}
