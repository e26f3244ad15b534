package chaos_test

import (
	"fmt"

	"github.com/cgoguard/cgoguard/chaos"
)

func ExampleParse() {
	fps, err := chaos.Parse("zlib.inflate=10%segv; zlib = 2*errno(EIO) -> delay(200ms)")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range fps {
		fmt.Println(f.Target(), f.Kinds(), f)
	}
	_, err = chaos.Parse("zlib=explode")
	fmt.Println(err)
	// Output:
	// zlib.inflate [segv] zlib.inflate=10%segv
	// zlib [errno delay] zlib=2*errno(EIO)->delay(200ms)
	// cgoguard: failpoint spec "zlib=explode": at byte 5: unknown action "explode" (off, segv, bus, fpe, abort, hang, delay(D), errno(E), error(C,M))
}
