//go:build cgo

package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
	"github.com/cgoguard/cgoguard/internal/cfixture"
)

func ExampleSet() {
	m, err := cgoguard.New("example-set", cgoguard.WithCrashPolicy(cgoguard.Restart))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	if err := chaos.Set("example-set=1*segv->1*errno(ENOENT)"); err != nil {
		fmt.Println(err)
		return
	}
	defer chaos.Clear()
	for i := 0; i < 3; i++ {
		_, err := m.Call(context.Background(), cfixture.Empty, nil)
		var ce *cgoguard.CrashError
		switch {
		case errors.As(err, &ce):
			fmt.Println("crash:", cgoguard.SignalName(ce.Signal))
		case err != nil:
			fmt.Println("error:", err)
		default:
			fmt.Println("ok")
		}
	}
	// Output:
	// crash: SIGSEGV
	// error: cgoguard: module "example-set": no such file or directory (code -2)
	// ok
}

func ExampleHandler() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(chaos.Collector())
	admin := chaos.Handler() // the token from CGOGUARD_ADMIN_TOKEN
	mux := http.NewServeMux()
	mux.Handle("/debug/cgoguard/failpoints", admin)
	mux.Handle("/debug/cgoguard/failpoints/", admin)
	// curl -X PUT -H "Authorization: Bearer $TOKEN" --data 'zlib=20%segv' \
	//      'http://host/debug/cgoguard/failpoints?ttl=30s'
}
