package kinds_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cgoguard/cgoguard/checklist"
)

// lines prints n numbered lines of about 20 bytes each.
const lines = `i=1; while [ $i -le %d ]; do echo "line $i padding-pad"; i=$((i+1)); done`

// The patterns of a command check hold over the whole output, not only
// over the head and tail kept as evidence.
func TestCommandPatternsSeeTheWholeStream(t *testing.T) {
	middle := "(" + strings.Replace(lines, "%d", "500", 1) + "; echo 'FORBIDDEN in the middle'; " + strings.Replace(lines, "%d", "500", 1) + ")"
	q := strconv.Quote
	tests := []struct {
		name, with string
		want       expect
	}{
		{"forbidden line in the middle", `{run: ` + q(middle) + `, stdout_not_matches: FORBIDDEN}`,
			expect{outcome: checklist.Fail, message: `stdout matches "FORBIDDEN" at line 501: "FORBIDDEN in the middle"`}},
		{"wanted line in the middle", `{run: ` + q(middle) + `, stdout_matches: "(?m)^FORBIDDEN in the middle$"}`,
			expect{outcome: checklist.Pass}},
		{"stderr too", `{run: ` + q(middle+" >&2") + `, stderr_not_matches: "FORBIDDEN"}`,
			expect{outcome: checklist.Fail, message: `stderr matches "FORBIDDEN" at line 501`}},
		{"anchored to the end of the stream", `{run: ` + q(middle+"; printf last") + `, stdout_matches: "last$"}`,
			expect{outcome: checklist.Pass}},
		{"not present", `{run: ` + q(middle) + `, stdout_matches: "absent"}`,
			expect{outcome: checklist.Fail, message: `stdout does not match "absent"`}},
		{"evidence markers are not output", `{run: ` + q(middle+"; "+middle) + `, stdout_not_matches: "omitted"}`,
			expect{outcome: checklist.Pass}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runOne(t, `{id: A, title: t, kind: command, with: `+tt.with+`}`)
			tt.want.check(t, got)
			if n := len(got.Evidence.Stdout) + len(got.Evidence.Stderr); n > 17<<10 {
				t.Errorf("evidence is %d bytes, want it bounded", n)
			}
		})
	}
}

// Matching a large output keeps memory bounded: the stream is matched as
// it arrives, never held whole.
func TestCommandPatternsStreamInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 16 MiB through two patterns")
	}
	size := 16 << 20
	if raceEnabled {
		size = 512 << 10 // the race detector's allocations blur the measure: only the matching is checked
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got := runOne(t, `{id: A, title: t, kind: command, with: {run: "head -c `+strconv.Itoa(size)+` /dev/zero | tr '\\0' x; echo; echo END", stdout_matches: "(?m)^END$", stdout_not_matches: "y"}}`)
	runtime.ReadMemStats(&after)
	expect{outcome: checklist.Pass}.check(t, got)
	if grew := after.TotalAlloc - before.TotalAlloc; !raceEnabled && grew > uint64(size/2) {
		t.Errorf("matching %d MiB allocated %d MiB", size>>20, grew>>20)
	}
}

// A command that leaves a background child holding its stdout ends as soon
// as it exits: the child is killed with the group, and the result says so.
func TestCommandLeavingAChild(t *testing.T) {
	got := runOne(t, `{id: A, title: t, kind: command, with: {run: "sleep 30 & echo started", stdout_matches: started}}`)
	expect{outcome: checklist.Pass, message: "background processes it left were killed"}.check(t, got)
	if got.Duration.Seconds() > 1.5 {
		t.Errorf("took %s", got.Duration)
	}
}

// Vet evidence reads clean: a finding does not repeat its rule id, and a
// vet command that lives in a temporary go-build directory (go run) is
// shown by its name.
func TestVetEvidenceReadsClean(t *testing.T) {
	fake, _ := filepath.Abs("testdata/fakevet")
	exeDir := filepath.Join(t.TempDir(), "go-build123456", "b001", "exe")
	if err := os.MkdirAll(exeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	vet := filepath.Join(exeDir, "cgoguard")
	if err := os.Symlink(fake, vet); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "FAKEVET_MODE=findings")
	got := runOne(t, `{id: A, title: t, kind: vet, with: {rules: [CG026]}}`,
		checklist.WithVetCommand(vet), checklist.WithEnviron(env), checklist.WithPackages("./p/..."))
	expect{outcome: checklist.Fail, message: "/src/p/c.go:4:2: CG026 LockOSThread without UnlockOSThread",
		evidence: []string{"cgoguard vet -format json -rules CG026 ./p/...", "CG026 LockOSThread"},
		absent:   []string{"go-build123456", "CG026 CG026"}}.check(t, got)
	if got.Findings[0].Message != "LockOSThread without UnlockOSThread" {
		t.Errorf("finding message %q", got.Findings[0].Message)
	}
}
