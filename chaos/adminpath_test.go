package chaos_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cgoguard/cgoguard/chaos"
)

// fakeAdmin answers as Handler does, but only at the paths it is given
// (404 elsewhere), and records every request as "METHOD PATH".
type fakeAdmin struct {
	mu     sync.Mutex
	reqs   []string
	target string // the failpoint set, "" for none
}

func (f *fakeAdmin) server(t *testing.T, paths ...string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.Path)
		switch r.Method {
		case http.MethodPut:
			f.target, _, _ = strings.Cut(string(body), "=")
		case http.MethodDelete:
			f.target = ""
		}
		w.Header().Set("Content-Type", "application/json")
		if f.target == "" {
			fmt.Fprintln(w, `{"failpoints":[]}`)
			return
		}
		fmt.Fprintf(w, `{"failpoints":[{"target":%q,"module":%q}]}`+"\n", f.target, f.target)
	})
	for _, p := range paths {
		mux.Handle(p, h)
		mux.Handle(strings.TrimRight(p, "/")+"/reset", h)
	}
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "temperature 21") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeAdmin) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

// TestAdminDefaultPath: a target admin URL without a path is the process's
// base URL, and means the admin endpoint at DefaultAdminPath; a URL with a
// path is used as given.
func TestAdminDefaultPath(t *testing.T) {
	if chaos.DefaultAdminPath != "/debug/cgoguard/failpoints" {
		t.Fatalf("DefaultAdminPath = %q", chaos.DefaultAdminPath)
	}
	tests := []struct {
		name  string
		mount string                   // where the fake endpoint lives
		admin func(base string) string // the experiment's target.admin
	}{
		{"bare base URL", chaos.DefaultAdminPath, func(b string) string { return b }},
		{"base URL with a slash", chaos.DefaultAdminPath, func(b string) string { return b + "/" }},
		{"full URL", chaos.DefaultAdminPath, func(b string) string { return b + chaos.DefaultAdminPath }},
		{"full URL elsewhere", "/admin/fp", func(b string) string { return b + "/admin/fp" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := &fakeAdmin{}
			srv := fa.server(t, tt.mount)
			admin := tt.admin(srv.URL)

			// The loaded experiment holds the resolved URL.
			yaml := `
experiments:
  - name: fp
    fault_type: errno
    failpoint: errno(EIO)
    target: {admin: "` + admin + `", module: m}
    duration: 200ms
    interval: 50ms
    consecutive_ok: 1
    recovery_sla: 5s
    remediation: reset
    slo_target: {scrape: "` + srv.URL + `/metrics", metric: temperature, op: "<", threshold: 30}
`
			f, err := chaos.ParseFile("admin.yaml", []byte(yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := srv.URL + tt.mount
			if got := f.Experiments[0].Target.Admin; got != want {
				t.Errorf("loaded target.admin %q, want %q", got, want)
			}

			// The runner injects and removes the fault there.
			r := chaos.NewRunner(chaos.WithJournal(t.TempDir()+"/j.jsonl"),
				chaos.WithLookupEnv(func(k string) (string, bool) { return "tok", k == chaos.TokenEnvVar }))
			res, err := r.Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if v := res.Experiments[0].Verdict; v != chaos.Held {
				t.Errorf("verdict %s (%s), want held\n%s", v, res.Experiments[0].Summary(), strings.Join(res.Experiments[0].Log, "\n"))
			}
			reqs := fa.requests()
			var put, del bool
			for _, q := range reqs {
				put = put || q == "PUT "+tt.mount
				del = del || q == "DELETE "+tt.mount
			}
			if !put || !del {
				t.Errorf("the runner's requests %q, want a PUT and a DELETE at %s", reqs, tt.mount)
			}

			// An AdminClient given the bare base URL resolves it the same way.
			fa2 := &fakeAdmin{}
			srv2 := fa2.server(t, tt.mount)
			a := &chaos.AdminClient{Base: tt.admin(srv2.URL), Token: "tok"}
			ctx := context.Background()
			if _, err := a.Set(ctx, "m=errno(EIO)", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := a.List(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.Clear(ctx, "m"); err != nil {
				t.Fatal(err)
			}
			if err := a.Reset(ctx, "m"); err != nil {
				t.Fatal(err)
			}
			reset := strings.TrimRight(tt.mount, "/") + "/reset"
			wantReqs := []string{"PUT " + tt.mount, "GET " + tt.mount, "DELETE " + tt.mount, "POST " + reset}
			if got := fa2.requests(); strings.Join(got, ",") != strings.Join(wantReqs, ",") {
				t.Errorf("AdminClient requests %q, want %q", got, wantReqs)
			}
		})
	}
}
