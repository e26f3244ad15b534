package kinds_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/checklist"
	_ "github.com/cgoguard/cgoguard/checklist/kinds"
)

// TestMain doubles as the service that http and metric checks start:
// with KINDS_TEST_SERVE=1 the test binary serves instead of testing.
func TestMain(m *testing.M) {
	if os.Getenv("KINDS_TEST_SERVE") == "1" {
		serve()
		return
	}
	os.Exit(m.Run())
}

func serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok","modules":{"zlib":{"state":"serving"}},"token":"sk-live-abcdef"}`)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":"quarantined"}`)
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE cgoguard_calls_total counter\n"+
			"cgoguard_calls_total{module=\"zlib\",outcome=\"ok\"} 7\n"+
			"cgoguard_calls_total{module=\"zlib\",outcome=\"crash\"} 1\n"+
			"cgoguard_calls_total{module=\"png\",outcome=\"ok\"} 5\n"+
			"# TYPE cgoguard_call_duration_seconds histogram\n"+
			"cgoguard_call_duration_seconds_bucket{module=\"zlib\",le=\"+Inf\"} 8\n"+
			"cgoguard_call_duration_seconds_sum{module=\"zlib\"} 0.5\n"+
			"cgoguard_call_duration_seconds_count{module=\"zlib\"} 8\n")
	})
	fmt.Fprintf(os.Stderr, "service ready, listening on %s\n", ln.Addr())
	_ = http.Serve(ln, mux)
}

// runOne runs a one-check checklist and returns its result.
func runOne(t *testing.T, check string, opts ...checklist.Option) checklist.CheckResult {
	t.Helper()
	cl, err := checklist.Parse("t.yaml", []byte("checklist: t\nchecks:\n  - "+check+"\n"), checklist.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := checklist.NewRunner(opts...).Run(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return res.Checks[0]
}

type expect struct {
	outcome  checklist.Outcome
	message  string   // substring
	evidence []string // substrings of stdout+stderr+command
	absent   []string
}

func (e expect) check(t *testing.T, got checklist.CheckResult) {
	t.Helper()
	if got.Outcome != e.outcome {
		t.Fatalf("outcome %s (%s), want %s", got.Outcome, got.Message, e.outcome)
	}
	if !strings.Contains(got.Message, e.message) {
		t.Errorf("message %q lacks %q", got.Message, e.message)
	}
	all := got.Evidence.Command + "\n" + got.Evidence.Stdout + "\n" + got.Evidence.Stderr
	for _, s := range e.evidence {
		if !strings.Contains(all, s) {
			t.Errorf("evidence lacks %q:\n%s", s, all)
		}
	}
	for _, s := range e.absent {
		if strings.Contains(all+got.Message, s) {
			t.Errorf("evidence has %q:\n%s", s, all)
		}
	}
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name, check string
		want        expect
	}{
		{"argv exit code", `{id: A, title: t, kind: command, with: {argv: [sh, -c, "exit 4"], exit_code: 4}}`,
			expect{outcome: checklist.Pass, message: "exit code 4", evidence: []string{"sh -c 'exit 4'"}}},
		{"stdout pattern", `{id: A, title: t, kind: command, with: {run: "echo hello", stdout_matches: "^bye"}}`,
			expect{outcome: checklist.Fail, message: `stdout does not match "^bye"`}},
		{"stderr must not match", `{id: A, title: t, kind: command, with: {run: "echo 'warning: x' >&2", stderr_not_matches: "warning:"}}`,
			expect{outcome: checklist.Fail, message: `stderr matches "warning:" at line 1: "warning: x"`}},
		{"env", `{id: A, title: t, kind: command, with: {run: "echo $FOO", env: {FOO: bar}, stdout_matches: bar}}`,
			expect{outcome: checklist.Pass, evidence: []string{"FOO=bar echo $FOO"}}},
		{"runner env marker", `{id: A, title: t, kind: command, with: {run: "echo $CGOGUARD_CHECK", stdout_matches: "(?m)^1$"}}`,
			expect{outcome: checklist.Pass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.want.check(t, runOne(t, tt.check)) })
	}
}

func TestVet(t *testing.T) {
	fake, _ := filepath.Abs("testdata/fakevet")
	argsFile := filepath.Join(t.TempDir(), "args")
	tests := []struct {
		name, mode, check string
		want              expect
		findings          int
	}{
		{"findings fail", "findings", `{id: A, title: t, kind: vet, with: {rules: [CG013]}}`,
			expect{outcome: checklist.Fail, message: "1 suppressed finding(s); 1 finding(s) for CG013, first: /src/p/a.go:12:3: CG013 C.CString result is not freed on every path",
				evidence: []string{"/src/p/b.go:7:9: CG013 C.CString passed inline is never freed (suppressed: freed by the C callee)"}, absent: []string{"CG026"}}, 2},
		{"other rule clean", "findings", `{id: A, title: t, kind: vet, with: {rules: [CG031]}}`,
			expect{outcome: checklist.Pass, message: "no findings for CG031"}, 0},
		{"clean", "clean", `{id: A, title: t, kind: vet, with: {rules: [CG013, CG014]}}`,
			expect{outcome: checklist.Pass, message: "no findings for CG013,CG014", evidence: []string{"vet -format json -rules CG013,CG014 ./p/..."}}, 0},
		{"errors", "errors", `{id: A, title: t, kind: vet}`,
			expect{outcome: checklist.Error, message: "vet reported errors: p: type-checking failed"}, 0},
		{"garbage", "garbage", `{id: A, title: t, kind: vet}`,
			expect{outcome: checklist.Error, message: "vet exited 1 without a JSON report"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append(os.Environ(), "FAKEVET_MODE="+tt.mode, "FAKEVET_ARGS="+argsFile)
			got := runOne(t, tt.check, checklist.WithVetCommand(fake), checklist.WithEnviron(env), checklist.WithPackages("./p/..."))
			tt.want.check(t, got)
			if len(got.Findings) != tt.findings {
				t.Errorf("%d findings, want %d", len(got.Findings), tt.findings)
			}
			if tt.findings > 0 && (got.Findings[0].Line != 12 || got.Findings[0].EndColumn != 20 || got.Findings[0].File != "/src/p/a.go") {
				t.Errorf("finding location lost: %+v", got.Findings[0])
			}
		})
	}
}

// TestVetRunsOncePerPackages: several vet checks over the same packages
// share one vet process run with the union of their rules.
func TestVetRunsOncePerPackages(t *testing.T) {
	fake, _ := filepath.Abs("testdata/fakevet")
	argsFile := filepath.Join(t.TempDir(), "args")
	cl, err := checklist.Parse("t.yaml", []byte(`checklist: t
