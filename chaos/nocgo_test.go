//go:build !cgo

package chaos_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/chaos"
)

func TestNoCgo(t *testing.T) {
	if err := chaos.Set("zlib=segv"); !errors.Is(err, cgoguard.ErrNotSupported) {
		t.Fatalf("Set: %v, want ErrNotSupported", err)
	}
	srv := httptest.NewServer(chaos.Handler(chaos.WithToken("t")))
	defer srv.Close()
	req, _ := http.NewRequest("PUT", srv.URL, strings.NewReader("zlib=segv"))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("PUT = %d, want 501", resp.StatusCode)
	}
}
