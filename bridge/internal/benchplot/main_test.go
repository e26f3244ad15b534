package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestRender(t *testing.T) {
	tests := []struct {
		name, input string
		logY        bool
	}{
		{"four-counts", "testdata/bench.txt", true},
		{"four-counts-linear", "testdata/bench.txt", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.svg")
			if err := run([]string{tt.input}, out, "Bridge throughput", "test machine", tt.logY); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".svg.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("SVG differs from %s (run with -update to accept)", golden)
			}
		})
	}
}

func TestParse(t *testing.T) {
	res, err := parse(strings.NewReader(`goos: linux
BenchmarkPushVsCallback/producers=2-2 5 1 ns/op 10 push-ns/event 5 push-cpu-ns/event 40 callback-ns/event 3.5 x-callback
BenchmarkPushVsCallback/producers=2-2 5 1 ns/op 20 push-ns/event 50 callback-ns/event
BenchmarkOther 5 1 ns/op 99 push-ns/event
PASS
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := res["push"][2]; len(got) != 2 || got[0] != 10 || got[1] != 20 {
		t.Errorf("push at 2 producers = %v, want [10 20]", got)
	}
	if _, ok := res["push-cpu"]; ok {
		t.Error("cpu metrics were taken as a series")
	}
	if len(res) != 2 {
		t.Errorf("series %v, want push and callback", res)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"empty", "PASS\n", "no BenchmarkPushVsCallback results"},
		{"bad value", "BenchmarkPushVsCallback/producers=1-2 5 1 ns/op x push-ns/event\n", `bad value "x" for push-ns/event`},
		{"zero", "BenchmarkPushVsCallback/producers=1-2 5 1 ns/op 0 push-ns/event\n", `bad value "0"`},
		{"zero producers", "BenchmarkPushVsCallback/producers=0-2 5 1 ns/op 1 push-ns/event\n", "bad producer count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
