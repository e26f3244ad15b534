package arena_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/cgoguard/cgoguard/arena"
	"github.com/cgoguard/cgoguard/arena/internal/cfix"
)

const childEnv = "CGOGUARD_ARENA_TEST_CHILD"

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(child(name, strings.Fields(os.Getenv(childEnv+"_REFS"))))
	}
	if addr := os.Getenv(fdChildEnv); addr != "" {
		os.Exit(fdChild(addr))
	}
	os.Exit(m.Run())
}

func newArena(t testing.TB, size int, opts ...arena.Option) *arena.Arena {
	t.Helper()
	a, err := arena.New(size, opts...)
	if err != nil {
		t.Fatalf("New(%d): %v", size, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func needC(t *testing.T) {
	if !cfix.Available {
		t.Skip("C fixtures need cgo")
	}
}

func TestAlloc(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		align   int
		wantErr string
	}{
		{"one byte", 1, 1, ""},
		{"default align", 13, 0, ""},
		{"align 16", 64, 16, ""},
		{"align 64", 100, 64, ""},
		{"page aligned", 10, 4096, ""},
		{"zero size", 0, 8, "size must be positive"},
		{"negative size", -1, 8, "size must be positive"},
		{"align not power of two", 8, 24, "not a power of two"},
		{"align too large", 8, 8192, "not a power of two"},
		{"negative align", 8, -8, "not a power of two"},
		{"larger than arena", 1 << 20, 8, "exhausted"},
	}
	a := newArena(t, 64<<10)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, b, err := a.Alloc(tc.n, tc.align)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Alloc(%d, %d) error = %v, want %q", tc.n, tc.align, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Alloc(%d, %d): %v", tc.n, tc.align, err)
			}
			if len(b) != tc.n || cap(b) != tc.n || ref.Len() != uint64(tc.n) {
				t.Fatalf("len %d cap %d ref len %d, want %d", len(b), cap(b), ref.Len(), tc.n)
			}
			align := max(tc.align, 8)
			if p := uintptr(unsafe.Pointer(&b[0])); p%uintptr(align) != 0 || ref.Offset()%uint64(align) != 0 {
				t.Fatalf("block at %#x (offset %d) not %d-aligned", p, ref.Offset(), align)
			}
			if uintptr(unsafe.Pointer(&b[0]))-uintptr(a.CPtr()) != uintptr(ref.Offset()) {
				t.Fatalf("ref offset %d does not match the slice address", ref.Offset())
			}
			for i := range b {
				b[i] = byte(i)
			}
			got, err := a.Resolve(ref)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("Resolve = %v, %v", got, err)
			}
		})
	}
}

func TestExhaustion(t *testing.T) {
	a := newArena(t, 1024)
	var blocks [][]byte
	for i := 0; i < 16; i++ {
		_, b, err := a.Alloc(64, 8)
		if err != nil {
			t.Fatalf("alloc %d of 16: %v", i, err)
		}
		for j := range b {
			b[j] = byte(i)
		}
		blocks = append(blocks, b)
	}
	if _, _, err := a.Alloc(1, 1); !errors.Is(err, arena.ErrExhausted) {
		t.Fatalf("Alloc on full arena: %v, want ErrExhausted", err)
	}
	if cfix.Available {
		if off := cfix.Alloc(a.CPtr(), 1, 1); off != -1 {
			t.Fatalf("cg_arena_alloc on full arena returned offset %d, want NULL", off)
		}
	}
	for i, b := range blocks {
		for _, v := range b {
			if v != byte(i) {
				t.Fatalf("block %d overwritten", i)
			}
		}
	}
	st := a.Stats()
	want := uint64(1)
	if cfix.Available {
		want = 2
	}
	if st.Used != 1024 || st.Capacity != 1024 || st.Exhausted != want {
		t.Fatalf("stats %+v, want used 1024 capacity 1024 exhausted %d", st, want)
	}
}

type span struct {
	off, end uint64
	who      string
}

