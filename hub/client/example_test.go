package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/client"
	"github.com/cgoguard/cgoguard/hub/server"
	"github.com/cgoguard/cgoguard/hub/store"
)

func ExampleClient_Deliver() {
	// A hub to upload to.
	dir, _ := os.MkdirTemp("", "hub-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, _ := store.Open(ctx, filepath.Join(dir, "hub.db"))
	defer st.Close()
	token, _, _ := st.CreateToken(ctx, "ci", hub.RoleRunner)
	srv, _ := server.New(ctx, st)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	c, err := client.New(ts.URL, client.WithToken(token), client.WithSpool(filepath.Join(dir, "spool")))
	if err != nil {
		fmt.Println(err)
		return
	}
	up := client.NewUpload([]byte(`{"checklist":"chaos","checks":[{"id":"kill-worker","outcome":"pass","attempts":1}]}`),
		hub.Context{Repo: "org/svc", Branch: "main"})
	rc, err := c.Deliver(ctx, up)
	fmt.Println(rc.Status, err)
	rc, err = c.Deliver(ctx, up) // sent twice, stored once
	fmt.Println(rc.Status, err)
	// Output:
	// created <nil>
	// duplicate <nil>
}

// A --from-hub reference names a hub, a checklist and optionally an
// approved version.
func ExampleParseChecklistRef() {
	ref, err := client.ParseChecklistRef("https://hub.example/cgo-reliability@3")
	fmt.Println(ref.Hub, ref.Name, ref.Version, err)
	// Output: https://hub.example cgo-reliability 3 <nil>
}
