package arena_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/arena"
)

func ExampleNew() {
	a, err := arena.New(1<<20, arena.WithName("requests"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	ref, buf, err := a.Alloc(5, 8)
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(buf, "hello")
	// ref can go to C code (as a cg_ref) or to another process (as text);
	// here it comes straight back.
	b, err := a.Resolve(ref)
	fmt.Println(string(b), err)

	a.Reset() // everything handed out so far is now invalid
	_, err = a.Resolve(ref)
	fmt.Println(err)
	// Output:
	// hello <nil>
	// cgoguard: reference from an earlier generation: ref generation 1, arena generation 2
}

func ExampleRef_MarshalText() {
	r := arena.NewRef(0x1a2b3c4d, 1, 4096, 64)
	text, _ := r.MarshalText()
	fmt.Println(string(text))

	var back arena.Ref
	err := back.UnmarshalText(text)
	fmt.Println(back == r, err)
	// Output:
	// cgref:1a2b3c4d:1:4096:64
	// true <nil>
}

func ExampleArena_Local() {
	a, err := arena.New(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	// One Local per goroutine: blocks come from a private 64 KiB chunk,
	// with no atomic operation per block.
	l, err := a.Local(64 << 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	var refs []arena.Ref
	for i := 0; i < 3; i++ {
		ref, buf, err := l.Alloc(16, 8)
		if err != nil {
			fmt.Println(err)
			return
		}
		copy(buf, fmt.Sprintf("record %d", i))
		refs = append(refs, ref)
	}
	l.Flush() // give the unused rest of the chunk back
	b, _ := a.Resolve(refs[2])
	fmt.Printf("%s, used %d bytes\n", b[:8], a.Stats().Used)
	// Output:
	// record 2, used 48 bytes
}