// TestConcurrentGoAndC allocates from C pthreads and goroutines at the same
// time, then checks that no two blocks overlap and that every block still
// holds the pattern its writer put there.
func TestConcurrentGoAndC(t *testing.T) {
	needC(t)
	const (
		cThreads   = 3
		goroutines = 4
		perWorker  = 3000
		size       = 40
	)
	a := newArena(t, 2<<20)
	var wg sync.WaitGroup
	var cRefs [][]arena.Ref
	wg.Add(1)
	go func() {
		defer wg.Done()
		cRefs = cfix.AllocThreads(a.CPtr(), cThreads, perWorker, size, 8, 100)
	}()
	goRefs := make([][]arena.Ref, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				align := []int{8, 16, 32}[i%3]
				ref, b, err := a.Alloc(size, align)
				if err != nil {
					t.Errorf("goroutine %d alloc %d: %v", g, i, err)
					return
				}
				for j := range b {
					b[j] = cfix.Pattern(g, i, j)
				}
				goRefs[g] = append(goRefs[g], ref)
			}
		}()
	}
	wg.Wait()
	if len(cRefs) != cThreads {
		t.Fatalf("%d C threads ran, want %d", len(cRefs), cThreads)
	}
	var spans []span
	check := func(who string, tag int, refs []arena.Ref) {
		if len(refs) != perWorker {
			t.Fatalf("%s made %d blocks, want %d", who, len(refs), perWorker)
		}
		for i, r := range refs {
			b, err := a.Resolve(r)
			if err != nil {
				t.Fatalf("%s block %d: %v", who, i, err)
			}
			for j, v := range b {
				if v != cfix.Pattern(tag, i, j) {
					t.Fatalf("%s block %d byte %d = %d, want %d: another writer overlapped it", who, i, j, v, cfix.Pattern(tag, i, j))
				}
			}
			spans = append(spans, span{r.Offset(), r.Offset() + r.Len(), fmt.Sprintf("%s#%d", who, i)})
		}
	}
	for t2, refs := range cRefs {
		check(fmt.Sprintf("C thread %d", t2), 100+t2, refs)
	}
	for g, refs := range goRefs {
		check(fmt.Sprintf("goroutine %d", g), g, refs)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	for i := 1; i < len(spans); i++ {
		if spans[i].off < spans[i-1].end {
			t.Fatalf("%s [%d,%d) overlaps %s [%d,%d)", spans[i].who, spans[i].off, spans[i].end, spans[i-1].who, spans[i-1].off, spans[i-1].end)
		}
	}
	if st := a.Stats(); st.Used < int64(len(spans)*size) {
		t.Fatalf("used %d bytes for %d blocks of %d", st.Used, len(spans), size)
	}
}

