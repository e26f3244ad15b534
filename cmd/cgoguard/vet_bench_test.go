package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkVet compares "cgoguard vet" with plain "go vet" on the same cgo
// packages in the same run: the analyzers' own testdata packages (positive
// and negative cases of every theme, copied into one module). Each
// iteration is one round that runs every tool once, in an order rotated
// from round to round, so that load on the machine falls on all tools
// alike; the metrics are each tool's mean time per run and the ratios to
// go vet. Before each timed run every package gets a changed file, so go
// vet cannot answer from its result cache; compiled dependencies stay
// cached for all tools.
//
//	go test -run '^$' -bench BenchmarkVet -benchtime 6x ./cmd/cgoguard
func BenchmarkVet(b *testing.B) {
	corpus, pkgs := vetCorpus(b)
	bin := filepath.Join(b.TempDir(), "cgoguard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	vetBin := filepath.Join(b.TempDir(), "cgoguard-vet")
	if out, err := exec.Command("go", "build", "-o", vetBin, "../cgoguard-vet").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	tools := []struct {
		name string
		args []string
	}{
		{"go-vet", []string{"go", "vet", "./..."}},
		{"cgoguard-vet", []string{bin, "vet", "./..."}},
		{"go-vet-vettool", []string{"go", "vet", "-vettool=" + vetBin, "./..."}},
	}
	// One untimed round first: a freshly built vet tool has no facts for
	// the standard library in the build cache yet.
	iter := 0
	for _, tool := range tools {
		iter++
		touch(b, corpus, pkgs, iter)
		cmd := exec.Command(tool.args[0], tool.args[1:]...)
		cmd.Dir = corpus
		if out, err := cmd.CombinedOutput(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
				b.Fatalf("%s: %v\n%s", tool.name, err, out)
			}
		}
	}
	spent := make([]time.Duration, len(tools))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range tools {
			j := (i + k) % len(tools)
			tool := tools[j]
			b.StopTimer()
			iter++
			touch(b, corpus, pkgs, iter)
			b.StartTimer()
			start := time.Now()
			cmd := exec.Command(tool.args[0], tool.args[1:]...)
			cmd.Dir = corpus
			out, err := cmd.CombinedOutput()
			spent[j] += time.Since(start)
			if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
				b.Fatalf("%s: %v\n%s", tool.name, err, out)
			}
		}
	}
	b.ReportMetric(float64(len(pkgs)), "pkgs")
	for j, tool := range tools {
		b.ReportMetric(spent[j].Seconds()/float64(b.N), tool.name+"-s/run")
		if j > 0 {
			b.ReportMetric(float64(spent[j])/float64(spent[0]), tool.name+"/go-vet")
		}
	}
}

// vetCorpus copies the analyzers' testdata packages that need only the
// standard library into a module in a temporary directory.
func vetCorpus(b *testing.B) (string, []string) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/corpus\n\ngo 1.26\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	srcs, err := filepath.Glob(filepath.Join("..", "..", "analysis", "*", "testdata", "src", "*"))
	if err != nil {
		b.Fatal(err)
	}
	var pkgs []string
	for _, src := range srcs {
		files, _ := os.ReadDir(src)
		var keep []os.DirEntry
		ok := true
		for _, f := range files {
			if f.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(src, f.Name()))
			if err != nil {
				b.Fatal(err)
			}
			if strings.Contains(string(data), `"github.com/`) || strings.Contains(string(data), `"example.com/`) {
				ok = false
			}
			keep = append(keep, f)
		}
		if !ok || len(keep) == 0 {
			continue
		}
		rel, _ := filepath.Rel(filepath.Join("..", ".."), src)
		name := strings.ReplaceAll(strings.ReplaceAll(rel, string(filepath.Separator)+"testdata"+string(filepath.Separator)+"src", ""), string(filepath.Separator), "_")
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			b.Fatal(err)
		}
		hasGo := false
		for _, f := range keep {
			if strings.HasSuffix(f.Name(), ".golden") {
				continue
			}
			hasGo = hasGo || strings.HasSuffix(f.Name(), ".go")
			data, _ := os.ReadFile(filepath.Join(src, f.Name()))
			if err := os.WriteFile(filepath.Join(dst, f.Name()), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if hasGo {
			pkgs = append(pkgs, name)
		} else {
			os.RemoveAll(dst)
		}
	}
	if len(pkgs) == 0 {
		b.Fatal("no corpus packages")
	}
	return dir, pkgs
}

// touch rewrites one small file per package so that every package's
// content changes.
func touch(b *testing.B, dir string, pkgs []string, iter int) {
	for _, p := range pkgs {
		pkgName := packageName(b, filepath.Join(dir, p))
		src := fmt.Sprintf("package %s\n\nconst benchIteration = %d\n", pkgName, iter)
		if err := os.WriteFile(filepath.Join(dir, p, "zz_bench.go"), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func packageName(b *testing.B, dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "zz_bench.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "package "); ok {
				return strings.TrimSpace(name)
			}
		}
	}
	b.Fatalf("no package clause in %s", dir)
	return ""
}
