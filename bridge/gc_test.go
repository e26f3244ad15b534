package bridge_test

import "runtime"

func runtimeGC() { runtime.GC() }