checks:
  - {id: A, title: a, kind: vet, with: {rules: [CG013]}}
  - {id: B, title: b, kind: vet, with: {rules: [CG026, CG013]}}
  - {id: C, title: c, kind: vet, with: {rules: [CG031], packages: [./q]}}
`), checklist.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "FAKEVET_MODE=findings", "FAKEVET_ARGS="+argsFile)
	res, err := checklist.NewRunner(checklist.WithVetCommand(fake), checklist.WithEnviron(env), checklist.WithPackages("./p")).Run(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(argsFile)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("vet ran %d times, want 2:\n%s", len(lines), data)
	}
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "-rules CG013,CG026 ./p") || !strings.Contains(joined, "-rules CG031 ./q") {
		t.Fatalf("vet invocations:\n%s", joined)
	}
	got := byID(res)
	if got["A"].Outcome != checklist.Fail || got["B"].Outcome != checklist.Fail || got["C"].Outcome != checklist.Pass {
		t.Fatalf("outcomes %v %v %v", got["A"].Outcome, got["B"].Outcome, got["C"].Outcome)
	}
	if len(got["B"].Findings) != 3 {
		t.Fatalf("B has %d findings, want 3", len(got["B"].Findings))
	}
}

func byID(res *checklist.Result) map[string]checklist.CheckResult {
	m := map[string]checklist.CheckResult{}
	for _, c := range res.Checks {
		m[c.ID] = c
	}
	return m
}

func TestGoTestAndLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	tests := []struct {
		name, check string
		env         []string
		want        expect
		tests       int
	}{
		{"pass", `{id: A, title: t, kind: gotest, with: {min_tests: 3}}`, nil,
			expect{outcome: checklist.Pass, message: "5 passed, 0 failed, 1 skipped", evidence: []string{"ok   example.com/m/pkg"}}, 6},
		{"fail", `{id: A, title: t, kind: gotest, with: {flags: [-count=1]}}`, []string{"FIXTURE_FAIL=1"},
			expect{outcome: checklist.Fail, message: "first failure: example.com/m/pkg.TestFlagged: pkg_test.go:19: failing as asked: password=[REDACTED]",
				evidence: []string{"--- FAIL example.com/m/pkg.TestFlagged"}, absent: []string{"hunter2"}}, 6},
		{"crash", `{id: A, title: t, kind: gotest, with: {flags: [-count=1], run: "TestAdd|TestCrash"}}`, []string{"FIXTURE_CRASH=1"},
			expect{outcome: checklist.Fail, message: "first failure: example.com/m/pkg.TestCrash"}, 2},
		{"too few tests", `{id: A, title: t, kind: gotest, with: {run: TestAdd, min_tests: 2}}`, nil,
			expect{outcome: checklist.Fail, message: "at least 2 tests must run"}, 1},
		{"leak found", `{id: A, title: t, kind: leak, with: {flags: [-count=1]}}`, []string{"FIXTURE_LEAK=1"},
			expect{outcome: checklist.Fail, message: "leakcheck: C heap grew by 4096 bytes over 100 iterations (2 leakcheck line(s)",
				evidence: []string{"leakcheck: 1 handle still live, created at pkg_test.go:30", "-run Leak"}}, 2},
		{"no leak", `{id: A, title: t, kind: leak}`, nil,
			expect{outcome: checklist.Pass, message: "2 passed"}, 2},
		{"no leak tests", `{id: A, title: t, kind: leak, with: {run: NoSuchTest}}`, nil,
			expect{outcome: checklist.Pass, message: `no leak test matched -run "NoSuchTest"`}, 0},
		{"build failure", `{id: A, title: t, kind: gotest, with: {packages: [./nosuch]}}`, nil,
			expect{outcome: checklist.Fail, message: "go test exited 1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append(os.Environ(), tt.env...)
			got := runOne(t, tt.check, checklist.WithDir("testdata/mod"), checklist.WithPackages("./..."), checklist.WithEnviron(env))
			tt.want.check(t, got)
			if len(got.Tests) != tt.tests {
				t.Errorf("%d test results, want %d: %+v", len(got.Tests), tt.tests, got.Tests)
			}
		})
	}
}

func TestHTTPAndMetric(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	serve := fmt.Sprintf(`serve: {argv: [%q], env: {KINDS_TEST_SERVE: "1"}, ready_seconds: 20}`, exe)
	tests := []struct {
		name, check string
		want        expect
	}{
		{"health", `{id: A, title: t, kind: http, with: {url: /healthz, ` + serve + `, json: [{path: status, equals: ok}, {path: modules.zlib.state, matches: "^serving$"}]}}`,
			expect{outcome: checklist.Pass, message: "/healthz: 200", evidence: []string{`"status":"ok"`, "service ready, listening on 127.0.0.1:", "serve: KINDS_TEST_SERVE=1 "}, absent: []string{"sk-live-abcdef"}}},
		{"status", `{id: A, title: t, kind: http, with: {url: /readyz, ` + serve + `}}`,
			expect{outcome: checklist.Fail, message: "status 503, want 200", evidence: []string{"quarantined"}}},
		{"json value", `{id: A, title: t, kind: http, with: {url: /healthz, ` + serve + `, json: [{path: status, equals: degraded}, {path: nope}]}}`,
			expect{outcome: checklist.Fail, message: `json status = "ok", want degraded; json nope is missing`}},
		{"metric sum", `{id: A, title: t, kind: metric, with: {url: /metrics, ` + serve + `, series: 'cgoguard_calls_total{module="zlib"}', op: "==", value: 8}}`,
			expect{outcome: checklist.Pass, message: `cgoguard_calls_total{module="zlib"} = 8 over 2 series, want == 8`}},
		{"metric threshold", `{id: A, title: t, kind: metric, with: {url: /metrics, ` + serve + `, series: 'cgoguard_calls_total{outcome="crash"}', op: "<", value: 1}}`,
			expect{outcome: checklist.Fail, message: "= 1 over 1 series, want < 1", evidence: []string{`cgoguard_calls_total{module="zlib",outcome="crash"} 1`}}},
		{"metric histogram", `{id: A, title: t, kind: metric, with: {url: /metrics, ` + serve + `, series: cgoguard_call_duration_seconds, value: 8}}`,
			expect{outcome: checklist.Pass}},
		{"metric missing", `{id: A, title: t, kind: metric, with: {url: /metrics, ` + serve + `, series: cgoguard_crashes_total}}`,
			expect{outcome: checklist.Fail, message: "no series matches cgoguard_crashes_total"}},
		{"service never ready", `{id: A, title: t, kind: http, with: {url: /healthz, serve: {run: "echo starting; exit 1"}}}`,
			expect{outcome: checklist.Fail, message: "service exited before it was ready"}},
		{"nothing listening", `{id: A, title: t, kind: http, with: {url: "http://127.0.0.1:1/healthz"}}`,
			expect{outcome: checklist.Fail, message: "request failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.check(t, runOne(t, tt.check, checklist.WithRedact(`sk-live-[a-z]+`)))
		})
	}
}

func TestFile(t *testing.T) {
	tests := []struct {
		name, check string
		want        expect
	}{
		{"present", `{id: A, title: t, kind: file, with: {paths: ["testdata/files/*.txt"], max_mode: "0644"}}`,
			expect{outcome: checklist.Pass, message: "2 file(s) checked"}},
		{"absent", `{id: A, title: t, kind: file, with: {paths: ["testdata/files/*.log"]}}`,
			expect{outcome: checklist.Fail, message: "no file matches testdata/files/*.log"}},
		{"must not exist", `{id: A, title: t, kind: file, with: {paths: ["testdata/files/a.txt"], exists: false}}`,
			expect{outcome: checklist.Fail, message: "testdata/files/a.txt exists but must not"}},
		{"mode", `{id: A, title: t, kind: file, with: {paths: ["testdata/files/a.txt"], mode: "0600"}}`,
			expect{outcome: checklist.Fail, message: "has mode 0644, want 0600"}},
		{"content", `{id: A, title: t, kind: file, with: {paths: ["testdata/files/*.txt"], matches: "ok"}}`,
			expect{outcome: checklist.Fail, message: `testdata/files/a.txt does not match "ok"`}},
		{"forbidden line", `{id: A, title: t, kind: file, with: {paths: ["testdata/files/*.txt"], not_matches: "content"}}`,
			expect{outcome: checklist.Fail, message: "1 line(s) match", evidence: []string{"testdata/files/a.txt:1: [REDACTED]"}}},
		{"env", `{id: A, title: t, kind: file, with: {env: {CGOGUARD_CHECK: "^1$", HOME: "."}}}`,
			expect{outcome: checklist.Pass, message: "environment as expected"}},
		{"go env", `{id: A, title: t, kind: file, with: {go_env: {GOOS: "^linux$", CGO_ENABLED: "^0$"}}}`,
			expect{outcome: checklist.Fail, message: `go env CGO_ENABLED="1" does not match "^0$"`}},
		{"package files", `{id: A, title: t, kind: file, with: {package_files: [go], packages: [./testdata/mod/...], not_matches: "func Add"}}`,
			expect{outcome: checklist.Pass, message: "no files to check"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.check(t, runOne(t, tt.check, checklist.WithRedact(`secret content line`)))
		})
	}
}

func TestPackageFiles(t *testing.T) {
	got := runOne(t, `{id: A, title: t, kind: file, with: {package_files: [go], not_matches: "func Add"}}`,
		checklist.WithDir("testdata/mod"), checklist.WithPackages("./..."))
	expect{outcome: checklist.Fail, message: "1 line(s) match", evidence: []string{"pkg/pkg.go:5: func Add(a, b int) int { return a + b }"}}.check(t, got)
}
