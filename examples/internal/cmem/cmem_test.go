package cmem

import (
	"os"
	"testing"
)

func TestCounters(t *testing.T) {
	tests := []struct {
		name string
		fn   func() (int64, error)
	}{
		{"heap", HeapInUse},
		{"fds", func() (int64, error) { n, err := OpenFDs(); return int64(n), err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.fn()
			if err != nil {
				t.Fatal(err)
			}
			if n <= 0 {
				t.Fatalf("%s = %d, want > 0", tt.name, n)
			}
		})
	}
}

func TestOpenFDsSeesAFile(t *testing.T) {
	before, _ := OpenFDs()
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	during, _ := OpenFDs()
	f.Close()
	if during != before+1 {
		t.Fatalf("fds %d -> %d with one file open, want +1", before, during)
	}
}

func ExampleHeapInUse() {
	n, err := HeapInUse()
	_ = n // bytes in use on the C heap
	_ = err
	// Output:
}
