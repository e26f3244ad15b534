package arena

import (
	"errors"
	"testing"
)

// TestLayoutMatchesC checks that the Go offsets agree with struct cg_arena.
func TestLayoutMatchesC(t *testing.T) {
	got, err := cLayout()
	if errors.Is(err, ErrNotSupported) {
		t.Skip("C side needs cgo")
	}
	want := []uintptr{offMagic, offVersion, offID, offMapSize, offDataOff, offCapacity, offFlags,
		offState, offHighWater, offExhausted, offGen, offName, headerStruct}
	if len(got) != len(want) {
		t.Fatalf("C reports %d layout values, Go has %d", len(got), len(want))
	}
	names := []string{"magic", "version", "id", "map_size", "data_off", "capacity", "flags",
		"state", "high_water", "exhausted", "gen", "name", "sizeof"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: C offset %d, Go offset %d", names[i], got[i], want[i])
		}
	}
	if offName+nameMax+1 > headerStruct || headerStruct > headerSize {
		t.Errorf("name field or header does not fit: name ends %d, struct %d, page %d", offName+nameMax+1, headerStruct, headerSize)
	}
}
