#include <malloc.h>
#include "cmem.h"

long long cmem_heap_in_use(void) {
	struct mallinfo2 mi = mallinfo2();
	return (long long)(mi.uordblks + mi.hblkhd);
}
