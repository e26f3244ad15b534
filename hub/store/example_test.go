package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/store"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "hub-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "cgoguard-hub.db")) // or "postgres://…"
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	run, _ := hub.Decode([]byte(`{"format_version":1,"id":"r1","result":{"checklist":"c","started":"2026-11-01T10:00:00Z",
		"checks":[{"id":"A","outcome":"pass","attempts":1}]}}`), hub.DecodeOptions{})
	created, _ := st.PutRun(ctx, run)
	again, _ := st.PutRun(ctx, run) // a retried upload
	page, _ := st.Runs(ctx, store.RunFilter{Checklist: "c"})
	fmt.Println(st.Backend(), created, again, len(page.Runs), page.Runs[0].ID)
	// Output: sqlite true false 1 r1
}
