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
