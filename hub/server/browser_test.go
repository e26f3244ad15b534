package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cgoguard/cgoguard/checklist"
	"github.com/cgoguard/cgoguard/hub"
)

// chromium finds a Chromium to drive, skipping the test (failing it under
// CI) when there is none.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed (Debian package chromium), and CI is set")
	}
	t.Skip("skipping: Chromium not installed (install the Debian package chromium; with CI set this fails)")
	return ""
}

// outDir is out/ at the repository root, where CI collects artifacts.
func outDir(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowser drives headless Chromium through the pages as a person
// would: log in with a token, open a run, unfold its evidence, open a
// check's trend. Screenshots go to out/.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	out := outDir(t)
	now := time.Now().UTC()
	e := newEnv(t, sqliteDSN(t))
	seed(t, e, now)
	x := `<script>document.title='pwned';window.pwned=1</script>`
	res := result(now.Add(-time.Minute), checklist.Fail, checklist.Pass)
	res.Checks[0].ID = "CG-ZLIB-01"
	res.Checks[0].Title = "inflate survives a corrupt stream"
	res.Checks[0].Message = "exit code 2"
	res.Checks[0].Evidence = checklist.Evidence{Command: "go test ./zlib", ExitCode: 2,
		Stdout: "--- FAIL: TestCorrupt\n    crash in inflate_fast: SIGSEGV at 0x0\n" + x}
	res.Checks[1].ID = "id" + x
	mustCode(t, e.upload("browser-run", res, hub.Context{Repo: "org/svc", Branch: "main", Commit: "0123456789abcdef"}), 201)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1100),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}

	// Reads are protected: the runs page sends the visitor to log in.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/runs/browser-run")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`input[name="token"]`),
		chromedp.SendKeys(`input[name="token"]`, e.tokens[hub.RoleViewer]),
		chromedp.Click(`form.login button`),
		chromedp.WaitVisible(`table.checks`),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	outcome, err := chromedp.Run(ctx, chromedp.Text(`dl.facts .badge`))
	if err != nil || strings.TrimSpace(strings.ToLower(outcome)) != "fail" {
		t.Fatalf("run outcome shown as %q (%v)", outcome, err)
	}
	// The evidence is collapsed until opened.
	if eval(`document.querySelector('#check-0 details').open`) {
		t.Error("evidence open by default")
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#check-0 details summary`), chromedp.WaitVisible(`#check-0 pre.out`)); err != nil {
		t.Fatalf("open evidence: %v", err)
	}
	ev, err := chromedp.Run(ctx, chromedp.Text(`#check-0 pre.out`))
	if err != nil || !strings.Contains(ev, "crash in inflate_fast: SIGSEGV at 0x0") || !strings.Contains(ev, x) {
		t.Fatalf("evidence text %q (%v)", ev, err)
	}
	idText, err := chromedp.Run(ctx, chromedp.Text(`#check-1 td a`))
	if err != nil || idText != "id"+x {
		t.Errorf("check id shown as %q (%v)", idText, err)
	}
	// What was uploaded stayed text: no script element, nothing ran.
	if !eval(`document.querySelectorAll('script').length === 0 && window.pwned === undefined && document.title !== 'pwned'`) {
		t.Error("uploaded script became live on the run page")
	}
	shot("hub-run.png")

	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/checks/cl/A"),
		chromedp.WaitVisible(`#chart-failure-rate svg polyline`),
	); err != nil {
		t.Fatalf("check page: %v", err)
	}
	// A rendered chart: the failure-rate line has a size on the page and
	// one dot per day with runs.
	if !eval(`(() => { const b = document.querySelector('#chart-failure-rate polyline').getBBox(); return b.width > 100 && b.height > 10 })()`) {
		t.Error("failure-rate line not drawn")
	}
	dots, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#chart-failure-rate circle').length`))
	if err != nil || dots < 9 {
		t.Errorf("%d dots on the failure-rate chart (%v), want one per day with runs", dots, err)
	}
	caption, err := chromedp.Run(ctx, chromedp.Text(`#chart-duration figcaption`))
	if err != nil || !strings.Contains(caption, "Duration") {
		t.Errorf("duration chart caption %q (%v)", caption, err)
	}
	shot("hub-check-trend.png")

	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/runs"), chromedp.WaitVisible(`table.runs`)); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.runs tbody tr').length`))
	if err != nil || rows != 11 {
		t.Errorf("%d rows on the runs page (%v), want 11", rows, err)
	}
	shot("hub-runs.png")
}
