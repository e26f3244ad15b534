//go:build cgo

package observe_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cgoguard/cgoguard"
	"github.com/cgoguard/cgoguard/bridge"
	"github.com/cgoguard/cgoguard/internal/cfixture"
	"github.com/cgoguard/cgoguard/observe"
)

// A name that is not valid UTF-8 (a bridge may have any name) must not make
// the whole scrape fail: every other series is still served.
func TestScrapeSurvivesABadLabel(t *testing.T) {
	b, err := bridge.New(64, bridge.WithName("queue\xff\xfe"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m := newModule(t, "")
	callN(t, m, 2, cfixture.Empty, nil)
	reg := prometheus.NewRegistry()
	if err := observe.Register(reg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`cgoguard_calls_total{module="` + m.Name() + `",outcome="ok"} 2`,
		"cgoguard_bridge_messages_total{bridge=\"queue\ufffd\",result=\"delivered\"} 0",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %s:\n%s", want, body)
		}
	}
}

// A long module name is cut on a character boundary in the status file, so
// readers get valid UTF-8.
func TestStatusCutsNamesOnCharacters(t *testing.T) {
	m, err := cgoguard.New(strings.Repeat("é", 40)) // 80 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	w, err := observe.StartStatus(observe.WithStatusDir(dir), observe.WithStatusInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	s, err := observe.ReadStatus(dir, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range s.Modules {
		if !utf8.ValidString(ms.Name) {
			t.Errorf("name %q is not valid UTF-8", ms.Name)
		}
		if strings.HasPrefix(ms.Name, "éé") && len(ms.Name) != 62 {
			t.Errorf("name cut to %d bytes, want 62", len(ms.Name))
		}
	}
}