// TestRejectedRefs covers every way a Ref is refused, in Go and in C.
func TestRejectedRefs(t *testing.T) {
	a := newArena(t, 4096)
	other := newArena(t, 4096)
	good, _, err := a.Alloc(64, 8)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, err := other.Alloc(64, 8)
	if err != nil {
		t.Fatal(err)
	}
	id, gen, off := good.ArenaID(), good.Generation(), good.Offset()
	tests := []struct {
		name   string
		ref    arena.Ref
		reason error // nil: only ErrInvalidRef
	}{
		{"zero ref", arena.Ref{}, nil},
		{"other arena", foreign, arena.ErrForeignRef},
		{"made-up arena id", arena.NewRef(id^0x5a5a5a5a, gen, off, 64), arena.ErrForeignRef},
		{"newer generation", arena.NewRef(id, gen+1, off, 64), arena.ErrStaleRef},
		{"zero generation", arena.NewRef(id, 0, off, 64), nil},
		{"zero length", arena.NewRef(id, gen, off, 0), nil},
		{"in the header", arena.NewRef(id, gen, 64, 8), arena.ErrOutOfBounds},
		{"past allocated part", arena.NewRef(id, gen, off+64, 8), arena.ErrOutOfBounds},
		{"longer than allocated", arena.NewRef(id, gen, off, 65), arena.ErrOutOfBounds},
		{"past capacity", arena.NewRef(id, gen, off, 1<<20), arena.ErrOutOfBounds},
		{"overflowing end", arena.NewRef(id, gen, off, ^uint64(0)-8), arena.ErrOutOfBounds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := a.Resolve(tc.ref)
			if err == nil {
				t.Fatalf("Resolve(%v) = %d bytes, want an error", tc.ref, len(b))
			}
			if !errors.Is(err, arena.ErrInvalidRef) {
				t.Errorf("error %v does not match ErrInvalidRef", err)
			}
			if tc.reason != nil && !errors.Is(err, tc.reason) {
				t.Errorf("error %v does not match %v", err, tc.reason)
			}
			var re *arena.RefError
			if !errors.As(err, &re) || re.Ref != tc.ref {
				t.Errorf("error %v is not a *RefError carrying the ref", err)
			}
			if cfix.Available {
				if got := cfix.Resolve(a.CPtr(), tc.ref); got != -1 {
					t.Errorf("cg_arena_resolve(%v) = offset %d, want NULL", tc.ref, got)
				}
			}
		})
	}
	if cfix.Available {
		if got := cfix.Resolve(a.CPtr(), good); got != int64(off) {
			t.Fatalf("cg_arena_resolve(good) = %d, want %d", got, off)
		}
	}
	t.Run("before reset", func(t *testing.T) {
		a.Reset()
		if _, err := a.Resolve(good); !errors.Is(err, arena.ErrStaleRef) {
			t.Fatalf("Resolve of a ref from before Reset: %v, want ErrStaleRef", err)
		}
		// The same offset is allocated again in the new generation: the
		// old ref must still be refused.
		if _, _, err := a.Alloc(64, 8); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Resolve(good); !errors.Is(err, arena.ErrStaleRef) {
			t.Fatalf("Resolve of an old ref over reused memory: %v, want ErrStaleRef", err)
		}
		if cfix.Available && cfix.Resolve(a.CPtr(), good) != -1 {
			t.Fatal("cg_arena_resolve accepted a ref from before Reset")
		}
	})
	t.Run("after close", func(t *testing.T) {
		ref, _, err := other.Alloc(8, 8)
		if err != nil {
			t.Fatal(err)
		}
		other.Close()
		if _, err := other.Resolve(ref); !errors.Is(err, arena.ErrClosed) {
			t.Fatalf("Resolve after Close: %v, want ErrClosed", err)
		}
	})
}

