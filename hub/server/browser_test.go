package server

import (
	"context"
	"fmt"
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

	// The platform team's workflow: an author uploads a new version of
	// the team checklist, a reviewer approves it on its page.
	mustCode(t, e.yaml(hub.RoleAuthor, teamV1), 201)
	mustCode(t, e.do("POST", "/api/v1/checklists/team/versions/1/approve", e.tokens[hub.RoleReviewer], []byte(`{"comment":"first version"}`)), 200)
	v2 := strings.Replace(teamV1, "title: tests", "title: unit tests under the race detector", 1)
	v2 = strings.Replace(v2, `with: {run: "true"}
`, `with: {run: "go test -race ./..."}
    timeout_seconds: 600
`, 2)
	mustCode(t, e.yaml(hub.RoleAuthor, v2), 201)
	login := func(role hub.Role, next, ready string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(e.srv.URL+"/login?next="+next),
			chromedp.WaitVisible(`input[name="token"]`),
			chromedp.SendKeys(`input[name="token"]`, e.tokens[role]),
			chromedp.Click(`form.login button`),
			chromedp.WaitVisible(ready),
		); err != nil {
			t.Fatalf("log in as %s: %v", role, err)
		}
	}
	login(hub.RoleReviewer, "/checklists/team/versions/2", `#state`)
	state, err := chromedp.Run(ctx, chromedp.Text(`#state`))
	if err != nil || state != "pending" {
		t.Fatalf("version 2 state %q (%v)", state, err)
	}
	if !eval(`document.querySelectorAll('pre.diff .d-add').length >= 2 && document.querySelectorAll('pre.diff .d-del').length >= 2`) {
		t.Error("the diff to version 1 is not shown")
	}
	shot("hub-checklist-review.png")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`form.review input[name="comment"]`, "race detector on: agreed"),
		chromedp.Click(`button.approve`),
		chromedp.WaitVisible(`#state.s-approved`),
	); err != nil {
		t.Fatalf("approve: %v", err)
	}
	state, err = chromedp.Run(ctx, chromedp.Text(`#state`))
	if err != nil || state != "approved" {
		t.Fatalf("after approving on the page, state %q (%v)", state, err)
	}
	if doc := decodeJSON[hub.ChecklistDocument](t, e.do("GET", "/api/v1/checklists/team/active", e.tokens[hub.RoleRunner], nil)); doc.Version != 2 || doc.Approver != "tok-reviewer" {
		t.Fatalf("active after approval: %+v", doc)
	}
	shot("hub-checklist-approved.png")

	// Anyone signed in votes on a check; its value card changes.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/checks/cl/C"), chromedp.WaitVisible(`#card`)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(`#card h2 .card`))
	if err != nil || strings.ToLower(before) != "green" {
		t.Fatalf("card of C before the vote: %q (%v)", before, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`form.vote input[name="comment"]`, "skips on every ARM runner, tells us nothing"),
		chromedp.Click(`form.vote button.noisy`),
		chromedp.WaitVisible(`#card table.votes`),
	); err != nil {
		t.Fatalf("vote: %v", err)
	}
	after, err := chromedp.Run(ctx, chromedp.Text(`#card h2 .card`))
	if err != nil || strings.ToLower(after) != "yellow" {
		t.Fatalf("card of C after a noisy vote: %q (%v)", after, err)
	}
	why, err := chromedp.Run(ctx, chromedp.Text(`#card p.why`))
	if err != nil || !strings.Contains(why, "noisy_votes") {
		t.Errorf("the card does not name its rule: %q (%v)", why, err)
	}
	shot("hub-card.png")

	// A nightly checklist whose leak check fails every night and whose
	// fuzz check always skips, and two more people who find C noisy: the
	// retire-or-fix page lists them, worst first.
	for d := range 6 {
		res := result(now.Add(-time.Duration(d)*24*time.Hour-time.Hour), checklist.Fail, checklist.Skip, checklist.Pass)
		res.Checklist = "nightly"
		res.Checks[0].ID, res.Checks[0].Title = "CG-LEAK-07", "the parser frees every header"
		res.Checks[1].ID, res.Checks[1].Title = "CG-FUZZ-02", "the decoder survives 10 minutes of fuzzing"
		res.Checks[2].ID, res.Checks[2].Title = "CG-THR-01", "no C thread outlives the module"
		mustCode(t, e.upload(fmt.Sprint("nightly-", d), res, hub.Context{Repo: "org/svc", Branch: "main"}), 201)
	}
	for _, role := range []hub.Role{hub.RoleRunner, hub.RoleAuthor} {
		mustCode(t, e.do("POST", "/api/v1/checks/cl/C/votes", e.tokens[role], []byte(`{"vote":"noisy"}`)), 201)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/retire"), chromedp.WaitVisible(`table.retire`)); err != nil {
		t.Fatal(err)
	}
	red, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.retire tbody tr td:nth-child(2)')].map(td => td.textContent)`))
	if err != nil || strings.Join(red, ",") != "CG-LEAK-07,CG-FUZZ-02,C" {
		t.Errorf("red checks on the retire page: %v (%v), want CG-LEAK-07, CG-FUZZ-02, C", red, err)
	}
	shot("hub-retire.png")
	login(hub.RoleAdmin, "/admin/audit", `table.audit`)
	rowsAudit, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.audit tbody tr').length`))
	if err != nil || rowsAudit < 5 {
		t.Errorf("%d audit rows (%v)", rowsAudit, err)
	}
	approve, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('table.audit tbody tr')].some(r => r.textContent.includes('checklist.approve') && r.textContent.includes('team@2') && r.textContent.includes('tok-reviewer'))`))
	if err != nil || !approve {
		t.Errorf("the page's approval is not in the audit log (%v)", err)
	}
	shot("hub-audit.png")
}
