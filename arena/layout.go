package arena

// Layout of the arena header, the first page of every arena mapping. It is
// shared with C (struct cg_arena in arena.c) and with other processes that
// map the same file, so it is fixed: changing it means a new layoutVersion.
const (
	offMagic     = 0   // uint64, layoutMagic once the header is complete
	offVersion   = 8   // uint32, layoutVersion
	offID        = 12  // uint32, arena id, nonzero
	offMapSize   = 16  // uint64, bytes mapped (header page + data)
	offDataOff   = 24  // uint64, offset of the first data byte (headerSize)
	offCapacity  = 32  // uint64, bytes that can be handed out, a multiple of unit
	offFlags     = 40  // uint32, flagShared
	offState     = 64  // uint64, generation<<32 | cursor in units; own cache line
	offHighWater = 128 // uint64, most bytes used in any generation before a reset
	offExhausted = 136 // uint64, allocations refused for lack of room
	offGen       = 144 // uint64, the generation again, stored by Reset after it
	//                    moved state; read by Locals, on a line rarely written
	offName      = 192 // [nameMax+1]byte, NUL-terminated
	headerStruct = 256 // sizeof(struct cg_arena)

	headerSize    = 4096 // the header page; data starts here, page aligned
	layoutMagic   = 0x31414e4552414743
	layoutVersion = 2    // 2: the cursor may pass the capacity for a moment (Arena.Alloc)
	unit          = 8    // cursor granularity and minimum alignment
	maxAlign      = 4096 // CG_ARENA_MAX_ALIGN
	nameMax       = 63
	flagShared    = 1

	// MaxSize is the largest capacity an arena can have: the cursor counts
	// 8-byte units in 32 bits.
	MaxSize = 1<<32*unit - unit

	cursorMask = 0xffffffff // the cursor's bits in the state word

	// fastMax is the largest block Alloc reserves with one atomic add.
	fastMax = 1024
	// fastCapMax is the largest capacity, in units, of an arena whose
	// Alloc uses the atomic add. An add that loses the race for the last
	// units leaves the cursor up to fastMax/unit units past the capacity
	// until it is taken back, and only an Alloc that saw room before its
	// add makes one, so the cursor stays below capacity + (Allocs between
	// their load and their add) * 128 units. With at most 2^31 units of
	// capacity, carrying into the generation bits would take 2^24 Allocs
	// (goroutines or threads, in all processes) stopped between those two
	// instructions at once. Larger arenas (over 16 GiB) always use the
	// compare-and-swap, which never passes the capacity.
	fastCapMax = 1 << 31

	// fastAligns has bit k set for each alignment k that Alloc's fast
	// path takes: 0 (meaning 8), 1, 2, 4 and 8.
	fastAligns = 1<<0 | 1<<1 | 1<<2 | 1<<4 | 1<<8

	noAdd = ^uint64(0) // allocSlow: no fast-path add to take back
)