func TestCRefs(t *testing.T) {
	needC(t)
	a := newArena(t, 8192)
	// C allocates, makes a ref, Go resolves it.
	off := cfix.Alloc(a.CPtr(), 32, 16)
	if off < 4096 || off%16 != 0 {
		t.Fatalf("cg_arena_alloc offset %d", off)
	}
	ref, rc := cfix.MakeRef(a.CPtr(), off, 32)
	if rc != 0 {
		t.Fatalf("cg_arena_ref rc %d", rc)
	}
	if ref.ArenaID() != a.ID() || ref.Generation() != 1 || ref.Offset() != uint64(off) || ref.Len() != 32 {
		t.Fatalf("C made ref %v", ref)
	}
	if _, err := a.Resolve(ref); err != nil {
		t.Fatalf("Go rejects the ref C made: %v", err)
	}
	// Go allocates, C resolves.
	gref, _, err := a.Alloc(16, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfix.Resolve(a.CPtr(), gref); got != int64(gref.Offset()) {
		t.Fatalf("C resolves the Go ref to %d, want %d", got, gref.Offset())
	}
	if used, c, g := cfix.Used(a.CPtr()), cfix.Capacity(a.CPtr()), cfix.Generation(a.CPtr()); used != a.Stats().Used || c != 8192 || g != 1 {
		t.Fatalf("C sees used %d capacity %d generation %d; Go %+v", used, c, g, a.Stats())
	}
	bad := []struct {
		name string
		off  int64
		n    int
		rc   int
	}{
		{"null pointer", -1, 8, -22},
		{"zero length", off, 0, -22},
		{"header", 8, 8, -34},
		{"past allocated part", off + 4096, 8, -34},
	}
	for _, tc := range bad {
		if _, rc := cfix.MakeRef(a.CPtr(), tc.off, tc.n); rc != tc.rc {
			t.Errorf("%s: cg_arena_ref rc %d, want %d", tc.name, rc, tc.rc)
		}
	}
}

func TestResetAndStats(t *testing.T) {
	a := newArena(t, 4096, arena.WithName("stats-test"))
	for i := 0; i < 3; i++ {
		if _, _, err := a.Alloc(100, 8); err != nil {
			t.Fatal(err)
		}
	}
	st := a.Stats()
	if st.Used != 312 || st.Generation != 1 || st.HighWater != 312 {
		t.Fatalf("stats %+v, want used 312 generation 1", st)
	}
	a.Reset()
	if _, _, err := a.Alloc(8, 8); err != nil {
		t.Fatal(err)
	}
	st = a.Stats()
	if st.Used != 8 || st.Generation != 2 || st.HighWater != 312 {
		t.Fatalf("after Reset: %+v, want used 8 generation 2 high water 312", st)
	}
	found := false
	for _, info := range arena.Snapshot() {
		if info.Name == "stats-test" {
			found = true
			if info.ID != a.ID() || info.Stats != st {
				t.Fatalf("Snapshot entry %+v, want stats %+v", info, st)
			}
		}
	}
	if !found {
		t.Fatalf("Snapshot lacks the arena: %+v", arena.Snapshot())
	}
}

func TestClose(t *testing.T) {
	a, err := arena.New(4096, arena.WithName("close-test"))
	if err != nil {
		t.Fatal(err)
	}
	ref, _, err := a.Alloc(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.Close(); !errors.Is(err, arena.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	if _, _, err := a.Alloc(8, 8); !errors.Is(err, arena.ErrClosed) {
		t.Fatalf("Alloc after Close: %v", err)
	}
	if _, err := a.Resolve(ref); !errors.Is(err, arena.ErrClosed) {
		t.Fatalf("Resolve after Close: %v", err)
	}
	a.Reset() // must not touch the unmapped memory
	if st := a.Stats(); st != (arena.Stats{}) {
		t.Fatalf("Stats after Close: %+v", st)
	}
	if a.CPtr() != nil {
		t.Fatal("CPtr after Close is not nil")
	}
	for _, info := range arena.Snapshot() {
		if info.Name == "close-test" {
			t.Fatal("closed arena still in Snapshot")
		}
	}
}

func TestNewErrors(t *testing.T) {
	existing := fmt.Sprintf("cgoguard-test-exists-%d", os.Getpid())
	e := newArena(t, 4096, arena.WithShared(existing))
	_ = e
	tests := []struct {
		name string
		size int
		opts []arena.Option
		want string
	}{
		{"zero size", 0, nil, "out of range"},
		{"negative size", -5, nil, "out of range"},
		{"too large", arena.MaxSize + 1, nil, "out of range"},
		{"empty name", 64, []arena.Option{arena.WithName("")}, "must be 1 to 63 bytes"},
		{"long name", 64, []arena.Option{arena.WithName(strings.Repeat("n", 64))}, "must be 1 to 63 bytes"},
		{"control byte in name", 64, []arena.Option{arena.WithName("a\nb")}, "non-printable"},
		{"empty shared name", 64, []arena.Option{arena.WithShared("")}, "must be 1 to 200 bytes"},
		{"slash in shared name", 64, []arena.Option{arena.WithShared("a/b")}, "invalid byte '/'"},
		{"dot shared name", 64, []arena.Option{arena.WithShared("..")}, "must not start with '.'"},
		{"shared name taken", 64, []arena.Option{arena.WithShared(existing)}, "file exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := arena.New(tc.size, tc.opts...)
			if err == nil {
				a.Close()
				t.Fatalf("New succeeded, want error %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cgoguard: ") {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	junk := fmt.Sprintf("cgoguard-test-junk-%d", os.Getpid())
	path := filepath.Join("/dev/shm", junk)
	if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.Remove(path) })
	if _, err := arena.Open(junk); !errors.Is(err, arena.ErrBadHeader) {
		t.Fatalf("Open of a zero file: %v, want ErrBadHeader", err)
	}
	if _, err := arena.Open("cgoguard-test-missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open of a missing arena: %v, want ErrNotExist", err)
	}
	if _, err := arena.Open("x/../etc/passwd"); err == nil || !strings.Contains(err.Error(), "invalid byte") {
		t.Fatalf("Open with a path: %v", err)
	}
	if err := arena.Remove("cgoguard-test-missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Remove of a missing arena: %v", err)
	}
}

// TestSharedSecondProcess re-executes the test binary: the child opens the
// shared arena, reads the blocks the parent wrote through their text refs,
// checks that a stale ref is refused there too, and writes a block of its
// own that the parent then reads.
func TestSharedSecondProcess(t *testing.T) {
	name := fmt.Sprintf("cgoguard-test-shared-%d", os.Getpid())
	a := newArena(t, 1<<16, arena.WithShared(name))
	stale, b, err := a.Alloc(16, 8)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "old generation!!")
	a.Reset()
	var refs []string
	for _, msg := range []string{"hello from the parent", "second block, 64-aligned"} {
		ref, b, err := a.Alloc(len(msg), 64)
		if err != nil {
			t.Fatal(err)
		}
		copy(b, msg)
		text, _ := ref.MarshalText()
		refs = append(refs, string(text))
	}
	refs = append(refs, stale.String())
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name, childEnv+"_REFS="+strings.Join(refs, " "))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"read hello from the parent",
		"read second block, 64-aligned",
		"rejected stale: cgoguard: reference from an earlier generation",
	}
	if len(lines) != 4 {
		t.Fatalf("child output:\n%s", out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("child line %d = %q, want %q", i, lines[i], w)
		}
	}
	text, ok := strings.CutPrefix(lines[3], "wrote ")
	if !ok {
		t.Fatalf("child line 3 = %q", lines[3])
	}
	var ref arena.Ref
	if err := ref.UnmarshalText([]byte(text)); err != nil {
		t.Fatal(err)
	}
	got, err := a.Resolve(ref)
	if err != nil {
		t.Fatalf("parent resolves the child's ref: %v", err)
	}
	if wantMsg := fmt.Sprintf("written by pid %d", cmd.Process.Pid); string(got) != wantMsg {
		t.Fatalf("child's block holds %q, want %q", got, wantMsg)
	}
	// The child's allocation moved the shared cursor past the parent's.
	if st := a.Stats(); st.Used < int64(ref.Offset()+ref.Len()-4096) {
		t.Fatalf("parent's used %d does not include the child's block at %d", st.Used, ref.Offset())
	}
}

func child(name string, refs []string) int {
	a, err := arena.Open(name)
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer a.Close()
	for _, text := range refs {
		var r arena.Ref
		if err := r.UnmarshalText([]byte(text)); err != nil {
			fmt.Println("decode:", err)
			return 1
		}
		b, err := a.Resolve(r)
		if errors.Is(err, arena.ErrStaleRef) {
			fmt.Println("rejected stale:", err)
			continue
		}
		if err != nil {
			fmt.Println("resolve:", err)
			return 1
		}
		fmt.Printf("read %s\n", b)
	}
	msg := fmt.Sprintf("written by pid %d", os.Getpid())
	r, b, err := a.Alloc(len(msg), 8)
	if err != nil {
		fmt.Println("alloc:", err)
		return 1
	}
	copy(b, msg)
	fmt.Println("wrote", r)
	return 0
}
