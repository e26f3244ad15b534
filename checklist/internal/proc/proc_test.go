package proc

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBuffer(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		writes []string
		want   string
	}{
		{"fits", 10, []string{"abc", "def"}, "abcdef"},
		{"unbounded", 0, []string{strings.Repeat("x", 100)}, strings.Repeat("x", 100)},
		{"head and tail", 6, []string{"abcdefghij"}, "abc\n... [4 bytes omitted] ...\nhij"},
		{"many small writes", 4, []string{"1", "2", "3", "4", "5", "6", "7"}, "12\n... [3 bytes omitted] ...\n67"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuffer(tt.limit)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		timeout  time.Duration
		wantCode int
		wantOut  string
		wantErr  bool
	}{
		{"exit code", []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, time.Minute, 7, "out\n", false},
		{"missing binary", []string{"/nonexistent"}, time.Minute, -1, "", true},
		{"killed on timeout", []string{"sh", "-c", "sleep 30 & sleep 30"}, 200 * time.Millisecond, -1, "", true},
		{"empty", nil, time.Minute, -1, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			out, err := Run(ctx, Cmd{Argv: tt.argv, Limit: 1024})
			if (err != nil) != tt.wantErr || out.ExitCode != tt.wantCode || out.Stdout != tt.wantOut {
				t.Fatalf("Run = %+v, %v", out, err)
			}
			// The grandchild holding the pipes must not keep Run waiting
			// for its 30 s.
			if time.Since(start) > 10*time.Second {
				t.Fatalf("Run took %s", time.Since(start))
			}
		})
	}
}
